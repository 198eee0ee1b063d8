// RUN: dlc-opt %s -dlc-schedule-collectives | FileCheck %s
// RUN: dlc-opt %s -dlc-schedule-collectives=overlap=none | FileCheck %s --check-prefix=NONE
// RUN: dlc-opt %s -dlc-schedule-collectives=defer=false | FileCheck %s --check-prefix=NODEFER
// RUN: dlc-opt %s -dlc-schedule-collectives=overlap=backward-late | FileCheck %s --check-prefix=LATE
// RUN: dlc-opt %s -dlc-schedule-collectives="overlap=next-forward comm-alpha-us=0" | FileCheck %s --check-prefix=NEXT
// RUN: dlc-opt %s -dlc-schedule-collectives="overlap=next-forward comm-alpha-us=50 comm-gbit=10" | FileCheck %s --check-prefix=BUCKET
// RUN: dlc-opt %s -dlc-schedule-collectives="overlap=next-forward runtime-buckets=true region-bytes=1048640" | FileCheck %s --check-prefix=RUNTIME
// RUN: dlc-opt %s -dlc-schedule-collectives="overlap=next-forward runtime-buckets=true" | FileCheck %s --check-prefix=DEFAULTREGION
// RUN: dlc-opt %s -dlc-schedule-collectives="overlap=next-forward comm-alpha-us=0" | FileCheck %s --check-prefix=HOIST
// RUN: dlc-opt %s -dlc-schedule-collectives="overlap=next-forward comm-alpha-us=0 hoist=false" | FileCheck %s --check-prefix=NOHOIST
// RUN: dlc-opt %s -dlc-schedule-collectives="overlap=next-forward comm-alpha-us=0 hoist-peak-growth=0" | FileCheck %s --check-prefix=NOGROWTH
// RUN: not dlc-opt %s -dlc-schedule-collectives=overlap=sideways 2>&1 | FileCheck %s --check-prefix=BAD

exec.global @w1 : !exec.buffer<1024xf32>
exec.global @w2 : !exec.buffer<1024xf32>
exec.global @wa : !exec.buffer<262144xf32>
exec.global @wb : !exec.buffer<16xf32>
exec.global @wc : !exec.buffer<16xf32>

// Two layers' backward pass as the memory schedule might leave it: both
// allreduces started late, each waited for at once. overlap=backward
// starts dw2's as soon as weightGrad2 has written it and waits for it just
// before its update, so that dataGrad2 and weightGrad1 run meanwhile;
// dw1's starts right after weightGrad1. Nothing else moves.
// CHECK-LABEL: func.func @train_step
// CHECK: exec.kernel "lossGrad"
// CHECK: exec.kernel "weightGrad2"
// CHECK-NEXT: %[[T2:.+]] = exec.allreduce_start %[[DW2:.+]] :
// CHECK: exec.kernel "dataGrad2"
// CHECK: exec.kernel "weightGrad1"
// CHECK-NEXT: %[[T1:.+]] = exec.allreduce_start
// CHECK-NEXT: exec.wait %[[T2]]
// CHECK-NEXT: exec.kernel "sgd" ins(%{{.+}}, %[[DW2]] :
// CHECK-NEXT: exec.wait %[[T1]]
// CHECK-NEXT: exec.kernel "sgd"
// CHECK-NEXT: return
// overlap=none: each wait right after its start, where the starts were.
// NONE-LABEL: func.func @train_step
// NONE: exec.kernel "weightGrad1"
// NONE-NEXT: %[[T2:.+]] = exec.allreduce_start
// NONE-NEXT: exec.wait %[[T2]]
// NONE-NEXT: %[[T1:.+]] = exec.allreduce_start
// NONE-NEXT: exec.wait %[[T1]]
// NONE-NEXT: exec.kernel "sgd"
// NONE-NEXT: exec.kernel "sgd"
// overlap=next-forward: no wait is left in the step. Each update becomes
// an exec.carried of its gradient just before the first kernel that reads
// its weights (the next step's forward of that layer); the starts stay
// right after the gradients, and their averages stay in flight past the
// end of the step.
// NEXT-LABEL: func.func @train_step
// NEXT-NOT: exec.wait
// NEXT: exec.carried %[[DW1:[^ ]+]] : !exec.buffer<1024xf32> {
// NEXT-NEXT: exec.kernel "sgd" ins(%{{.+}}, %[[DW1]] :
// NEXT-NEXT: {{^ *}}}
// NEXT-NEXT: exec.kernel "layer1"
// NEXT: exec.carried %[[DW2:[^ ]+]] : !exec.buffer<1024xf32> {
// NEXT-NEXT: exec.kernel "sgd" ins(%{{.+}}, %[[DW2]] :
// NEXT-NEXT: {{^ *}}}
// NEXT-NEXT: exec.kernel "layer2"
// NEXT: exec.kernel "weightGrad2"
// NEXT-NEXT: exec.allreduce_start %[[DW2]]
// NEXT: exec.kernel "weightGrad1"
// NEXT-NEXT: exec.allreduce_start %[[DW1]]
// NEXT-NEXT: return
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
  %t1 = exec.allreduce_start %dw1 : !exec.buffer<1024xf32>
  exec.wait %t1
  exec.kernel "sgd" ins(%w2, %dw2 : !exec.buffer<1024xf32>, !exec.buffer<1024xf32>) outs(%w2 : !exec.buffer<1024xf32>) {in_place = array<i64: 0>}
  exec.kernel "sgd" ins(%w1, %dw1 : !exec.buffer<1024xf32>, !exec.buffer<1024xf32>) outs(%w1 : !exec.buffer<1024xf32>) {in_place = array<i64: 0>}
  return %loss : !exec.buffer<1xf32>
}

