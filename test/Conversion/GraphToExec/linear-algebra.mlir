// RUN: dlc-opt %s -dlc-convert-graph-to-exec | FileCheck %s
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=OFF-STREAM
//
// On CUDA every one of these kernels is queued on its function's stream
// (the CUDA runtime has each of them); none runs off it.
// OFF-STREAM-NOT: exec.kernel "{{[a-zA-Z0-9]+}}" ins(
// CUDA-DAG: exec.kernel "batchedGemm" on %
// CUDA-DAG: exec.kernel "broadcastScaled" on %
// CUDA-DAG: exec.kernel "gemm" on %

// A Gemm with a bias broadcasts the bias into its result first, then
// accumulates the product into it (beta 1).
// CHECK-LABEL: func.func @gemm
// CHECK: %[[Y:.+]] = exec.alloc : !exec.buffer<2x3xf32>
// CHECK: exec.kernel "broadcastScaled" ins(%{{.+}} : !exec.buffer<3xf32>) outs(%[[Y]] : {{.*}}) {args = [#exec.ptr<0>, array<i64: 0, 1>, 5.000000e-01 : f32, #exec.ptr<1>, array<i64: 2, 3>, 2 : i32]}
// On the CPU, oneDNN's sgemm keeps its own workspace: none is passed.
// CHECK: exec.kernel "gemm" {{.*}} outs(%[[Y]] : {{.*}}) {args = [true, false, 2, 3, 4, 2.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, 1.000000e+00 : f32, #exec.ptr<2>, #exec.null, 0]}
func.func @gemm(%a: tensor<4x2xf32>, %b: tensor<4x3xf32>, %c: tensor<3xf32>) -> tensor<2x3xf32> {
  %y = graph.gemm %a, %b, %c {trans_a, alpha = 2.0 : f32, beta = 0.5 : f32} : (tensor<4x2xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// N-D MatMul: element strides through the batch (0 where an operand
// broadcasts), a matrix apart.
// CHECK-LABEL: func.func @matmul
// CHECK: exec.kernel "batchedGemm" {{.*}} {args = [false, false, 3, 5, 4, #exec.ptr<0>, array<i64: 12>, #exec.ptr<1>, array<i64: 0>, #exec.ptr<2>, array<i64: 8>, 1 : i32]}
// CHECK: exec.kernel "batchedGemm" {{.*}} {args = [false, true, 3, 6, 4, #exec.ptr<0>, array<i64: 12>, #exec.ptr<1>, array<i64: 0>, #exec.ptr<2>, array<i64: 8>, 1 : i32]}
func.func @matmul(%a: tensor<8x3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<1x6x4xf32>) -> (tensor<8x3x5xf32>, tensor<8x3x6xf32>) {
  %p = graph.matmul %a, %b : (tensor<8x3x4xf32>, tensor<4x5xf32>) -> tensor<8x3x5xf32>
  %q = graph.matmul %a, %c {trans_b} : (tensor<8x3x4xf32>, tensor<1x6x4xf32>) -> tensor<8x3x6xf32>
  return %p, %q : tensor<8x3x5xf32>, tensor<8x3x6xf32>
}
