// RUN: dlc-opt %s -dlc-convert-exec-to-emitc="training-config=sgd" | FileCheck %s
// RUN: dlc-opt %s -dlc-convert-exec-to-emitc -o %t.mlir
// RUN: dlc %t.mlir --emit=source | FileCheck %s --check-prefix=CPP
// RUN: dlc-opt %s -dlc-convert-exec-to-emitc="target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: dlc %s -o %t.exe

// A planned exec module (as dlc-plan-memory leaves it) for y = x w^T + b.
module attributes {dlc.arena_size = 576 : i64, dlc.hyperparameters = {beta1 = 0.899999976 : f32, beta2 = 9.990000e-01 : f32, eps = 9.99999993E-9 : f32, lr = 1.000000e-01 : f32, momentum = 0.899999976 : f32, optimizer = "sgd", weight_decay = 0.000000e+00 : f32}, dlc.source = "tiny.onnx"} {
  exec.global @w {offset = 0 : i64, onnx_name = "fc.weight"} : !exec.buffer<3x4xf32> = dense<5.000000e-01> : tensor<3x4xf32>
  exec.global @b {offset = 64 : i64, onnx_name = "fc.bias"} : !exec.buffer<3xf32> = dense<1.000000e-01> : tensor<3xf32>
  exec.global @w_velocity {offset = 128 : i64} : !exec.buffer<3x4xf32>
  func.func @forward(%arg0: !exec.buffer<2x4xf32>) -> !exec.buffer<2x3xf32> attributes {dlc.arg_offsets = [192]} {
    %0 = exec.global_ref @w : !exec.buffer<3x4xf32>
    %1 = exec.global_ref @b : !exec.buffer<3xf32>
    %2 = exec.alloc {offset = 256 : i64} : !exec.buffer<2x3xf32>
    exec.kernel "broadcastScaled" ins(%1 : !exec.buffer<3xf32>) outs(%2 : !exec.buffer<2x3xf32>) {args = [#exec.ptr<0>, array<i64: 0, 1>, 1.000000e+00 : f32, #exec.ptr<1>, array<i64: 2, 3>, 2 : i32]}
    exec.kernel "gemm" ins(%arg0, %0 : !exec.buffer<2x4xf32>, !exec.buffer<3x4xf32>) outs(%2 : !exec.buffer<2x3xf32>) {args = [false, true, 2, 3, 4, 1.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, 1.000000e+00 : f32, #exec.ptr<2>, #exec.null, 0]}
    return %2 : !exec.buffer<2x3xf32>
  }
  func.func @train_step(%arg0: !exec.buffer<2x4xf32>, %arg1: !exec.buffer<2xi32>) -> !exec.buffer<f32> attributes {dlc.arg_offsets = [192, 256]} {
    %0 = exec.global_ref @w : !exec.buffer<3x4xf32>
    %1 = exec.alloc {offset = 320 : i64} : !exec.buffer<2x3xf32>
    exec.kernel "gemm" ins(%arg0, %0 : !exec.buffer<2x4xf32>, !exec.buffer<3x4xf32>) outs(%1 : !exec.buffer<2x3xf32>) {args = [false, true, 2, 3, 4, 1.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, 0.000000e+00 : f32, #exec.ptr<2>, #exec.null, 0]}
    %2 = exec.alloc {offset = 384 : i64} : !exec.buffer<f32>
    exec.kernel "softmaxCrossEntropy" ins(%1, %arg1 : !exec.buffer<2x3xf32>, !exec.buffer<2xi32>) outs(%2 : !exec.buffer<f32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, 2, 3]}
    %3 = exec.alloc {offset = 448 : i64} : !exec.buffer<f32>
    exec.kernel "fill" outs(%3 : !exec.buffer<f32>) {args = [#exec.ptr<0>, 1.000000e+00 : f32, 1]}
    %4 = exec.alloc {offset = 512 : i64} : !exec.buffer<2x3xf32>
    exec.kernel "softmaxCrossEntropyGrad" ins(%1, %arg1, %3 : !exec.buffer<2x3xf32>, !exec.buffer<2xi32>, !exec.buffer<f32>) outs(%4 : !exec.buffer<2x3xf32>) {args = [#exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, 2, 3]}
    %5 = exec.alloc {offset = 256 : i64} : !exec.buffer<3x4xf32>
    exec.kernel "gemm" ins(%4, %arg0 : !exec.buffer<2x3xf32>, !exec.buffer<2x4xf32>) outs(%5 : !exec.buffer<3x4xf32>) {args = [true, false, 3, 4, 2, 1.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, 0.000000e+00 : f32, #exec.ptr<2>, #exec.null, 0]}
    %6 = exec.allreduce_start %5 : !exec.buffer<3x4xf32>
    exec.wait %6
    %7 = exec.global_ref @w : !exec.buffer<3x4xf32>
    %8 = exec.global_ref @w_velocity : !exec.buffer<3x4xf32>
    exec.kernel "sgdUpdate" ins(%7, %5, %8 : !exec.buffer<3x4xf32>, !exec.buffer<3x4xf32>, !exec.buffer<3x4xf32>) outs(%7, %8 : !exec.buffer<3x4xf32>, !exec.buffer<3x4xf32>) {args = [#exec.ptr<3>, #exec.ptr<1>, #exec.ptr<4>, 12], in_place = array<i64: 0, 2>}
    return %2 : !exec.buffer<f32>
  }
}


// The exec ops are gone; constants come first, then the two functions, one
// call per kernel.
// CHECK-NOT: exec.
// CHECK: emitc.include "dlc/Runtime/Kernels.h"
// CHECK: emitc.global static const @dlc_dims0 : !emitc.array<2xi64> = dense<[0, 1]>
// CHECK-LABEL: emitc.func @forward
// CHECK-SAME: (%[[CTX:.+]]: !emitc.opaque<"dlc::rt::Context &">, %[[ARENA:.+]]: !emitc.ptr<!emitc.opaque<"char">>)
// CHECK-SAME: specifiers = ["static"]
// CHECK: %[[B:.+]] = call_opaque "dlc::rt::f32At"(%[[ARENA]]) {args = [0 : index, 64]}
// CHECK: %[[Y:.+]] = call_opaque "dlc::rt::f32At"(%[[ARENA]]) {args = [0 : index, 256]}
// CHECK: call_opaque "dlc::rt::broadcastScaled"(%[[CTX]], %[[B]], %{{.+}}, %[[Y]], %{{.+}}) {args = [0 : index, 1 : index, 2 : index, 1.000000e+00 : f32, 3 : index, 4 : index, 2 : i32]}
// CHECK: call_opaque "dlc::rt::gemm"(%[[CTX]], {{.*}}) {args = [0 : index, false, true, 2, 3, 4, 1.000000e+00 : f32, 1 : index, 2 : index, 1.000000e+00 : f32, 3 : index, #emitc.opaque<"nullptr">, 0]}
// CHECK-LABEL: emitc.func @trainStep
// CHECK: call_opaque "dlc::rt::i32At"
// CHECK: call_opaque "dlc::rt::softmaxCrossEntropy"
// CHECK: call_opaque "dlc::rt::fill"
// The average is started and waited for at once.
// CHECK: %[[H:.+]] = call_opaque "dlc::rt::allReduceMeanStart"({{.*}}) {{.*}} : {{.*}} -> i64
// CHECK-NEXT: call_opaque "dlc::rt::allReduceMeanWait"(%{{.+}}, %[[H]])
// The in-place outputs are the parameter and its velocity.
// CHECK: call_opaque "dlc::rt::sgdUpdate"(%[[CTX2:.+]], %[[W:.+]], %[[G:.+]], %[[V:.+]]) {args = [0 : index, 1 : index, 2 : index, 3 : index, 12]}
// The table, every field by name: the offset of the initial value in the
// embedded data (64-byte aligned, -1: zeros), whether --save writes it (a
// parameter training updates; @b is not updated here).
// CHECK: emitc.global static const @dlc_variables : !emitc.array<3x!emitc.opaque<"dlc::rt::VariableInfo">> = #emitc.opaque<"{{[{][{]}}.onnxName = \22fc.weight\22, .arenaOffset = 0, .numElements = 12, .elementType = dlc::rt::ElementType::F32, .shape = [[W_SHAPE:dlc_dims[0-9]+]], .rank = 2, .initOffset = 0, .saved = true}, {.onnxName = \22fc.bias\22, .arenaOffset = 64, .numElements = 3, .elementType = dlc::rt::ElementType::F32, .shape = dlc_dims{{[0-9]+}}, .rank = 1, .initOffset = 64, .saved = false}, {.onnxName = nullptr, .arenaOffset = 128, .numElements = 12, .elementType = dlc::rt::ElementType::F32, .shape = [[W_SHAPE]], .rank = 2, .initOffset = -1, .saved = false}}">
// CHECK: emitc.global static const @dlc_forward_inputs : !emitc.array<1x!emitc.opaque<"dlc::rt::TensorSlot">> = #emitc.opaque<"{{[{][{]}}.name = \22\22, .arenaOffset = 192, .elementType = dlc::rt::ElementType::F32, .shape = dlc_dims{{[0-9]+}}, .rank = 2}}">
// CHECK: emitc.global static const @dlc_forward_outputs : !emitc.array<1x!emitc.opaque<"dlc::rt::TensorSlot">> = #emitc.opaque<"{{[{][{]}}.name = \22\22, .arenaOffset = 256, .elementType = dlc::rt::ElementType::F32, .shape = dlc_dims{{[0-9]+}}, .rank = 2}}">
// CHECK: emitc.global const @dlc_model : !emitc.opaque<"dlc::rt::ModelInfo"> = #emitc.opaque<"{.sourceFile = \22tiny.onnx\22, .trainingConfig = \22sgd\22, .arenaBytes = 576, .inputShape = dlc_dims{{[0-9]+}}, .inputRank = 2, .numClasses = 3, .trainStep = trainStep, .trainInputOffset = 192, .trainLabelsOffset = 256, .trainLossOffset = 384, .flushCarried = nullptr, .forward = forward, .forwardInputOffset = 192, .forwardOutputOffset = 256, .variables = dlc_variables, .numVariables = 3, .forwardInputs = dlc_forward_inputs, .numForwardInputs = 1, .forwardOutputs = dlc_forward_outputs, .numForwardOutputs = 1, .defaults = {.optimizer = dlc::rt::Optimizer::Sgd, .lr = 1.000000015e-01f, .momentum = 8.999999762e-01f, .weightDecay = 0.000000000e+00f, .beta1 = 8.999999762e-01f, .beta2 = 9.990000129e-01f, .eps = 9.999999939e-09f, .step = 1}, .hasVelocity = true, .programHash = {{[0-9]+}}ULL, .statistics = nullptr, .numStatistics = 0, .precision = nullptr, .numPrecision = 0, .adjustableFormats = false}">

// CPP: // Generated by dlc for the CPU runtime. Do not edit.
// CPP: #include "dlc/Runtime/Kernels.h"
// CPP: static const int64_t dlc_dims0[2] = {0, 1};
// CPP: static void forward(dlc::rt::Context & [[CTX:v[0-9]+]], char* [[ARENA:v[0-9]+]]) {
// CPP: float* [[B:v[0-9]+]] = dlc::rt::f32At([[ARENA]], 64);
// CPP: dlc::rt::gemm([[CTX]], false, true, 2, 3, 4, 1.000000000e+00f,
// CPP: static void trainStep(
// CPP: dlc::rt::sgdUpdate({{.*}}, 12);
// CPP: const dlc::rt::ModelInfo dlc_model = {.sourceFile = "tiny.onnx", .trainingConfig = "", .arenaBytes = 576,

// CUDA: emitc.verbatim "// Generated by dlc for the CUDA runtime. Do not edit."
