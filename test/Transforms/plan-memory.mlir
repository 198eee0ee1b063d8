// RUN: dlc-opt %s -dlc-plan-memory | FileCheck %s

// Variables first, 64-byte aligned: 12 floats -> 64 bytes, 3 floats -> 64.
// CHECK: module attributes {dlc.arena_size = [[SIZE:[0-9]+]] : i64}
// CHECK: graph.variable @w {dlc.offset = 0 : i64}
// CHECK: graph.variable @b {dlc.offset = 64 : i64}
graph.variable @w : tensor<3x4xf32>
graph.variable @b : tensor<3xf32>

// Scratch starts at 128. The argument lives until its last use (%y), so %y
// gets the next slot; %r reuses the argument's slot once it is dead; the
// reshape is a view of %r; %s reuses %y's slot.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: dlc.arg_offsets = [128]
// CHECK: graph.load @w {dlc.offset = 0 : i64}
// CHECK: graph.gemm {{.*}}dlc.offset = 192 : i64
// CHECK: graph.relu {{.*}}dlc.offset = 128 : i64
// CHECK: graph.reshape {{.*}}dlc.offset = 128 : i64
// CHECK: graph.relu {{.*}}dlc.offset = 192 : i64
func.func @forward(%x: tensor<2x4xf32>) -> tensor<6xf32> {
  %w = graph.load @w : tensor<3x4xf32>
  %y = graph.gemm %x, %w {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %r = graph.relu %y : tensor<2x3xf32>
  %f = graph.reshape %r : tensor<2x3xf32> -> tensor<6xf32>
  %s = graph.relu %f : tensor<6xf32>
  return %s : tensor<6xf32>
}

// Each result of a multi-result op gets its own slot, listed in
// dlc.result_offsets (48 floats -> 192 bytes, 3 floats -> 64), after the
// arguments' slots; the relu reuses %x's slot once the op has read it.
// CHECK-LABEL: func.func @batch_norm
// CHECK-SAME: dlc.arg_offsets = [128, 320, 384]
// CHECK: graph.batch_norm_train {{.*}}dlc.result_offsets = [448, 640, 704]
// CHECK: graph.relu {{.*}}dlc.offset = 128 : i64
func.func @batch_norm(%x: tensor<4x3x2x2xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<4x3x2x2xf32> {
  %y, %m, %v = graph.batch_norm_train %x, %s, %b {epsilon = 1.0e-05 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>
  %r = graph.relu %y : tensor<4x3x2x2xf32>
  return %r : tensor<4x3x2x2xf32>
}
