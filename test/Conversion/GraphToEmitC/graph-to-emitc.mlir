// RUN: dlc-opt %s -dlc-convert-graph-to-emitc="training-config=sgd" | FileCheck %s
// RUN: dlc-opt %s -dlc-convert-graph-to-emitc -o %t.mlir
// RUN: dlc %t.mlir --emit=source | FileCheck %s --check-prefix=CPP
// RUN: dlc-opt %s -dlc-convert-graph-to-emitc="target=cuda" | FileCheck %s --check-prefix=CUDA

// A planned module (as dlc-plan-memory leaves it) for y = x w^T + b.
module attributes {dlc.arena_size = 512 : i64, dlc.source = "tiny.onnx", dlc.hyperparameters = {optimizer = "sgd", lr = 0.1 : f32, momentum = 0.9 : f32, weight_decay = 0.0 : f32, beta1 = 0.9 : f32, beta2 = 0.999 : f32, eps = 1.0e-8 : f32}} {
  graph.variable trainable @w {dlc.offset = 0 : i64, onnx_name = "fc.weight"} : tensor<3x4xf32> = dense<5.000000e-01> : tensor<3x4xf32>
  graph.variable trainable @b {dlc.offset = 64 : i64, onnx_name = "fc.bias"} : tensor<3xf32> = dense<1.000000e-01> : tensor<3xf32>
  graph.variable @w_velocity {dlc.offset = 128 : i64} : tensor<3x4xf32>
  func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x3xf32> attributes {dlc.arg_offsets = [192]} {
    %w = graph.load @w {dlc.offset = 0 : i64} : tensor<3x4xf32>
    %b = graph.load @b {dlc.offset = 64 : i64} : tensor<3xf32>
    %y = graph.gemm %x, %w, %b {dlc.offset = 256 : i64, trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
  func.func @train_step(%x: tensor<2x4xf32>, %labels: tensor<2xi32>) -> tensor<f32> attributes {dlc.arg_offsets = [192, 320]} {
    %w = graph.load @w {dlc.offset = 0 : i64} : tensor<3x4xf32>
    %y = graph.gemm %x, %w {dlc.offset = 256 : i64, trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
    %l = graph.softmax_cross_entropy %y, %labels {dlc.offset = 384 : i64} : tensor<2x3xf32>, tensor<2xi32>
    %one = graph.ones {dlc.offset = 320 : i64} : tensor<f32>
    %dy = graph.softmax_cross_entropy_grad %y, %labels, %one {dlc.offset = 448 : i64} : tensor<2x3xf32>, tensor<2xi32>
    %dw = graph.gemm %dy, %x {dlc.offset = 256 : i64, trans_a} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
    %avg = graph.allreduce_mean %dw {dlc.offset = 256 : i64} : tensor<3x4xf32>
    graph.sgd_update @w, %avg velocity @w_velocity : tensor<3x4xf32>
    return %l : tensor<f32>
  }
}

// The graph is gone; globals come first, then the two functions.
// CHECK-NOT: graph.
// CHECK: emitc.include "dlc/Runtime/Kernels.h"
// CHECK: emitc.global static const @dlc_dims0 : !emitc.array<2xi64> = dense<[0, 1]>
// CHECK-LABEL: emitc.func @forward
// CHECK-SAME: (%[[CTX:.+]]: !emitc.opaque<"dlc::rt::Context &">, %[[ARENA:.+]]: !emitc.ptr<!emitc.opaque<"char">>)
// CHECK-SAME: specifiers = ["static"]
// CHECK: %[[B:.+]] = call_opaque "dlc::rt::f32At"(%[[ARENA]]) {args = [0 : index, 64]}
// CHECK: %[[Y:.+]] = call_opaque "dlc::rt::f32At"(%[[ARENA]]) {args = [0 : index, 256]}
// CHECK: call_opaque "dlc::rt::broadcastScaled"(%[[CTX]], %[[B]], %{{.+}}, %[[Y]], %{{.+}}) {args = [0 : index, 1 : index, 2 : index, 1.000000e+00 : f32, 3 : index, 4 : index, 2 : i32]}
// CHECK: call_opaque "dlc::rt::gemm"(%[[CTX]], {{.*}}) {args = [0 : index, false, true, 2, 3, 4, 1.000000e+00 : f32, 1 : index, 2 : index, 1.000000e+00 : f32, 3 : index]}
// CHECK-LABEL: emitc.func @trainStep
// CHECK: call_opaque "dlc::rt::i32At"
// CHECK: call_opaque "dlc::rt::softmaxCrossEntropy"
// CHECK: call_opaque "dlc::rt::fill"
// The average is started and waited for at once.
// CHECK: %[[H:.+]] = call_opaque "dlc::rt::allReduceMeanStart"({{.*}}) {{.*}} : {{.*}} -> i64
// CHECK-NEXT: call_opaque "dlc::rt::allReduceMeanWait"(%{{.+}}, %[[H]])
// CHECK: call_opaque "dlc::rt::sgdUpdate"(%[[CTX2:.+]], %[[W:.+]], %[[G:.+]], %[[V:.+]]) {args = [0 : index, 1 : index, 2 : index, 3 : index, 12]}
// The table: name, arena offset, size, shape, rank, offset of the initial
// value in the embedded data (64-byte aligned, -1: zeros), whether --save
// writes it (a parameter training updates). @b is not updated here.
// CHECK: emitc.global static const @dlc_variables : !emitc.array<3x!emitc.opaque<"dlc::rt::VariableInfo">> = #emitc.opaque<"{{[{][{]}}\22fc.weight\22, 0, 12, [[W_SHAPE:dlc_dims[0-9]+]], 2, 0, true}, {\22fc.bias\22, 64, 3, dlc_dims{{[0-9]+}}, 1, 64, false}, {nullptr, 128, 12, [[W_SHAPE]], 2, -1, false}}">
// The slots of @forward's inputs and outputs: name, offset, shape, rank.
// CHECK: emitc.global static const @dlc_forward_inputs : !emitc.array<1x!emitc.opaque<"dlc::rt::TensorSlot">> = #emitc.opaque<"{{[{][{]}}\22\22, 192, dlc_dims{{[0-9]+}}, 2}}">
// CHECK: emitc.global static const @dlc_forward_outputs : !emitc.array<1x!emitc.opaque<"dlc::rt::TensorSlot">> = #emitc.opaque<"{{[{][{]}}\22\22, 256, dlc_dims{{[0-9]+}}, 2}}">
// CHECK: emitc.global const @dlc_model : !emitc.opaque<"dlc::rt::ModelInfo"> = #emitc.opaque<"{\22tiny.onnx\22, \22sgd\22, 512, dlc_dims{{[0-9]+}}, 2, 3, trainStep, 192, 320, 384, forward, 192, 256, dlc_variables, 3, dlc_forward_inputs, 1, dlc_forward_outputs, 1, {dlc::rt::Optimizer::Sgd, 1.000000015e-01f, 8.999999762e-01f, 0.000000000e+00f, 8.999999762e-01f, 9.990000129e-01f, 9.999999939e-09f, 1}, true}">

// CPP: // Generated by dlc for the CPU runtime. Do not edit.
// CPP: #include "dlc/Runtime/Kernels.h"
// CPP: static const int64_t dlc_dims0[2] = {0, 1};
// CPP: static void forward(dlc::rt::Context & [[CTX:v[0-9]+]], char* [[ARENA:v[0-9]+]]) {
// CPP: float* [[B:v[0-9]+]] = dlc::rt::f32At([[ARENA]], 64);
// CPP: dlc::rt::gemm([[CTX]], false, true, 2, 3, 4, 1.000000000e+00f,
// CPP: static void trainStep(
// CPP: dlc::rt::sgdUpdate({{.*}}, 12);
// CPP: const dlc::rt::ModelInfo dlc_model = {"tiny.onnx", "", 512,

// CUDA: emitc.verbatim "// Generated by dlc for the CUDA runtime. Do not edit."
