// RUN: dlc-opt %s -dlc-expand-inference-forms | FileCheck %s

graph.variable @mean : tensor<3xf32> = dense<0.5> : tensor<3xf32>
graph.variable @var : tensor<3xf32> = dense<2.0> : tensor<3xf32>

// Inference form: (x - mean) * (rsqrt(var + eps) * scale) + bias, with the
// per-channel vectors reshaped to 1 x C x 1 x 1.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: ([[X:%.+]]: tensor<2x3x4x4xf32>, [[S:%.+]]: tensor<3xf32>, [[B:%.+]]: tensor<3xf32>)
// CHECK: [[M:%.+]] = graph.load @mean
// CHECK: [[MR:%.+]] = graph.reshape [[M]] : tensor<3xf32> -> tensor<1x3x1x1xf32>
// CHECK: [[C:%.+]] = graph.sub [[X]], [[MR]]
// CHECK: [[V:%.+]] = graph.load @var
// CHECK: [[VR:%.+]] = graph.reshape [[V]]
// CHECK: [[I:%.+]] = graph.rsqrt [[VR]] {epsilon = 9.99999974E-6 : f32}
// CHECK: [[SR:%.+]] = graph.reshape [[S]]
// CHECK: [[F:%.+]] = graph.mul [[I]], [[SR]]
// CHECK: [[BR:%.+]] = graph.reshape [[B]]
// CHECK: [[N:%.+]] = graph.mul [[C]], [[F]]
// CHECK: [[Y:%.+]] = graph.add [[N]], [[BR]]
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
