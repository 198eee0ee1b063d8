// RUN: dlc-opt %s -dlc-convert-graph-to-exec | FileCheck %s
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=CUDA

// Training-form batch norm: one kernel, a buffer for each result; the
// geometry is N x C x spatial (2 x 3 x 4). The gradient's scratch holds
// cuDNN's inverse standard deviations (3 floats); on the CPU oneDNN's need
// replaces it.
// CHECK-LABEL: func.func @batch_norm
// CHECK: %[[Y:.+]] = exec.alloc : !exec.buffer<2x3x2x2xf32>
// CHECK: %[[M:.+]] = exec.alloc : !exec.buffer<3xf32>
// CHECK: %[[V:.+]] = exec.alloc : !exec.buffer<3xf32>
// CHECK: exec.kernel "batchNormTraining" ins({{.*}}) outs(%[[Y]], %[[M]], %[[V]] : {{.*}}) {args = [#exec.struct<"BatchNormGeometry", [2, 3, 4]>, 1.000000e-03 : f32, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, #exec.ptr<4>, #exec.ptr<5>, #exec.null, 0]}
// CHECK: exec.kernel "batchNormTrainingGrad" ins(%[[Y]], %{{.+}}, %{{.+}}, %[[M]], %[[V]] : {{.*}}) {args = [#exec.struct<"BatchNormGeometry", [2, 3, 4]>, 1.000000e-03 : f32, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, #exec.ptr<4>, #exec.ptr<5>, #exec.ptr<6>, #exec.ptr<7>, #exec.ptr<8>, 12], reusable = array<i64: 0>}
// On CUDA the same kernels, queued on the step's stream (cuDNN's batch
// norm and LRN).
// CUDA-LABEL: func.func @batch_norm
// CUDA: exec.kernel "batchNormTraining" on %{{.+}}
// CUDA: exec.kernel "batchNormTrainingGrad" on %{{.+}}
// CUDA-LABEL: func.func @batch_norm_inference
// CUDA: exec.kernel "batchNormInference" on %{{.+}}
// CUDA-LABEL: func.func @lrn
// CUDA: exec.kernel "lrn" on %{{.+}}
// CUDA: exec.kernel "lrnGrad" on %{{.+}}
func.func @batch_norm(%x: tensor<2x3x2x2xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<2x3x2x2xf32> {
  %y, %m, %v = graph.batch_norm_train %x, %s, %b {epsilon = 1.0e-03 : f32} : tensor<2x3x2x2xf32>, tensor<3xf32>
  %dx, %ds, %db = graph.batch_norm_grad %y, %x, %s, %m, %v {epsilon = 1.0e-03 : f32} : tensor<2x3x2x2xf32>, tensor<3xf32>
  return %dx : tensor<2x3x2x2xf32>
}

// Inference-form batch norm: one kernel, the given statistics as inputs.
// CHECK-LABEL: func.func @batch_norm_inference
// CHECK: exec.kernel "batchNormInference" {{.*}} {args = [#exec.struct<"BatchNormGeometry", [2, 3, 4]>, 1.000000e-03 : f32, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, #exec.ptr<4>, #exec.ptr<5>, #exec.null, 0]}
func.func @batch_norm_inference(%x: tensor<2x3x2x2xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x2x2xf32> {
  %y = graph.batch_norm_inference %x, %s, %b, %m, %v {epsilon = 1.0e-03 : f32} : tensor<2x3x2x2xf32>, tensor<3xf32>
  return %y : tensor<2x3x2x2xf32>
}

// LRN: (inputs, output, N, C, spatial, size, alpha, beta, bias).
// CHECK-LABEL: func.func @lrn
// CHECK: exec.kernel "lrn" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, 2, 3, 16, 5, 9.99999974E-5 : f32, 7.500000e-01 : f32, 2.000000e+00 : f32]}
// CHECK: exec.kernel "lrnGrad" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, 2, 3, 16, 5, 9.99999974E-5 : f32, 7.500000e-01 : f32, 2.000000e+00 : f32]}
func.func @lrn(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  %n = graph.lrn %x {size = 5 : i64, alpha = 1.0e-04 : f32, beta = 0.75 : f32, bias = 2.0 : f32} : tensor<2x3x4x4xf32>
  %d = graph.lrn_grad %n, %x, %n {size = 5 : i64, alpha = 1.0e-04 : f32, beta = 0.75 : f32, bias = 2.0 : f32} : tensor<2x3x4x4xf32>
  return %d : tensor<2x3x4x4xf32>
}