// A wait and its update go on down the step while the gradient's longer
// life keeps every position within the peak of live bytes (20480 + 64,
// where "grad" reads the activation and writes the gradient): past
// "small", not past "large", whose 16 KiB and 64 bytes with the gradient's
// 4 KiB would pass it.
// CHECK-LABEL: func.func @defer
// CHECK: exec.kernel "grad"
// CHECK-NEXT: %[[T:.+]] = exec.allreduce_start
// CHECK: exec.kernel "small"
// CHECK-NEXT: exec.wait %[[T]]
// CHECK-NEXT: exec.kernel "sgd"
// CHECK: exec.kernel "large"
// backward-late: the wait and its update go to the end, past "large".
// LATE-LABEL: func.func @defer
// LATE: exec.kernel "last"
// LATE-NEXT: exec.wait
// LATE-NEXT: exec.kernel "sgd"
// LATE-NEXT: return
// Without deferring, the wait stays just before the update.
// NODEFER-LABEL: func.func @defer
// NODEFER: exec.kernel "grad"
// NODEFER-NEXT: %[[T:.+]] = exec.allreduce_start
// NODEFER-NEXT: exec.wait %[[T]]
// NODEFER-NEXT: exec.global_ref
// NODEFER-NEXT: exec.kernel "sgd"
// NONE-LABEL: func.func @defer
// NONE: exec.kernel "grad"
// NONE-NEXT: %[[T:.+]] = exec.allreduce_start
// NONE-NEXT: exec.wait %[[T]]
// NONE: exec.kernel "sgd"
// NONE-NEXT: exec.alloc
// NONE-NEXT: exec.kernel "small"
func.func @defer(%x: !exec.buffer<16xf32>) -> !exec.buffer<16xf32> {
  %w = exec.global_ref @w1 : !exec.buffer<1024xf32>
  %act = exec.alloc : !exec.buffer<4096xf32>
  exec.kernel "forward" ins(%x : !exec.buffer<16xf32>) outs(%act : !exec.buffer<4096xf32>)
  %g = exec.alloc : !exec.buffer<1024xf32>
  exec.kernel "grad" ins(%act : !exec.buffer<4096xf32>) outs(%g : !exec.buffer<1024xf32>)
  %t = exec.allreduce_start %g : !exec.buffer<1024xf32>
  exec.wait %t
  exec.kernel "sgd" ins(%w, %g : !exec.buffer<1024xf32>, !exec.buffer<1024xf32>) outs(%w : !exec.buffer<1024xf32>) {in_place = array<i64: 0>}
  %s = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "small" ins(%x : !exec.buffer<16xf32>) outs(%s : !exec.buffer<16xf32>)
  %l = exec.alloc : !exec.buffer<4112xf32>
  exec.kernel "large" ins(%s : !exec.buffer<16xf32>) outs(%l : !exec.buffer<4112xf32>)
  %y = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "last" ins(%l : !exec.buffer<4112xf32>) outs(%y : !exec.buffer<16xf32>)
  return %y : !exec.buffer<16xf32>
}

