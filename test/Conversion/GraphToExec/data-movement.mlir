// RUN: dlc-opt %s -dlc-convert-graph-to-exec | FileCheck %s
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=OFF-STREAM
//
// On CUDA every one of these kernels is queued on its function's stream
// (the CUDA runtime has each of them); none runs off it.
// OFF-STREAM-NOT: exec.kernel "{{[a-zA-Z0-9]+}}" ins(
// CUDA-DAG: exec.kernel "copyRows" on %
// CUDA-DAG: exec.kernel "crop" on %
// CUDA-DAG: exec.kernel "pad" on %
// CUDA-DAG: exec.kernel "transpose" on %

// Concat copies each input's rows to its place in one result buffer (the
// second input starts 3 x 4 elements into each row); slice reads from an
// offset into its input.
// CHECK-LABEL: func.func @rows
// CHECK: %[[C:.+]] = exec.alloc : !exec.buffer<2x8x4xf32>
// CHECK: exec.kernel "copyRows" ins(%{{.+}} : !exec.buffer<2x3x4xf32>) outs(%[[C]] : {{.*}}) {args = [#exec.ptr<0>, 12, #exec.ptr<1>, 32, 2, 12]}
// CHECK: exec.kernel "copyRows" ins(%{{.+}} : !exec.buffer<2x5x4xf32>) outs(%[[C]] : {{.*}}) {args = [#exec.ptr<0>, 20, #exec.ptr<1, 12>, 32, 2, 20]}
// CHECK: exec.kernel "copyRows" ins(%[[C]] : {{.*}}) outs(%{{.+}} : !exec.buffer<2x5x4xf32>) {args = [#exec.ptr<0, 12>, 32, #exec.ptr<1>, 20, 2, 20]}
func.func @rows(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>) -> tensor<2x5x4xf32> {
  %c = graph.concat %x, %y {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
  %s = graph.slice %c {axis = 1 : i64, start = 3 : i64} : tensor<2x8x4xf32> -> tensor<2x5x4xf32>
  return %s : tensor<2x5x4xf32>
}

// CHECK-LABEL: func.func @copies
// CHECK: exec.kernel "transpose" {{.*}} {args = [#exec.ptr<0>, array<i64: 2, 3>, array<i64: 1, 0>, 2 : i32, #exec.ptr<1>]}
// CHECK: exec.kernel "pad" {{.*}} {args = [#exec.ptr<0>, array<i64: 2, 3>, 2 : i32, array<i64: 1, 0>, 0.000000e+00 : f32, #exec.ptr<1>, array<i64: 4, 3>]}
// CHECK: exec.kernel "crop" {{.*}} {args = [#exec.ptr<0>, array<i64: 4, 3>, 2 : i32, array<i64: 1, 0>, #exec.ptr<1>, array<i64: 2, 3>]}
func.func @copies(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2x3xf32>) {
  %t = graph.transpose %x {permutation = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  %p = graph.pad %x {low = array<i64: 1, 0>, high = array<i64: 1, 0>, value = 0.0 : f32} : tensor<2x3xf32> -> tensor<4x3xf32>
  %c = graph.crop %p {offsets = array<i64: 1, 0>} : tensor<4x3xf32> -> tensor<2x3xf32>
  return %t, %c : tensor<3x2xf32>, tensor<2x3xf32>
}
