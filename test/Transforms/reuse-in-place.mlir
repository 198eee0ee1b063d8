// RUN: dlc-opt %s -dlc-reuse-in-place | FileCheck %s

// A chain of elementwise kernels over buffers that die at each step runs
// in one buffer: relu writes over %a (its allocation goes away), and the
// gradient writes over %dy, not over the relu output, which is read later.
// CHECK-LABEL: func.func @chain
// CHECK: %[[A:.+]] = exec.alloc : !exec.buffer<64xf32>
// CHECK-NEXT: exec.kernel "fill" outs(%[[A]]
// CHECK-NEXT: exec.kernel "activation" ins(%[[A]] : !exec.buffer<64xf32>) outs(%[[A]] : !exec.buffer<64xf32>) {in_place = array<i64: 0>, reusable = array<i64: 0>}
// CHECK-NEXT: %[[DY:.+]] = exec.alloc : !exec.buffer<64xf32>
// CHECK-NEXT: exec.kernel "fill" outs(%[[DY]]
// CHECK-NEXT: exec.kernel "activationGrad" ins(%[[DY]], %[[A]] : {{.*}}) outs(%[[DY]] : !exec.buffer<64xf32>) {in_place = array<i64: 0>, reusable = array<i64: 0, 1>}
// CHECK-NEXT: exec.alloc : !exec.buffer<1xf32>
// CHECK-NEXT: exec.kernel "sum" ins(%[[DY]], %[[A]] :
func.func @chain() -> !exec.buffer<1xf32> {
  %a = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "fill" outs(%a : !exec.buffer<64xf32>)
  %r = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "activation" ins(%a : !exec.buffer<64xf32>) outs(%r : !exec.buffer<64xf32>) {reusable = array<i64: 0>}
  %dy = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "fill" outs(%dy : !exec.buffer<64xf32>)
  %dx = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "activationGrad" ins(%dy, %r : !exec.buffer<64xf32>, !exec.buffer<64xf32>) outs(%dx : !exec.buffer<64xf32>) {reusable = array<i64: 0, 1>}
  %s = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "sum" ins(%dx, %r : !exec.buffer<64xf32>, !exec.buffer<64xf32>) outs(%s : !exec.buffer<1xf32>)
  return %s : !exec.buffer<1xf32>
}

// Nothing is reused when the input is read later (%a, by the sum), is the
// function's argument, has another type (the broadcast %bias), or the
// input is not reusable (the copy). (A buffer a collective works on
// cannot be read before its wait: the verifier refuses that.)
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-7: exec.alloc
// CHECK-NOT: in_place
// CHECK: return
func.func @kept(%arg: !exec.buffer<64xf32>) -> !exec.buffer<1xf32> {
  %a = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "fill" outs(%a : !exec.buffer<64xf32>)
  %b = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "activation" ins(%a : !exec.buffer<64xf32>) outs(%b : !exec.buffer<64xf32>) {reusable = array<i64: 0>}
  %c = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "activation" ins(%arg : !exec.buffer<64xf32>) outs(%c : !exec.buffer<64xf32>) {reusable = array<i64: 0>}
  %bias = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "fill" outs(%bias : !exec.buffer<1xf32>)
  %d = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "binary" ins(%a, %bias : !exec.buffer<64xf32>, !exec.buffer<1xf32>) outs(%d : !exec.buffer<64xf32>) {reusable = array<i64: 0, 1>}
  %f = exec.alloc : !exec.buffer<64xf32>
  exec.kernel "copy" ins(%c : !exec.buffer<64xf32>) outs(%f : !exec.buffer<64xf32>)
  %s = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "sum" ins(%a, %b, %d, %f : !exec.buffer<64xf32>, !exec.buffer<64xf32>, !exec.buffer<64xf32>, !exec.buffer<64xf32>) outs(%s : !exec.buffer<1xf32>)
  return %s : !exec.buffer<1xf32>
}

// Only the inputs a kernel lists as reusable are taken: batch norm's
// gradient writes its data gradient over the output gradient %dy, never
// over the normalized input %x, though both die there.
// CHECK-LABEL: func.func @listed_only
// CHECK: %[[X:.+]] = exec.alloc : !exec.buffer<2x3x4xf32>
// CHECK: %[[DY:.+]] = exec.alloc : !exec.buffer<2x3x4xf32>
// CHECK: exec.kernel "batchNormTrainingGrad" ins(%[[DY]], %[[X]], {{.*}}) outs(%[[DY]], %{{.+}}, %{{.+}} : {{.*}}) {in_place = array<i64: 0, -1, -1>, reusable = array<i64: 0>}
func.func @listed_only(%scale: !exec.buffer<3xf32>) -> (!exec.buffer<2x3x4xf32>, !exec.buffer<3xf32>, !exec.buffer<3xf32>) {
  %x = exec.alloc : !exec.buffer<2x3x4xf32>
  exec.kernel "fill" outs(%x : !exec.buffer<2x3x4xf32>)
  %dy = exec.alloc : !exec.buffer<2x3x4xf32>
  exec.kernel "fill" outs(%dy : !exec.buffer<2x3x4xf32>)
  %dx = exec.alloc : !exec.buffer<2x3x4xf32>
  %ds = exec.alloc : !exec.buffer<3xf32>
  %db = exec.alloc : !exec.buffer<3xf32>
  exec.kernel "batchNormTrainingGrad" ins(%dy, %x, %scale : !exec.buffer<2x3x4xf32>, !exec.buffer<2x3x4xf32>, !exec.buffer<3xf32>) outs(%dx, %ds, %db : !exec.buffer<2x3x4xf32>, !exec.buffer<3xf32>, !exec.buffer<3xf32>) {reusable = array<i64: 0>}
  return %dx, %ds, %db : !exec.buffer<2x3x4xf32>, !exec.buffer<3xf32>, !exec.buffer<3xf32>
}
