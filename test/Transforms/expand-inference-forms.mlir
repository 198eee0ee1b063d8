// RUN: dlc-opt %s -dlc-expand-inference-forms | FileCheck %s

graph.variable @mean : tensor<3xf32> = dense<0.5> : tensor<3xf32>
graph.variable @var : tensor<3xf32> = dense<2.0> : tensor<3xf32>

// Inference form: one batch_norm_inference of the loaded running
// statistics.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: ([[X:%.+]]: tensor<2x3x4x4xf32>, [[S:%.+]]: tensor<3xf32>, [[B:%.+]]: tensor<3xf32>)
// CHECK: [[M:%.+]] = graph.load @mean : tensor<3xf32>
// CHECK: [[V:%.+]] = graph.load @var : tensor<3xf32>
// CHECK: [[Y:%.+]] = graph.batch_norm_inference [[X]], [[S]], [[B]], [[M]], [[V]] {epsilon = 9.99999974E-6 : f32} : tensor<2x3x4x4xf32>, tensor<3xf32>
// CHECK: return [[Y]]
// CHECK-NOT: graph.batch_norm
func.func @forward(%x: tensor<2x3x4x4xf32>, %scale: tensor<3xf32>, %bias: tensor<3xf32>) -> tensor<2x3x4x4xf32> {
  %y = graph.batch_norm %x, %scale, %bias {running_mean = @mean, running_var = @var, epsilon = 1.0e-05 : f32, momentum = 0.9 : f32} : tensor<2x3x4x4xf32>, tensor<3xf32>
  return %y : tensor<2x3x4x4xf32>
}

// Dropout infers as the identity.
// CHECK-LABEL: func.func @dropout
// CHECK-SAME: ([[X:%.+]]: tensor<2x3xf32>)
// CHECK-NEXT: return [[X]]
func.func @dropout(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = graph.dropout %x {ratio = 0.5 : f32} : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