// BAD: overlap=sideways is not 'next-forward', 'backward', 'backward-late' or 'none'

// Bucketing (overlap=next-forward): at 50 us and 10 Gbit/s a bucket closes
// once it holds 9 alpha beta = 562500 bytes. The 1 MiB gradient %da, whose
// average starts first, is a bucket of its own; %db and %dc (64 bytes
// each) share one collective, each a view into one allocation, and one
// exec.carried updates both before the first forward kernel that reads
// either weight.
// BUCKET-LABEL: func.func @bucket
// BUCKET: %[[BUCKET:.+]] = exec.alloc : !exec.buffer<32xf32>
// BUCKET-NEXT: %[[DB:.+]] = exec.view %[[BUCKET]] {byte_offset = 0 : i64} : !exec.buffer<32xf32> -> !exec.buffer<16xf32>
// BUCKET-NEXT: %[[DC:.+]] = exec.view %[[BUCKET]] {byte_offset = 64 : i64} : !exec.buffer<32xf32> -> !exec.buffer<16xf32>
// BUCKET: exec.carried %[[BUCKET]] : !exec.buffer<32xf32> {
// BUCKET-NEXT: exec.kernel "sgd" ins(%{{.+}}, %[[DB]] :
// BUCKET-NEXT: exec.kernel "sgd" ins(%{{.+}}, %[[DC]] :
// BUCKET: exec.kernel "forward"
// BUCKET: exec.kernel "gradA"
// BUCKET-NEXT: exec.allreduce_start %[[DA:[^ ]+]] : !exec.buffer<262144xf32>
// BUCKET: exec.kernel "gradC"
// BUCKET-NEXT: exec.allreduce_start %[[BUCKET]] : !exec.buffer<32xf32>
// BUCKET-NEXT: return
// Buckets left to the runtime (runtime-buckets): the same runs of
// gradients, up to region-bytes each, are placed in one allocation in the
// order their averages start; each gradient keeps its exec.carried and its
// start, and each start but a run's last may join the next one's
// collective. At region-bytes=1048640, %da and %db (1 MiB + 64 bytes) fill
// a run and %dc stays alone; at the default 1 MiB, %da is alone and %db
// and %dc share a run.
// RUNTIME-LABEL: func.func @bucket
// RUNTIME: %[[R:.+]] = exec.alloc : !exec.buffer<262160xf32>
// RUNTIME-NEXT: %[[DA:.+]] = exec.view %[[R]] {byte_offset = 0 : i64} : !exec.buffer<262160xf32> -> !exec.buffer<262144xf32>
// RUNTIME-NEXT: %[[DB:.+]] = exec.view %[[R]] {byte_offset = 1048576 : i64} : !exec.buffer<262160xf32> -> !exec.buffer<16xf32>
// RUNTIME: exec.carried %[[DA]] : !exec.buffer<262144xf32> {
// RUNTIME: exec.carried %[[DB]] : !exec.buffer<16xf32> {
// RUNTIME: %[[DC:.+]] = exec.alloc : !exec.buffer<16xf32>
// RUNTIME: exec.carried %[[DC]] : !exec.buffer<16xf32> {
// RUNTIME: exec.kernel "forward"
// RUNTIME: exec.allreduce_start %[[DA]] {joins_next} : !exec.buffer<262144xf32>
// RUNTIME: exec.allreduce_start %[[DB]] : !exec.buffer<16xf32>
// RUNTIME: exec.allreduce_start %[[DC]] : !exec.buffer<16xf32>
// RUNTIME-NEXT: return
// DEFAULTREGION-LABEL: func.func @bucket
// DEFAULTREGION: %[[R:.+]] = exec.alloc : !exec.buffer<32xf32>
// DEFAULTREGION-NEXT: %[[DB:.+]] = exec.view %[[R]] {byte_offset = 0 : i64}
// DEFAULTREGION-NEXT: %[[DC:.+]] = exec.view %[[R]] {byte_offset = 64 : i64}
// DEFAULTREGION: exec.allreduce_start %{{.+}} : !exec.buffer<262144xf32>
// DEFAULTREGION: exec.allreduce_start %[[DB]] {joins_next} : !exec.buffer<16xf32>
// DEFAULTREGION: exec.allreduce_start %[[DC]] : !exec.buffer<16xf32>
// DEFAULTREGION-NEXT: return
func.func @bucket(%x: !exec.buffer<16xf32>) -> !exec.buffer<16xf32> {
  %wa = exec.global_ref @wa : !exec.buffer<262144xf32>
  %wb = exec.global_ref @wb : !exec.buffer<16xf32>
  %wc = exec.global_ref @wc : !exec.buffer<16xf32>
  %y = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "forward" ins(%x, %wa, %wb, %wc : !exec.buffer<16xf32>, !exec.buffer<262144xf32>, !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%y : !exec.buffer<16xf32>)
  %da = exec.alloc : !exec.buffer<262144xf32>
  exec.kernel "gradA" ins(%y : !exec.buffer<16xf32>) outs(%da : !exec.buffer<262144xf32>)
  %db = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "gradB" ins(%y : !exec.buffer<16xf32>) outs(%db : !exec.buffer<16xf32>)
  %dc = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "gradC" ins(%y : !exec.buffer<16xf32>) outs(%dc : !exec.buffer<16xf32>)
  %ta = exec.allreduce_start %da : !exec.buffer<262144xf32>
  exec.wait %ta
  %tb = exec.allreduce_start %db : !exec.buffer<16xf32>
  exec.wait %tb
  %tc = exec.allreduce_start %dc : !exec.buffer<16xf32>
  exec.wait %tc
  exec.kernel "sgd" ins(%wa, %da : !exec.buffer<262144xf32>, !exec.buffer<262144xf32>) outs(%wa : !exec.buffer<262144xf32>) {in_place = array<i64: 0>}
  exec.kernel "sgd" ins(%wb, %db : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%wb : !exec.buffer<16xf32>) {in_place = array<i64: 0>}
  exec.kernel "sgd" ins(%wc, %dc : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%wc : !exec.buffer<16xf32>) {in_place = array<i64: 0>}
  return %y : !exec.buffer<16xf32>
}

