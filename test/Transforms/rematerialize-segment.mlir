// RUN: dlc-opt %s -dlc-rematerialize=budget=5600 | FileCheck %s

// A value written by a convolution and then by a ReLU in place over it (as
// dlc-reuse-in-place leaves them) is recomputed by copies of both writers,
// each once, into a fresh buffer: 2 operations per element for the 1x1
// convolution and 1 for the ReLU, 768 for 256 elements. The weight is a
// global nothing writes in between, so the copy reads it as it is.
// CHECK: module attributes {dlc.recomputed_flops = 768 : i64}
// CHECK: exec.kernel "sum"
// CHECK: %[[COPY:.+]] = exec.alloc : !exec.buffer<1x1x16x16xf32>
// CHECK-NEXT: exec.kernel "conv2d" ins(%arg0, %{{.+}} : {{.*}}) outs(%[[COPY]] :
// CHECK-NEXT: exec.kernel "activation" ins(%[[COPY]] : {{.*}}) outs(%[[COPY]] : {{.*}}) {in_place = array<i64: 0>
// CHECK-NEXT: exec.kernel "late" ins(%[[COPY]],
exec.global @w : !exec.buffer<1x1x1x1xf32>
func.func @segment(%x: !exec.buffer<1x1x16x16xf32>) -> !exec.buffer<1xf32> {
  %w = exec.global_ref @w : !exec.buffer<1x1x1x1xf32>
  %c = exec.alloc : !exec.buffer<1x1x16x16xf32>
  exec.kernel "conv2d" ins(%x, %w : !exec.buffer<1x1x16x16xf32>, !exec.buffer<1x1x1x1xf32>) outs(%c : !exec.buffer<1x1x16x16xf32>) {args = [#exec.struct<"Conv2DGeometry", [1, 1, 16, 16, 1, 1, 1, 16, 16, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.null, #exec.ptr<2>, #exec.null, 0]}
  exec.kernel "activation" ins(%c : !exec.buffer<1x1x16x16xf32>) outs(%c : !exec.buffer<1x1x16x16xf32>) {in_place = array<i64: 0>, reusable = array<i64: 0>}
  %e = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "early" ins(%c : !exec.buffer<1x1x16x16xf32>) outs(%e : !exec.buffer<1xf32>)
  %big = exec.alloc : !exec.buffer<1024xf32>
  exec.kernel "expand" ins(%x : !exec.buffer<1x1x16x16xf32>) outs(%big : !exec.buffer<1024xf32>)
  %s = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "sum" ins(%big : !exec.buffer<1024xf32>) outs(%s : !exec.buffer<1xf32>)
  %o = exec.alloc : !exec.buffer<1xf32>
  exec.kernel "late" ins(%c, %x, %s, %e : !exec.buffer<1x1x16x16xf32>, !exec.buffer<1x1x16x16xf32>, !exec.buffer<1xf32>, !exec.buffer<1xf32>) outs(%o : !exec.buffer<1xf32>)
  return %o : !exec.buffer<1xf32>
}
