// RUN: dlc-opt %s -dlc-use-bf16-kernels | FileCheck %s

// Slots: 0 the weight in bf16, 1 the input in fp8 E4M3 (bf16 holds it),
// 2 the output's gradient in fp16 (bf16 does not). The forward convolution
// multiplies values bf16 holds: it takes bf16 kernels (the geometry's 22nd
// field) and reads the master weight, which it rounds itself, so the bf16
// copy made for it alone goes. The backward data convolution reads the
// fp16 gradient: fp32 kernels, and its weight copy stays.

// CHECK-LABEL: func.func @train_step
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%arg0 {{.+}} outs(%arg0
// CHECK-NEXT: %[[W:.+]] = exec.global_ref @w
// CHECK-NEXT: %[[Y:.+]] = exec.alloc : !exec.buffer<1x1x4x4xf32>
// CHECK-NEXT: exec.kernel "conv2d" ins(%arg0, %[[W]] : {{.+}}) outs(%[[Y]] : {{.+}}) {args = [#exec.struct<"Conv2DGeometry", [1, 1, 4, 4, 1, 1, 1, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1]>,
// CHECK: exec.kernel "roundToFormat" ins(%[[DY:[^ ]+]]
// CHECK-NEXT: %[[W2:.+]] = exec.global_ref @w
// CHECK-NEXT: %[[WQ2:.+]] = exec.alloc
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%[[W2]] {{.+}} outs(%[[WQ2]]
// CHECK: exec.kernel "conv2dBackwardData" ins(%[[DY]], %[[WQ2]] : {{.+}}) {{.+}} {args = [#exec.struct<"Conv2DGeometry", [1, 1, 4, 4, 1, 1, 1, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]>,

module attributes {dlc.precision = [
    {name = "w", kind = "weight", elements = 1 : i64, format = "bf16", exponent = 0 : i64},
    {name = "input", kind = "activation", elements = 16 : i64, format = "fp8e4m3", exponent = -4 : i64},
    {name = "y:grad", kind = "activation_gradient", elements = 16 : i64, format = "fp16", exponent = 0 : i64}]} {
exec.global @w {onnx_name = "w"} : !exec.buffer<1x1x1x1xf32>

func.func @train_step(%x: !exec.buffer<1x1x4x4xf32>, %labels: !exec.buffer<1xi32>) {
  exec.kernel "roundToFormat" ins(%x : !exec.buffer<1x1x4x4xf32>) outs(%x : !exec.buffer<1x1x4x4xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, 16, 1], in_place = array<i64: 0>}
  %w = exec.global_ref @w : !exec.buffer<1x1x1x1xf32>
  %wq = exec.alloc : !exec.buffer<1x1x1x1xf32>
  exec.kernel "roundToFormat" ins(%w : !exec.buffer<1x1x1x1xf32>) outs(%wq : !exec.buffer<1x1x1x1xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, 1, 0]}
  %y = exec.alloc : !exec.buffer<1x1x4x4xf32>
  exec.kernel "conv2d" ins(%x, %wq : !exec.buffer<1x1x4x4xf32>, !exec.buffer<1x1x1x1xf32>) outs(%y : !exec.buffer<1x1x4x4xf32>) {args = [#exec.struct<"Conv2DGeometry", [1, 1, 4, 4, 1, 1, 1, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.null, #exec.ptr<2>, #exec.null, 0]}
  %dy = exec.alloc : !exec.buffer<1x1x4x4xf32>
  exec.kernel "fill" outs(%dy : !exec.buffer<1x1x4x4xf32>) {args = [#exec.ptr<0>, 16, 1.0 : f32]}
  exec.kernel "roundToFormat" ins(%dy : !exec.buffer<1x1x4x4xf32>) outs(%dy : !exec.buffer<1x1x4x4xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, 16, 2], in_place = array<i64: 0>}
  %w2 = exec.global_ref @w : !exec.buffer<1x1x1x1xf32>
  %wq2 = exec.alloc : !exec.buffer<1x1x1x1xf32>
  exec.kernel "roundToFormat" ins(%w2 : !exec.buffer<1x1x1x1xf32>) outs(%wq2 : !exec.buffer<1x1x1x1xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, 1, 0]}
  %dx = exec.alloc : !exec.buffer<1x1x4x4xf32>
  exec.kernel "conv2dBackwardData" ins(%dy, %wq2 : !exec.buffer<1x1x4x4xf32>, !exec.buffer<1x1x1x1xf32>) outs(%dx : !exec.buffer<1x1x4x4xf32>) {args = [#exec.struct<"Conv2DGeometry", [1, 1, 4, 4, 1, 1, 1, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.null, 0]}
  return
}
}
