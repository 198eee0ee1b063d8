// RUN: dlc-opt %s -dlc-instrument-statistics | FileCheck %s

// One layer's training step. The statistics: the parameter at the step's
// start, the data input, the ReLU's output (read by the loss's kernel, which
// the labels feed), the gradients that later kernels read (not the loss),
// and the weight gradient the update reads. The gemm's output, which only
// the forward ReLU reads, is not kept for the backward pass.

// CHECK: module attributes {dlc.statistics = [
// CHECK-SAME: {elements = 8 : i64, kind = "weight", name = "fc.weight"},
// CHECK-SAME: {elements = 4 : i64, kind = "activation", name = "input"},
// CHECK-SAME: {elements = 8 : i64, kind = "activation", name = "/Relu"},
// CHECK-SAME: {elements = 8 : i64, kind = "activation_gradient", name = "loss:grad"},
// CHECK-SAME: {elements = 8 : i64, kind = "activation_gradient", name = "/Relu:grad"},
// CHECK-SAME: {elements = 8 : i64, kind = "weight_gradient", name = "fc.weight:grad"}]}

exec.global @w {onnx_name = "fc.weight"} : !exec.buffer<4x2xf32>

// CHECK-LABEL: func.func @train_step
// CHECK: exec.alloc
// CHECK-NEXT: %[[W:.+]] = exec.global_ref @w
// CHECK-NEXT: exec.kernel "recordStatistics" ins(%[[W]] : !exec.buffer<4x2xf32>) {args = [#exec.ptr<0>, 8, 0]}
// CHECK-NEXT: exec.kernel "recordStatistics" ins(%arg0 : !exec.buffer<2x2xf32>) {args = [#exec.ptr<0>, 4, 1]}
// CHECK: exec.kernel "gemm"
// CHECK-NEXT: %[[R:.+]] = exec.alloc
// CHECK-NEXT: exec.kernel "activation"
// CHECK-NEXT: exec.kernel "recordStatistics" ins(%[[R]] : !exec.buffer<2x4xf32>) {args = [#exec.ptr<0>, 8, 2]}
// CHECK: exec.kernel "softmaxCrossEntropy" ins({{.+}}) outs({{.+}}, %[[DR:[^ ]+]] :
// CHECK-NEXT: exec.kernel "recordStatistics" ins(%[[DR]] : {{.+}}) {args = [#exec.ptr<0>, 8, 3]}
// CHECK: exec.kernel "activationGrad" ins({{.+}}) outs(%[[DH:[^ ]+]] :
// CHECK-NEXT: exec.kernel "recordStatistics" ins(%[[DH]] : {{.+}}) {args = [#exec.ptr<0>, 8, 4]}
// CHECK: exec.kernel "gemm" ins({{.+}}) outs(%[[DW:[^ ]+]] :
// CHECK-NEXT: exec.kernel "recordStatistics" ins(%[[DW]] : {{.+}}) {args = [#exec.ptr<0>, 8, 5]}
// CHECK-NEXT: exec.kernel "sgdUpdate"
func.func @train_step(%x: !exec.buffer<2x2xf32>, %labels: !exec.buffer<2xi32>) -> !exec.buffer<1xf32> {
  %w = exec.global_ref @w : !exec.buffer<4x2xf32>
  %h = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "gemm" ins(%x, %w : !exec.buffer<2x2xf32>, !exec.buffer<4x2xf32>) outs(%h : !exec.buffer<2x4xf32>) loc("/fc/Gemm")
  %r = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "activation" ins(%h : !exec.buffer<2x4xf32>) outs(%r : !exec.buffer<2x4xf32>) loc("/Relu")
  %loss = exec.alloc : !exec.buffer<1xf32>
  %dr = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "softmaxCrossEntropy" ins(%r, %labels : !exec.buffer<2x4xf32>, !exec.buffer<2xi32>) outs(%loss, %dr : !exec.buffer<1xf32>, !exec.buffer<2x4xf32>)
  %dh = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "activationGrad" ins(%r, %dr : !exec.buffer<2x4xf32>, !exec.buffer<2x4xf32>) outs(%dh : !exec.buffer<2x4xf32>) loc("/Relu")
  %dw = exec.alloc : !exec.buffer<4x2xf32>
  exec.kernel "gemm" ins(%dh, %x : !exec.buffer<2x4xf32>, !exec.buffer<2x2xf32>) outs(%dw : !exec.buffer<4x2xf32>) loc("/fc/Gemm")
  exec.kernel "sgdUpdate" ins(%w, %dw : !exec.buffer<4x2xf32>, !exec.buffer<4x2xf32>) outs(%w : !exec.buffer<4x2xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.null, 8], in_place = array<i64: 0>}
  return %loss : !exec.buffer<1xf32>
}
