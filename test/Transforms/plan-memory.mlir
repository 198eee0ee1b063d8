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

// Placing by start wastes bytes here: %x (64 bytes) takes the first slot,
// %y (128) goes above it, and %z (128, live with %y but not with %x) does
// not fit in %x's 64 bytes, so it would go on top: 320 bytes. The largest
// first gives the peak, 256: %y at the bottom, %z above it, %x in %z's
// bytes, since the two are never live together.
// CHECK-LABEL: func.func @largest_first
// CHECK: exec.alloc {offset = 256 : i64} : !exec.buffer<16xf32>
// CHECK: exec.alloc {offset = 128 : i64} : !exec.buffer<32xf32>
// CHECK: exec.alloc {offset = 256 : i64} : !exec.buffer<32xf32>
func.func @largest_first() {
  %x = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "fill" outs(%x : !exec.buffer<16xf32>)
  %y = exec.alloc : !exec.buffer<32xf32>
  exec.kernel "expand" ins(%x : !exec.buffer<16xf32>) outs(%y : !exec.buffer<32xf32>)
  %z = exec.alloc : !exec.buffer<32xf32>
  exec.kernel "copy" ins(%y : !exec.buffer<32xf32>) outs(%z : !exec.buffer<32xf32>)
  return
}

// A gradient carried into the next step (exec.carried) holds data from
// the step's start to its exec.carried and from its production to the
// end, and no longer in between. Two buffers are live at every position
// (%c with the carried average, %a1 and %a2 in the gap, %b with the new
// gradient), so two 64-byte slots hold the step only if one of %a1 and
// %a2 takes the gradient's bytes.
// CHECK-LABEL: func.func @carried
// CHECK-NOT: offset = 256
// CHECK: return
func.func @carried() {
  %w = exec.global_ref @w : !exec.buffer<3x4xf32>
  %g = exec.alloc : !exec.buffer<16xf32>
  %c = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "fill" outs(%c : !exec.buffer<16xf32>)
  exec.carried %g : !exec.buffer<16xf32> {
    exec.kernel "sgd" ins(%w, %g : !exec.buffer<3x4xf32>, !exec.buffer<16xf32>) outs(%w : !exec.buffer<3x4xf32>) {in_place = array<i64: 0>}
  }
  exec.kernel "use" ins(%c : !exec.buffer<16xf32>)
  %a1 = exec.alloc : !exec.buffer<16xf32>
  %a2 = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "fill" outs(%a1 : !exec.buffer<16xf32>)
  exec.kernel "fill" outs(%a2 : !exec.buffer<16xf32>)
  exec.kernel "use" ins(%a1, %a2 : !exec.buffer<16xf32>, !exec.buffer<16xf32>)
  %b = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "fill" outs(%b : !exec.buffer<16xf32>)
  exec.kernel "grad" ins(%b : !exec.buffer<16xf32>) outs(%g : !exec.buffer<16xf32>)
  %t = exec.allreduce_start %g : !exec.buffer<16xf32>
  return
}
