// RUN: dlc-opt %s -dlc-poison-freed | FileCheck %s

// Each allocation is poisoned right after the operation that last touches
// it: %a after the second kernel reads it, %g after the wait of the
// collective on it (not after the start). The argument and the returned
// buffer are left alone.
// CHECK-LABEL: func.func @step
// CHECK: exec.kernel "second" ins(%[[A:[^ ]+]] :
// CHECK-NEXT: exec.kernel "poison" outs(%[[A]] : !exec.buffer<16xf32>) {args = [#exec.ptr<0>, 64]}
// CHECK: %[[T:.+]] = exec.allreduce_start %[[G:[^ ]+]]
// CHECK-NEXT: exec.wait %[[T]]
// CHECK-NEXT: exec.kernel "poison" outs(%[[G]] : !exec.buffer<8xf32>) {args = [#exec.ptr<0>, 32]}
// CHECK-NEXT: return
func.func @step(%x: !exec.buffer<16xf32>) -> !exec.buffer<16xf32> {
  %a = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "first" ins(%x : !exec.buffer<16xf32>) outs(%a : !exec.buffer<16xf32>)
  %b = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "second" ins(%a : !exec.buffer<16xf32>) outs(%b : !exec.buffer<16xf32>)
  %g = exec.alloc : !exec.buffer<8xf32>
  exec.kernel "third" outs(%g : !exec.buffer<8xf32>)
  %t = exec.allreduce_start %g : !exec.buffer<8xf32>
  exec.wait %t
  return %b : !exec.buffer<16xf32>
}
