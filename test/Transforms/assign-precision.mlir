// RUN: dlc-opt %s -dlc-assign-precision="format=bf16" | FileCheck %s --check-prefix=ALL
// RUN: echo '{"tensors": [{"name": "fc.weight", "format": "int8", "exponent": -7}, {"name": "fc.bias:grad", "format": "fp8e5m2", "exponent": 3}], "default": "fp16"}' > %t.plan.json
// RUN: dlc-opt %s -dlc-assign-precision="plan=%t.plan.json" | FileCheck %s --check-prefix=PLAN
// RUN: echo '{"tensors": [{"name": "fc.weight", "format": "bf16"}]}' > %t.short.json
// RUN: not dlc-opt %s -dlc-assign-precision="plan=%t.short.json" 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: not dlc-opt %s -dlc-assign-precision="format=fp12" 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// One layer with a bias, whose gradient the update reads through a view
// (as a convolution's bias gradient is): every tensor a format is chosen
// for, in slot order, each with its format.

// ALL: module attributes {dlc.precision = [
// ALL-SAME: {elements = 8 : i64, exponent = 0 : i64, format = "bf16", kind = "weight", name = "fc.weight"},
// ALL-SAME: {elements = 4 : i64, exponent = 0 : i64, format = "bf16", kind = "weight", name = "fc.bias"},
// ALL-SAME: {elements = 4 : i64, exponent = 0 : i64, format = "bf16", kind = "activation", name = "input"},
// ALL-SAME: {elements = 8 : i64, exponent = 0 : i64, format = "bf16", kind = "activation", name = "/Relu"},
// ALL-SAME: {elements = 8 : i64, exponent = 0 : i64, format = "bf16", kind = "activation_gradient", name = "loss:grad"},
// ALL-SAME: {elements = 8 : i64, exponent = 0 : i64, format = "bf16", kind = "activation_gradient", name = "/Relu:grad"},
// ALL-SAME: {elements = 8 : i64, exponent = 0 : i64, format = "bf16", kind = "weight_gradient", name = "fc.weight:grad"},
// ALL-SAME: {elements = 4 : i64, exponent = 0 : i64, format = "bf16", kind = "weight_gradient", name = "fc.bias:grad"}]}

// PLAN: module attributes {dlc.precision = [
// PLAN-SAME: {elements = 8 : i64, exponent = -7 : i64, format = "int8", kind = "weight", name = "fc.weight"},
// PLAN-SAME: {elements = 4 : i64, exponent = 0 : i64, format = "fp16", kind = "weight", name = "fc.bias"},
// PLAN-SAME: format = "fp16", kind = "activation", name = "input"
// PLAN-SAME: {elements = 4 : i64, exponent = 3 : i64, format = "fp8e5m2", kind = "weight_gradient", name = "fc.bias:grad"}]}

// SHORT: error: precision plan {{.+}}short.json leaves out 'fc.bias', 'input', '/Relu', 'loss:grad' and 3 more, and gives no "default" format for them

// UNKNOWN: error: unknown number format 'fp12' (the formats: fp32, bf16, fp16, fp8e4m3, fp8e5m2, int8, int16)

exec.global @w {onnx_name = "fc.weight"} : !exec.buffer<4x2xf32>
exec.global @b {onnx_name = "fc.bias"} : !exec.buffer<4xf32>

func.func @train_step(%x: !exec.buffer<2x2xf32>, %labels: !exec.buffer<2xi32>) -> !exec.buffer<1xf32> {
  %w = exec.global_ref @w : !exec.buffer<4x2xf32>
  %b = exec.global_ref @b : !exec.buffer<4xf32>
  %h = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "broadcastScaled" ins(%b : !exec.buffer<4xf32>) outs(%h : !exec.buffer<2x4xf32>) loc("/fc/Gemm")
  exec.kernel "gemm" ins(%x, %w : !exec.buffer<2x2xf32>, !exec.buffer<4x2xf32>) outs(%h : !exec.buffer<2x4xf32>) loc("/fc/Gemm")
  %r = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "activation" ins(%h : !exec.buffer<2x4xf32>) outs(%r : !exec.buffer<2x4xf32>) loc("/Relu")
  %loss = exec.alloc : !exec.buffer<1xf32>
  %dr = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "softmaxCrossEntropy" ins(%r, %labels : !exec.buffer<2x4xf32>, !exec.buffer<2xi32>) outs(%loss, %dr : !exec.buffer<1xf32>, !exec.buffer<2x4xf32>) loc("/Relu")
  %dh = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "activationGrad" ins(%r, %dr : !exec.buffer<2x4xf32>, !exec.buffer<2x4xf32>) outs(%dh : !exec.buffer<2x4xf32>) loc("/Relu")
  %dw = exec.alloc : !exec.buffer<4x2xf32>
  exec.kernel "gemm" ins(%dh, %x : !exec.buffer<2x4xf32>, !exec.buffer<2x2xf32>) outs(%dw : !exec.buffer<4x2xf32>) loc("/fc/Gemm")
  %db = exec.alloc : !exec.buffer<1x4xf32>
  exec.kernel "reduceSumTo" ins(%dh : !exec.buffer<2x4xf32>) outs(%db : !exec.buffer<1x4xf32>) loc("/fc/Gemm")
  %dbv = exec.view %db : !exec.buffer<1x4xf32> -> !exec.buffer<4xf32>
  exec.kernel "sgdUpdate" ins(%w, %dw : !exec.buffer<4x2xf32>, !exec.buffer<4x2xf32>) outs(%w : !exec.buffer<4x2xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.null, 8], in_place = array<i64: 0>}
  exec.kernel "sgdUpdate" ins(%b, %dbv : !exec.buffer<4xf32>, !exec.buffer<4xf32>) outs(%b : !exec.buffer<4xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.null, 4], in_place = array<i64: 0>}
  return %loss : !exec.buffer<1xf32>
}
