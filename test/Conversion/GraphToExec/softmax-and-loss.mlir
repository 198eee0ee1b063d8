// RUN: dlc-opt %s -dlc-convert-graph-to-exec | FileCheck %s
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=OFF-STREAM
//
// On CUDA every one of these kernels is queued on its function's stream
// (the CUDA runtime has each of them); none runs off it.
// OFF-STREAM-NOT: exec.kernel "{{[a-zA-Z0-9]+}}" ins(
// CUDA-DAG: exec.kernel "logSoftmax" on %
// CUDA-DAG: exec.kernel "logSoftmaxGrad" on %
// CUDA-DAG: exec.kernel "mseLoss" on %
// CUDA-DAG: exec.kernel "mseLossGrad" on %
// CUDA-DAG: exec.kernel "softmax" on %
// CUDA-DAG: exec.kernel "softmaxCrossEntropy" on %
// CUDA-DAG: exec.kernel "softmaxCrossEntropyGrad" on %
// CUDA-DAG: exec.kernel "softmaxGrad" on %

// Softmax along an axis is (outer, extent, inner); the losses take
// (rows, classes).
// CHECK-LABEL: func.func @softmax
// CHECK: exec.kernel "softmax" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, 2, 3, 4]}
// CHECK: exec.kernel "logSoftmax" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, 6, 4, 1]}
// CHECK: exec.kernel "softmaxGrad" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, 2, 3, 4]}
// CHECK: exec.kernel "logSoftmaxGrad" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, 6, 4, 1]}
func.func @softmax(%x: tensor<2x3x4xf32>, %dy: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %s = graph.softmax %x {axis = 1 : i64} : tensor<2x3x4xf32>
  %l = graph.log_softmax %x {axis = -1 : i64} : tensor<2x3x4xf32>
  %ds = graph.softmax_grad %dy, %s {axis = 1 : i64} : tensor<2x3x4xf32>
  %dl = graph.log_softmax_grad %dy, %l {axis = -1 : i64} : tensor<2x3x4xf32>
  return %ds, %dl : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// CHECK-LABEL: func.func @losses
// CHECK: exec.kernel "softmaxCrossEntropy" ins(%{{.+}}, %{{.+}} : !exec.buffer<4x10xf32>, !exec.buffer<4xi32>) outs(%{{.+}} : !exec.buffer<f32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, 4, 10]}
// CHECK: exec.kernel "softmaxCrossEntropyGrad" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, 4, 10]}
// CHECK: exec.kernel "mseLoss" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, 4, 10]}
// CHECK: exec.kernel "mseLossGrad" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, 4, 10]}
func.func @losses(%x: tensor<4x10xf32>, %labels: tensor<4xi32>) -> (tensor<4x10xf32>, tensor<4x10xf32>) {
  %l = graph.softmax_cross_entropy %x, %labels : tensor<4x10xf32>, tensor<4xi32>
  %dl = graph.softmax_cross_entropy_grad %x, %labels, %l : tensor<4x10xf32>, tensor<4xi32>
  %m = graph.mse_loss %x, %labels : tensor<4x10xf32>, tensor<4xi32>
  %dm = graph.mse_loss_grad %x, %labels, %m : tensor<4x10xf32>, tensor<4xi32>
  return %dl, %dm : tensor<4x10xf32>, tensor<4x10xf32>
}
