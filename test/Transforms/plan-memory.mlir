// RUN: dlc-opt %s -dlc-plan-memory | FileCheck %s

// Globals first, 64-byte aligned: 12 floats -> 64 bytes, 3 floats -> 64.
// CHECK: module attributes {dlc.arena_size = [[SIZE:[0-9]+]] : i64}
// CHECK: exec.global @w {offset = 0 : i64}
// CHECK: exec.global @b {offset = 64 : i64}
exec.global @w : !exec.buffer<3x4xf32>
exec.global @b : !exec.buffer<3xf32>

// Scratch starts at 128. The argument lives until its last use (the gemm),
// so %y gets the next slot; %r reuses the argument's slot once it is dead;
// the view is %r's bytes, so %s cannot reuse them before the view's last
// use, and takes %y's.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: dlc.arg_offsets = [128]
// CHECK: exec.alloc {offset = 192 : i64} : !exec.buffer<2x3xf32>
// CHECK: exec.alloc {offset = 128 : i64} : !exec.buffer<2x3xf32>
// CHECK: exec.alloc {offset = 192 : i64} : !exec.buffer<6xf32>
func.func @forward(%x: !exec.buffer<2x4xf32>) -> !exec.buffer<6xf32> {
  %w = exec.global_ref @w : !exec.buffer<3x4xf32>
  %y = exec.alloc : !exec.buffer<2x3xf32>
  exec.kernel "gemm" ins(%x, %w : !exec.buffer<2x4xf32>, !exec.buffer<3x4xf32>) outs(%y : !exec.buffer<2x3xf32>)
  %r = exec.alloc : !exec.buffer<2x3xf32>
  exec.kernel "relu" ins(%y : !exec.buffer<2x3xf32>) outs(%r : !exec.buffer<2x3xf32>)
  %f = exec.view %r : !exec.buffer<2x3xf32> -> !exec.buffer<6xf32>
  %s = exec.alloc : !exec.buffer<6xf32>
  exec.kernel "relu" ins(%f : !exec.buffer<6xf32>) outs(%s : !exec.buffer<6xf32>)
  return %s : !exec.buffer<6xf32>
}

// A buffer a collective works on stays live until the wait: %t cannot take
// %g's bytes while the allreduce may still write them, and %u can once the
// wait has passed.
// CHECK-LABEL: func.func @collective
// CHECK: exec.alloc {offset = 128 : i64} : !exec.buffer<16xf32>
// CHECK: exec.alloc {offset = 192 : i64} : !exec.buffer<16xf32>
// CHECK: exec.alloc {offset = 128 : i64} : !exec.buffer<16xf32>
func.func @collective() {
  %g = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "fill" outs(%g : !exec.buffer<16xf32>)
  %token = exec.allreduce_start %g : !exec.buffer<16xf32>
  %t = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "fill" outs(%t : !exec.buffer<16xf32>)
  exec.wait %token
  %u = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "fill" outs(%u : !exec.buffer<16xf32>)
  return
}
