// RUN: dlc-opt %s -dlc-convert-graph-to-exec -dlc-size-cpu-workspaces | FileCheck %s

// oneDNN says how many bytes each of its calls needs on this machine's CPU
// (the number differs between CPUs, so it is captured, not spelled): each
// call gets a scratch buffer of exactly that size, passed with it last, in
// place of the lowering's bound (157696 bytes for these convolutions).
// Calls oneDNN does not back keep their arguments.

// CHECK-LABEL: func.func @conv
// CHECK-NOT: 157696
// CHECK: %[[FWD:.+]] = exec.alloc : !exec.buffer<[[FWDBYTES:[0-9]+]]xi8>
// CHECK: exec.kernel "conv2d" {{.*}} scratch(%[[FWD]] : {{.*}}) {args = [{{.*}}, #exec.ptr<4>, [[FWDBYTES]]]}
// CHECK: %[[BWD:.+]] = exec.alloc : !exec.buffer<[[BWDBYTES:[0-9]+]]xi8>
// CHECK: exec.kernel "conv2dBackwardFilter" {{.*}} scratch(%[[BWD]] : {{.*}}) {args = [{{.*}}, #exec.ptr<3>, [[BWDBYTES]]]}
// CHECK: exec.kernel "activation" {{.*}} {args = [#exec.enum<"Activation::Relu">, 0.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, 192], reusable = array<i64: 0>}
// CHECK-NOT: 157696
func.func @conv(%x: tensor<2x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>, %dy: tensor<2x6x4x4xf32>) -> (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>, tensor<2x6x4x4xf32>) {
  %y = graph.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x4x4xf32>
  %dw = graph.conv2d_backward_filter %dy, %x {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<6x2x3x3xf32>
  %r = graph.relu %dy : tensor<2x6x4x4xf32>
  return %y, %dw, %r : tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>, tensor<2x6x4x4xf32>
}

// Pooling and batch norm, which the lowering gave null and 0: each call
// ends with the scratch it now has and its size (null and 0 if oneDNN
// needs none).
// CHECK-LABEL: func.func @pool_and_norm
// CHECK: exec.kernel "maxPool2d" {{.*}}, [[MAXP:#exec.ptr<2>|#exec.null]], [[MAXB:[0-9]+]]]}
// CHECK: exec.kernel "batchNormTraining" {{.*}}, [[BNP:#exec.ptr<6>|#exec.null]], [[BNB:[0-9]+]]]}
func.func @pool_and_norm(%x: tensor<2x6x4x4xf32>, %s: tensor<6xf32>, %b: tensor<6xf32>) -> (tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>, tensor<6xf32>, tensor<6xf32>) {
  %m = graph.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x6x4x4xf32> -> tensor<2x6x2x2xf32>
  %y, %mean, %var = graph.batch_norm_train %x, %s, %b {epsilon = 1.0e-03 : f32} : tensor<2x6x4x4xf32>, tensor<6xf32>
  return %m, %y, %mean, %var : tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>, tensor<6xf32>, tensor<6xf32>
}