// Hoisting (overlap=next-forward): the peak of live bytes is the forward's
// 16 KiB activation (with the weights' averages carried in from the step
// before); the backward pass runs below it. %da, produced last (as the
// memory schedule leaves a gradient that takes more than it frees), moves
// up with its start to right after what it depends on ("shrink"), where
// the peak is no higher; %db, which needs "dy", stays.
// HOIST-LABEL: func.func @hoist
// HOIST: exec.kernel "shrink"
// HOIST-NOT: exec.kernel "dy"
// HOIST: exec.kernel "gradA"
// HOIST-NEXT: exec.allreduce_start %{{.+}} : !exec.buffer<1024xf32>
// HOIST: exec.kernel "dy"
// HOIST: exec.kernel "gradB"
// HOIST-NEXT: exec.allreduce_start %{{.+}} : !exec.buffer<16xf32>
// HOIST-NEXT: return
// NOHOIST-LABEL: func.func @hoist
// NOHOIST: exec.kernel "gradB"
// NOHOIST-NEXT: exec.allreduce_start %{{.+}} : !exec.buffer<16xf32>
// NOHOIST-NEXT: exec.kernel "gradA"
func.func @hoist(%x: !exec.buffer<16xf32>) -> !exec.buffer<16xf32> {
  %wa = exec.global_ref @w1 : !exec.buffer<1024xf32>
  %wb = exec.global_ref @wb : !exec.buffer<16xf32>
  %big = exec.alloc : !exec.buffer<4096xf32>
  exec.kernel "forward" ins(%x, %wa, %wb : !exec.buffer<16xf32>, !exec.buffer<1024xf32>, !exec.buffer<16xf32>) outs(%big : !exec.buffer<4096xf32>)
  %y = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "shrink" ins(%big : !exec.buffer<4096xf32>) outs(%y : !exec.buffer<16xf32>)
  %z = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "dy" ins(%y : !exec.buffer<16xf32>) outs(%z : !exec.buffer<16xf32>)
  %db = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "gradB" ins(%z : !exec.buffer<16xf32>) outs(%db : !exec.buffer<16xf32>)
  %tb = exec.allreduce_start %db : !exec.buffer<16xf32>
  exec.wait %tb
  %da = exec.alloc : !exec.buffer<1024xf32>
  exec.kernel "gradA" ins(%y : !exec.buffer<16xf32>) outs(%da : !exec.buffer<1024xf32>)
  %ta = exec.allreduce_start %da : !exec.buffer<1024xf32>
  exec.wait %ta
  exec.kernel "sgd" ins(%wa, %da : !exec.buffer<1024xf32>, !exec.buffer<1024xf32>) outs(%wa : !exec.buffer<1024xf32>) {in_place = array<i64: 0>}
  exec.kernel "sgd" ins(%wb, %db : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%wb : !exec.buffer<16xf32>) {in_place = array<i64: 0>}
  return %y : !exec.buffer<16xf32>
}

