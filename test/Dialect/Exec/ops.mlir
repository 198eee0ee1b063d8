// RUN: dlc-opt %s | FileCheck %s
// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// RUN: dlc-opt %s --mlir-print-op-generic | dlc-opt | FileCheck %s

// CHECK: exec.global @w {offset = 0 : i64} : !exec.buffer<3x4xf32> = dense<5.000000e-01> : tensor<3x4xf32>
exec.global @w {offset = 0 : i64} : !exec.buffer<3x4xf32> = dense<0.5> : tensor<3x4xf32>
// Element types beyond f32 fit the same buffers.
// CHECK: exec.global @m {alignment = 128 : i64, onnx_name = "fc.m"} : !exec.buffer<3x4xbf16>
exec.global @m {alignment = 128 : i64, onnx_name = "fc.m"} : !exec.buffer<3x4xbf16>

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[X:.+]]: !exec.buffer<2x4xf32>, %[[LOSS:.+]]: !exec.buffer<f32>)
func.func @step(%x: !exec.buffer<2x4xf32>, %loss: !exec.buffer<f32>) {
  // CHECK: %[[W:.+]] = exec.global_ref @w : !exec.buffer<3x4xf32>
  %w = exec.global_ref @w : !exec.buffer<3x4xf32>
  // CHECK: %[[Y:.+]] = exec.alloc {offset = 64 : i64} : !exec.buffer<2x3xf32>
  %y = exec.alloc {offset = 64 : i64} : !exec.buffer<2x3xf32>
  // CHECK: %[[S:.+]] = exec.stream : !exec.stream
  %s = exec.stream : !exec.stream
  // The call's arguments, in order: pointers to buffer operands and ABI
  // constants.
  // CHECK: exec.kernel "gemm" on %[[S]] ins(%[[X]], %[[W]] : !exec.buffer<2x4xf32>, !exec.buffer<3x4xf32>) outs(%[[Y]] : !exec.buffer<2x3xf32>) {args = [false, true, 2, 3, 4, 1.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, 0.000000e+00 : f32, #exec.ptr<2>]}
  exec.kernel "gemm" on %s ins(%x, %w : !exec.buffer<2x4xf32>, !exec.buffer<3x4xf32>) outs(%y : !exec.buffer<2x3xf32>) {args = [false, true, 2, 3, 4, 1.0 : f32, #exec.ptr<0>, #exec.ptr<1>, 0.0 : f32, #exec.ptr<2>]}
  // CHECK: exec.kernel "copyRows" ins(%[[Y]] : !exec.buffer<2x3xf32>) outs(%[[X]] : !exec.buffer<2x4xf32>) {args = [#exec.ptr<0>, 3, #exec.ptr<1, 1>, 4, 2, 3, #exec.enum<"Binary::Add">, #exec.struct<"Geometry", [2, 3]>, #exec.null, array<i64: 2, 3>]}
  exec.kernel "copyRows" ins(%y : !exec.buffer<2x3xf32>) outs(%x : !exec.buffer<2x4xf32>) {args = [#exec.ptr<0>, 3, #exec.ptr<1, 1>, 4, 2, 3, #exec.enum<"Binary::Add">, #exec.struct<"Geometry", [2, 3]>, #exec.null, array<i64: 2, 3>]}
  // An in-place output is declared.
  // CHECK: exec.kernel "relu" ins(%[[Y]] : !exec.buffer<2x3xf32>) outs(%[[Y]] : !exec.buffer<2x3xf32>) {in_place = array<i64: 0>}
  exec.kernel "relu" ins(%y : !exec.buffer<2x3xf32>) outs(%y : !exec.buffer<2x3xf32>) {in_place = array<i64: 0>}
  // CHECK: %[[WS:.+]] = exec.alloc : !exec.buffer<256xi8>
  %ws = exec.alloc : !exec.buffer<256xi8>
  // CHECK: exec.kernel "sum" ins(%[[Y]] : !exec.buffer<2x3xf32>) outs(%[[LOSS]] : !exec.buffer<f32>) scratch(%[[WS]] : !exec.buffer<256xi8>)
  exec.kernel "sum" ins(%y : !exec.buffer<2x3xf32>) outs(%loss : !exec.buffer<f32>) scratch(%ws : !exec.buffer<256xi8>)
  // CHECK: %[[FLAT:.+]] = exec.view %[[Y]] : !exec.buffer<2x3xf32> -> !exec.buffer<6xf32>
  %flat = exec.view %y : !exec.buffer<2x3xf32> -> !exec.buffer<6xf32>
  // CHECK: %[[T:.+]] = exec.allreduce_start %[[FLAT]] : !exec.buffer<6xf32>
  %t = exec.allreduce_start %flat : !exec.buffer<6xf32>
  // Other work overlaps the collective.
  // CHECK: exec.kernel "fill" outs(%[[X]] : !exec.buffer<2x4xf32>)
  exec.kernel "fill" outs(%x : !exec.buffer<2x4xf32>)
  // CHECK: exec.wait %[[T]]
  exec.wait %t
  return
}
