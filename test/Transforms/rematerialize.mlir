// RUN: dlc-opt %s -dlc-rematerialize=budget=5500 | FileCheck %s
// RUN: dlc-opt %s -dlc-rematerialize=budget=5500 -dlc-plan-memory=budget=5500 | FileCheck %s --check-prefix=PLAN
// RUN: not dlc-opt %s -dlc-rematerialize=budget=4000 -dlc-plan-memory=budget=4000 2>&1 | FileCheck %s --check-prefix=ERR

// %a (1 KiB, an activation of the argument) is kept from the forward pass
// for a use after the peak (the 4 KiB %big): 6272 bytes live there. With a
// budget of 5500, %a is dropped after the peak's side and recomputed by a
// copy of its kernel just before its late use, from the argument, which
// is live there anyway: the peak is 5248 bytes, and 256 operations are
// added.
// CHECK: module attributes {dlc.recomputed_flops = 256 : i64}
// CHECK-LABEL: func.func @step
// CHECK: %[[A:.+]] = exec.alloc : !exec.buffer<256xf32>
// CHECK-NEXT: exec.kernel "activation" ins(%{{.+}} : !exec.buffer<256xf32>) outs(%[[A]] :
// CHECK: exec.kernel "early" ins(%[[A]] :
// CHECK: exec.kernel "sum" ins(%[[BIG:.+]] :
// CHECK: %[[COPY:.+]] = exec.alloc : !exec.buffer<256xf32>
// CHECK-NEXT: exec.kernel "activation" ins(%{{.+}} : !exec.buffer<256xf32>) outs(%[[COPY]] :
// CHECK-NEXT: exec.kernel "late" ins(%[[COPY]], %arg0,

// PLAN: dlc.arena_size = 5248

// A budget below what recomputation reaches is refused once placed, with
// the smallest arena reached.
// ERR: error: --memory-budget=4000: the smallest arena dlc reaches is 5248 bytes (0 of them parameters and optimizer state, recomputing 256 operations a step); raise the budget or lower --batch
func.func @step(%x: !exec.buffer<256xf32>) -> !exec.buffer<1xf32> {
  %a = exec.alloc : !exec.buffer<256xf32>
  exec.kernel "activation" ins(%x : !exec.buffer<256xf32>) outs(%a : !exec.buffer<256xf32>)
  %e = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "early" ins(%a : !exec.buffer<256xf32>) outs(%e : !exec.buffer<1xf32>)
  %big = exec.alloc : !exec.buffer<1024xf32>
  exec.kernel "expand" ins(%x : !exec.buffer<256xf32>) outs(%big : !exec.buffer<1024xf32>)
  %s = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "sum" ins(%big : !exec.buffer<1024xf32>) outs(%s : !exec.buffer<1xf32>)
  %o = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "late" ins(%a, %x, %s, %e : !exec.buffer<256xf32>, !exec.buffer<256xf32>, !exec.buffer<1xf32>, !exec.buffer<1xf32>) outs(%o : !exec.buffer<1xf32>)
  return %o : !exec.buffer<1xf32>
}
