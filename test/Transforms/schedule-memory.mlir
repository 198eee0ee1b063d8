// RUN: dlc-opt %s -dlc-schedule-memory | FileCheck %s

exec.global @w1 : !exec.buffer<1024xf32>
exec.global @w2 : !exec.buffer<1024xf32>

// Two layers with 4 KiB weights and small activations. As given, both
// weight gradients are live at once (8 KiB) before the updates at the end.
// The list schedule by bytes freed and the depth-first schedule both reduce
// and apply dw2 as soon as the data gradient has read the old w2, so dw1
// can take dw2's bytes: one weight gradient at a time (4416 and 4352 bytes
// against 8384). The depth-first one, lowest, is kept: each update right
// after its gradient. The forward pass keeps its order; allocations move
// to their first user.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: dlc.schedule = {chosen = "depth first", peak_bytes = {"bytes freed" = 4416 : i64, "depth first" = 4352 : i64, given = 8384 : i64}}
// CHECK: exec.kernel "layer1"
// CHECK: exec.kernel "layer2"
// CHECK: exec.kernel "loss"
// CHECK: exec.kernel "lossGrad"
// CHECK: exec.kernel "weightGrad2"
// CHECK: exec.allreduce_start
// CHECK: exec.wait
// CHECK: exec.kernel "dataGrad2"
// CHECK: exec.kernel "sgd" ins(%{{.+}}, %[[DW2:.+]] :
// CHECK: %[[DW1:.+]] = exec.alloc : !exec.buffer<1024xf32>
// CHECK: exec.kernel "weightGrad1"
// CHECK: exec.allreduce_start %[[DW1]]
// CHECK: exec.wait
// CHECK: exec.kernel "sgd"
// CHECK: return
func.func @train_step(%x: !exec.buffer<16xf32>, %labels: !exec.buffer<16xf32>) -> !exec.buffer<1xf32> {
  %w1 = exec.global_ref @w1 : !exec.buffer<1024xf32>
  %w2 = exec.global_ref @w2 : !exec.buffer<1024xf32>
  %h = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "layer1" ins(%x, %w1 : !exec.buffer<16xf32>, !exec.buffer<1024xf32>) outs(%h : !exec.buffer<16xf32>)
  %y = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "layer2" ins(%h, %w2 : !exec.buffer<16xf32>, !exec.buffer<1024xf32>) outs(%y : !exec.buffer<16xf32>)
  %loss = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "loss" ins(%y, %labels : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%loss : !exec.buffer<1xf32>)
  %dy = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "lossGrad" ins(%y, %labels : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%dy : !exec.buffer<16xf32>)
  %dw2 = exec.alloc : !exec.buffer<1024xf32>
  exec.kernel "weightGrad2" ins(%dy, %h : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%dw2 : !exec.buffer<1024xf32>)
  %dh = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "dataGrad2" ins(%dy, %w2 : !exec.buffer<16xf32>, !exec.buffer<1024xf32>) outs(%dh : !exec.buffer<16xf32>)
  %dw1 = exec.alloc : !exec.buffer<1024xf32>
  exec.kernel "weightGrad1" ins(%dh, %x : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%dw1 : !exec.buffer<1024xf32>)
  %t2 = exec.allreduce_start %dw2 : !exec.buffer<1024xf32>
  exec.wait %t2
  exec.kernel "sgd" ins(%w2, %dw2 : !exec.buffer<1024xf32>, !exec.buffer<1024xf32>) outs(%w2 : !exec.buffer<1024xf32>) {in_place = array<i64: 0>}
  %t1 = exec.allreduce_start %dw1 : !exec.buffer<1024xf32>
  exec.wait %t1
  exec.kernel "sgd" ins(%w1, %dw1 : !exec.buffer<1024xf32>, !exec.buffer<1024xf32>) outs(%w1 : !exec.buffer<1024xf32>) {in_place = array<i64: 0>}
  return %loss : !exec.buffer<1xf32>
}

// A parameter's update waits for every reader of the old weights: here
// the data gradient reads w2 after the weight gradient, so the update of
// w2 cannot move above it, whatever it would free.
// CHECK-LABEL: func.func @update_after_readers
// CHECK-DAG: exec.kernel "weightGrad2"
// CHECK-DAG: exec.kernel "dataGrad2"
// CHECK: exec.kernel "sgd"
func.func @update_after_readers(%dy: !exec.buffer<16xf32>, %h: !exec.buffer<16xf32>) -> !exec.buffer<16xf32> {
  %w2 = exec.global_ref @w2 : !exec.buffer<1024xf32>
  %dw2 = exec.alloc : !exec.buffer<1024xf32>
  exec.kernel "weightGrad2" ins(%dy, %h : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%dw2 : !exec.buffer<1024xf32>)
  %w2again = exec.global_ref @w2 : !exec.buffer<1024xf32>
  %dh = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "dataGrad2" ins(%dy, %w2again : !exec.buffer<16xf32>, !exec.buffer<1024xf32>) outs(%dh : !exec.buffer<16xf32>)
  exec.kernel "sgd" ins(%w2, %dw2 : !exec.buffer<1024xf32>, !exec.buffer<1024xf32>) outs(%w2 : !exec.buffer<1024xf32>) {in_place = array<i64: 0>}
  return %dh : !exec.buffer<16xf32>
}
