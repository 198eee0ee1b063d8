// RUN: dlc-opt %s -dlc-lower-precision -verify-diagnostics

// expected-error @below {{dlc.precision's slot 0 names 'fc.bias', the step's 'fc.weight'}}
module attributes {dlc.precision = [{elements = 4 : i64, exponent = 0 : i64, format = "bf16", kind = "weight", name = "fc.bias"}, {elements = 8 : i64, exponent = 0 : i64, format = "bf16", kind = "weight", name = "fc.weight"}, {elements = 4 : i64, exponent = 0 : i64, format = "bf16", kind = "activation", name = "input"}]} {
  exec.global @w {onnx_name = "fc.weight"} : !exec.buffer<4x2xf32>
  func.func @train_step(%x: !exec.buffer<2x2xf32>, %labels: !exec.buffer<2xi32>) -> !exec.buffer<1xf32> {
    %w = exec.global_ref @w : !exec.buffer<4x2xf32>
    %h = exec.alloc : !exec.buffer<2x4xf32>
    exec.kernel "gemm" ins(%x, %w : !exec.buffer<2x2xf32>, !exec.buffer<4x2xf32>) outs(%h : !exec.buffer<2x4xf32>)
    %loss = exec.alloc : !exec.buffer<1xf32>
    %dh = exec.alloc : !exec.buffer<2x4xf32>
    exec.kernel "softmaxCrossEntropy" ins(%h, %labels : !exec.buffer<2x4xf32>, !exec.buffer<2xi32>) outs(%loss, %dh : !exec.buffer<1xf32>, !exec.buffer<2x4xf32>)
    %dw = exec.alloc : !exec.buffer<4x2xf32>
    exec.kernel "gemm" ins(%dh, %x : !exec.buffer<2x4xf32>, !exec.buffer<2x2xf32>) outs(%dw : !exec.buffer<4x2xf32>)
    exec.kernel "sgdUpdate" ins(%w, %dw : !exec.buffer<4x2xf32>, !exec.buffer<4x2xf32>) outs(%w : !exec.buffer<4x2xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.null, 8], in_place = array<i64: 0>}
    return %loss : !exec.buffer<1xf32>
  }
}