// Hoisting that raises the peak: "dy"'s scratch (16448 bytes) outgrows the
// forward's activation (16384), so %da hoisted above it, live across it,
// raises the step's peak by 64 bytes: within the default 1% of the step's
// memory (with this module's 1 MiB of globals), not within 0.
// HOIST-LABEL: func.func @hoistRaisingThePeak
// HOIST: exec.kernel "shrink"
// HOIST-NOT: exec.kernel "dy"
// HOIST: exec.kernel "gradA"
// HOIST-NEXT: exec.allreduce_start %{{.+}} : !exec.buffer<1024xf32>
// HOIST: exec.kernel "dy"
// NOGROWTH-LABEL: func.func @hoistRaisingThePeak
// NOGROWTH: exec.kernel "dy"
// NOGROWTH: exec.kernel "gradA"
// NOGROWTH-NEXT: exec.allreduce_start %{{.+}} : !exec.buffer<1024xf32>
func.func @hoistRaisingThePeak(%x: !exec.buffer<16xf32>) -> !exec.buffer<16xf32> {
  %wa = exec.global_ref @w1 : !exec.buffer<1024xf32>
  %wb = exec.global_ref @wb : !exec.buffer<16xf32>
  %big = exec.alloc : !exec.buffer<4096xf32>
  exec.kernel "forward" ins(%x, %wa, %wb : !exec.buffer<16xf32>, !exec.buffer<1024xf32>, !exec.buffer<16xf32>) outs(%big : !exec.buffer<4096xf32>)
  %y = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "shrink" ins(%big : !exec.buffer<4096xf32>) outs(%y : !exec.buffer<16xf32>)
  %s = exec.alloc : !exec.buffer<4112xf32>
  exec.kernel "dy" ins(%y : !exec.buffer<16xf32>) outs(%s : !exec.buffer<4112xf32>)
  %db = exec.alloc : !exec.buffer<16xf32>
  exec.kernel "gradB" ins(%s : !exec.buffer<4112xf32>) outs(%db : !exec.buffer<16xf32>)
  %tb = exec.allreduce_start %db : !exec.buffer<16xf32>
  exec.wait %tb
  %da = exec.alloc : !exec.buffer<1024xf32>
  exec.kernel "gradA" ins(%y : !exec.buffer<16xf32>) outs(%da : !exec.buffer<1024xf32>)
  %ta = exec.allreduce_start %da : !exec.buffer<1024xf32>
  exec.wait %ta
  exec.kernel "sgd" ins(%wa, %da : !exec.buffer<1024xf32>, !exec.buffer<1024xf32>) outs(%wa : !exec.buffer<1024xf32>) {in_place = array<i64: 0>}
  exec.kernel "sgd" ins(%wb, %db : !exec.buffer<16xf32>, !exec.buffer<16xf32>) outs(%wb : !exec.buffer<16xf32>) {in_place = array<i64: 0>}
  return %y : !exec.buffer<16xf32>
}
