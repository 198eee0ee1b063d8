// RUN: dlc-opt %s -dlc-convert-graph-to-emitc | FileCheck %s
// RUN: not dlc-opt %s -dlc-convert-graph-to-emitc="target=cuda" 2>&1 | FileCheck %s --check-prefix=CUDA

// Training-form batch norm lowers to the fused runtime calls, each result at
// its own planned offset; the geometry is N x C x spatial (2 x 3 x 4).
// CHECK: emitc.global static const @dlc_geometry0 : !emitc.opaque<"dlc::rt::BatchNormGeometry"> = #emitc.opaque<"{2, 3, 4}">
// CHECK-LABEL: emitc.func @trainStep
// CHECK: [[X:%.+]] = call_opaque "dlc::rt::f32At"(%arg1) {args = [0 : index, 128]}
// CHECK: [[S:%.+]] = call_opaque "dlc::rt::f32At"(%arg1) {args = [0 : index, 0]}
// CHECK: [[B:%.+]] = call_opaque "dlc::rt::f32At"(%arg1) {args = [0 : index, 64]}
// CHECK: [[Y:%.+]] = call_opaque "dlc::rt::f32At"(%arg1) {args = [0 : index, 320]}
// CHECK: [[M:%.+]] = call_opaque "dlc::rt::f32At"(%arg1) {args = [0 : index, 448]}
// CHECK: [[V:%.+]] = call_opaque "dlc::rt::f32At"(%arg1) {args = [0 : index, 512]}
// CHECK: call_opaque "dlc::rt::batchNormTraining"(%arg0, %{{.+}}, [[X]], [[S]], [[B]], [[Y]], [[M]], [[V]]) {args = [0 : index, 1 : index, 1.000000e-03 : f32, 2 : index
// CHECK: call_opaque "dlc::rt::batchNormTrainingGrad"(%arg0, %{{.+}}, [[Y]], [[X]], [[S]], [[M]], [[V]], %{{.+}}, %{{.+}}, %{{.+}})
// CUDA: 'graph.batch_norm_train' op has no CUDA kernel yet; compile this model with --target=cpu
module attributes {dlc.arena_size = 1024 : i64} {
  graph.variable trainable @s {dlc.offset = 0 : i64} : tensor<3xf32> = dense<1.0> : tensor<3xf32>
  graph.variable trainable @b {dlc.offset = 64 : i64} : tensor<3xf32> = dense<0.0> : tensor<3xf32>
  func.func @forward(%x: tensor<2x3x2x2xf32>) -> tensor<2x3x2x2xf32> attributes {dlc.arg_offsets = [128]} {
    return %x : tensor<2x3x2x2xf32>
  }
  func.func @train_step(%x: tensor<2x3x2x2xf32>, %labels: tensor<2xi32>) -> tensor<2x3x2x2xf32> attributes {dlc.arg_offsets = [128, 256]} {
    %s = graph.load @s {dlc.offset = 0 : i64} : tensor<3xf32>
    %b = graph.load @b {dlc.offset = 64 : i64} : tensor<3xf32>
    %y, %m, %v = graph.batch_norm_train %x, %s, %b {dlc.result_offsets = [320, 448, 512], epsilon = 1.0e-03 : f32} : tensor<2x3x2x2xf32>, tensor<3xf32>
    %dx, %ds, %db = graph.batch_norm_grad %y, %x, %s, %m, %v {dlc.result_offsets = [576, 704, 768], epsilon = 1.0e-03 : f32} : tensor<2x3x2x2xf32>, tensor<3xf32>
    return %dx : tensor<2x3x2x2xf32>
  }
}
