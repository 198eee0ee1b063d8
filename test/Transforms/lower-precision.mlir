// RUN: echo '{"default": "fp32", "tensors": [{"name": "fc.weight", "format": "bf16"}, {"name": "fc.bias", "format": "fp16"}, {"name": "input", "format": "bf16"}, {"name": "/Relu", "format": "bf16"}, {"name": "loss:grad", "format": "fp8e4m3", "exponent": -8}, {"name": "fc.weight:grad", "format": "int8", "exponent": -9}]}' > %t.plan.json
// RUN: dlc-opt %s -dlc-assign-precision="plan=%t.plan.json" -dlc-lower-precision | FileCheck %s

// What the plan rounds, and where: the data input in place before the
// first kernel; each weight into a copy of its own just before each kernel
// that reads it (through the same views), but for the update; the ReLU's
// output and the gradients in place right after their writers, before a
// collective started on them. The ReLU's output, which the backward pass
// reads, is kept for it as bf16 codes and unpacked before its first
// backward reader. fp32 tensors (the ReLU's gradient, the bias's gradient)
// are left as they are. The last argument is the tensor's slot.

// CHECK-LABEL: func.func @train_step
// CHECK: %[[W0:.+]] = exec.global_ref @w
// CHECK-NEXT: %[[B0:.+]] = exec.global_ref @b
// CHECK-NEXT: %[[H:.+]] = exec.alloc
// CHECK-NEXT: %[[B:.+]] = exec.global_ref @b
// CHECK-NEXT: %[[BQ:.+]] = exec.alloc : !exec.buffer<4xf32>
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%arg0 : !exec.buffer<2x2xf32>) outs(%arg0 : !exec.buffer<2x2xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, 4, 2], in_place = array<i64: 0>}
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%[[B]] : {{.+}}) outs(%[[BQ]] : {{.+}}) {args = [#exec.ptr<0>, #exec.ptr<1>, 4, 1]}
// CHECK-NEXT: %[[BQV:.+]] = exec.view %[[BQ]] : !exec.buffer<4xf32> -> !exec.buffer<1x4xf32>
// CHECK-NEXT: exec.kernel "broadcastScaled" ins(%[[BQV]] :
// CHECK-NEXT: %[[W:.+]] = exec.global_ref @w
// CHECK-NEXT: %[[WQ:.+]] = exec.alloc : !exec.buffer<4x2xf32>
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%[[W]] : {{.+}}) outs(%[[WQ]] : {{.+}}) {args = [#exec.ptr<0>, #exec.ptr<1>, 8, 0]}
// CHECK-NEXT: exec.kernel "gemm" ins(%arg0, %[[WQ]] :
// CHECK: exec.kernel "activation" ins({{.+}}) outs(%[[R:[^ ]+]] :
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%[[R]] : {{.+}}) outs(%[[R]] : {{.+}}) {args = [#exec.ptr<0>, #exec.ptr<1>, 8, 3], in_place = array<i64: 0>}
// CHECK-NEXT: %[[P:.+]] = exec.alloc : !exec.buffer<2x4xbf16>
// CHECK-NEXT: exec.kernel "packToFormat" ins(%[[R]] : !exec.buffer<2x4xf32>) outs(%[[P]] : !exec.buffer<2x4xbf16>) {args = [#exec.ptr<0>, #exec.ptr<1>, 8, 3]}
// CHECK-NEXT: exec.alloc : !exec.buffer<1xf32>
// CHECK-NEXT: exec.alloc : !exec.buffer<2x4xf32>
// CHECK-NEXT: %[[U:.+]] = exec.alloc : !exec.buffer<2x4xf32>
// CHECK-NEXT: exec.kernel "unpackFromFormat" ins(%[[P]] : !exec.buffer<2x4xbf16>) outs(%[[U]] : !exec.buffer<2x4xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, 8, 3]}
// CHECK-NEXT: exec.kernel "softmaxCrossEntropy" ins(%[[U]], %arg1 : {{.+}}) outs({{.+}}, %[[DR:[^ ]+]] :
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%[[DR]] : {{.+}}) {args = [#exec.ptr<0>, #exec.ptr<1>, 8, 4], in_place = array<i64: 0>}
// CHECK-NEXT: exec.alloc
// CHECK-NEXT: exec.kernel "activationGrad" ins(%[[U]], %[[DR]] :
// CHECK-NEXT: exec.alloc
// CHECK-NEXT: %[[W2:.+]] = exec.global_ref @w
// CHECK-NEXT: %[[WQ2:.+]] = exec.alloc : !exec.buffer<4x2xf32>
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%[[W2]] : {{.+}}) outs(%[[WQ2]] : {{.+}}) {args = [#exec.ptr<0>, #exec.ptr<1>, 8, 0]}
// CHECK-NEXT: exec.kernel "gemm" ins({{.+}}, %[[WQ2]] :
// CHECK-NEXT: exec.alloc
// CHECK-NEXT: exec.kernel "gemm" ins({{.+}}) outs(%[[DW:[^ ]+]] :
// CHECK-NEXT: exec.kernel "roundToFormat" ins(%[[DW]] : {{.+}}) {args = [#exec.ptr<0>, #exec.ptr<1>, 8, 6], in_place = array<i64: 0>}
// CHECK-NEXT: exec.allreduce_start %[[DW]]
// CHECK-NEXT: exec.alloc
// CHECK-NEXT: exec.kernel "reduceSumTo"
// CHECK-NEXT: exec.view
// CHECK-NEXT: exec.wait
// CHECK-NEXT: exec.kernel "sgdUpdate" ins(%[[W0]], %[[DW]] :
// CHECK-NEXT: exec.kernel "sgdUpdate" ins(%[[B0]],
// CHECK-NEXT: return

exec.global @w {onnx_name = "fc.weight"} : !exec.buffer<4x2xf32>
exec.global @b {onnx_name = "fc.bias"} : !exec.buffer<4xf32>

func.func @train_step(%x: !exec.buffer<2x2xf32>, %labels: !exec.buffer<2xi32>) -> !exec.buffer<1xf32> {
  %w = exec.global_ref @w : !exec.buffer<4x2xf32>
  %b = exec.global_ref @b : !exec.buffer<4xf32>
  %h = exec.alloc : !exec.buffer<2x4xf32>
  %bv = exec.view %b : !exec.buffer<4xf32> -> !exec.buffer<1x4xf32>
  exec.kernel "broadcastScaled" ins(%bv : !exec.buffer<1x4xf32>) outs(%h : !exec.buffer<2x4xf32>) loc("/fc/Gemm")
  exec.kernel "gemm" ins(%x, %w : !exec.buffer<2x2xf32>, !exec.buffer<4x2xf32>) outs(%h : !exec.buffer<2x4xf32>) loc("/fc/Gemm")
  %r = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "activation" ins(%h : !exec.buffer<2x4xf32>) outs(%r : !exec.buffer<2x4xf32>) loc("/Relu")
  %loss = exec.alloc : !exec.buffer<1xf32>
  %dr = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "softmaxCrossEntropy" ins(%r, %labels : !exec.buffer<2x4xf32>, !exec.buffer<2xi32>) outs(%loss, %dr : !exec.buffer<1xf32>, !exec.buffer<2x4xf32>) loc("/Relu")
  %dh = exec.alloc : !exec.buffer<2x4xf32>
  exec.kernel "activationGrad" ins(%r, %dr : !exec.buffer<2x4xf32>, !exec.buffer<2x4xf32>) outs(%dh : !exec.buffer<2x4xf32>) loc("/Relu")
  %dx = exec.alloc : !exec.buffer<2x2xf32>
  exec.kernel "gemm" ins(%dh, %w : !exec.buffer<2x4xf32>, !exec.buffer<4x2xf32>) outs(%dx : !exec.buffer<2x2xf32>) loc("/fc/Gemm")
  %dw = exec.alloc : !exec.buffer<4x2xf32>
  exec.kernel "gemm" ins(%dh, %x : !exec.buffer<2x4xf32>, !exec.buffer<2x2xf32>) outs(%dw : !exec.buffer<4x2xf32>) loc("/fc/Gemm")
  %t = exec.allreduce_start %dw : !exec.buffer<4x2xf32>
  %db = exec.alloc : !exec.buffer<1x4xf32>
  exec.kernel "reduceSumTo" ins(%dh : !exec.buffer<2x4xf32>) outs(%db : !exec.buffer<1x4xf32>) loc("/fc/Gemm")
  %dbv = exec.view %db : !exec.buffer<1x4xf32> -> !exec.buffer<4xf32>
  exec.wait %t
  exec.kernel "sgdUpdate" ins(%w, %dw : !exec.buffer<4x2xf32>, !exec.buffer<4x2xf32>) outs(%w : !exec.buffer<4x2xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.null, 8], in_place = array<i64: 0>}
  exec.kernel "sgdUpdate" ins(%b, %dbv : !exec.buffer<4xf32>, !exec.buffer<4xf32>) outs(%b : !exec.buffer<4xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.null, 4], in_place = array<i64: 0>}
  return %loss : !exec.buffer<1xf32>
}

