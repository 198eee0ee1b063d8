// RUN: dlc-opt %s -split-input-file -verify-diagnostics -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s

// On CUDA, convolution, pooling and batch norm are cuDNN calls queued on the step's
// stream, with the same geometry and scratch as on the CPU: cuDNN picks, at
// run time, an algorithm whose workspace fits the planned scratch, and max
// pooling's gradient reruns the forward pass into it.
// CHECK-LABEL: func.func @conv_and_pool
// CHECK-NEXT: %[[S:.+]] = exec.stream : !exec.stream
// CHECK: %[[WS:.+]] = exec.alloc : !exec.buffer<157696xi8>
// CHECK: exec.kernel "conv2d" on %[[S]] ins({{.*}}) outs(%{{.+}} : !exec.buffer<2x6x4x4xf32>) scratch(%[[WS]] : !exec.buffer<157696xi8>) {args = [#exec.struct<"Conv2DGeometry", [2, 4, 8, 8, 6, 3, 3, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2]>, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, #exec.ptr<4>, 157696]}
// CHECK: exec.kernel "conv2dBackwardData" on %[[S]]
// CHECK: exec.kernel "conv2dBackwardFilter" on %[[S]]
// CHECK: exec.kernel "maxPool2d" on %[[S]] {{.*}} {args = [#exec.struct<"Pool2DGeometry", [2, 6, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.null, 0]}
// CHECK: exec.alloc : !exec.buffer<384xi8>
// CHECK: exec.kernel "maxPool2dGrad" on %[[S]] {{.*}} 384]}
// CHECK: exec.kernel "avgPool2dGrad" on %[[S]]
func.func @conv_and_pool(%x: tensor<2x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>, %dy: tensor<2x6x4x4xf32>, %dp: tensor<2x6x2x2xf32>) -> (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>, tensor<2x6x4x4xf32>) {
  %y = graph.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x4x4xf32>
  %dx = graph.conv2d_backward_data %dy, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x8x8xf32>
  %dw = graph.conv2d_backward_filter %dy, %x {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<6x2x3x3xf32>
  %m = graph.max_pool2d %y {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x6x4x4xf32> -> tensor<2x6x2x2xf32>
  %dm = graph.max_pool2d_grad %dp, %y {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>
  %da = graph.avg_pool2d_grad %dp {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad} : tensor<2x6x2x2xf32> -> tensor<2x6x4x4xf32>
  return %y, %dx, %dw, %m, %dm, %da : tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>, tensor<2x6x4x4xf32>
}

// -----

// Batch norm in training form: cuDNN's, one call each way.
// CHECK-LABEL: func.func @batch_norm
// CHECK: exec.kernel "batchNormTraining" on %{{.+}} {{.*}} {args = [#exec.struct<"BatchNormGeometry", [2, 3, 4]>
// CHECK: exec.kernel "batchNormTrainingGrad" on %{{.+}} {{.*}} {args = [#exec.struct<"BatchNormGeometry", [2, 3, 4]>, {{.*}}, #exec.ptr<8>, 12]
func.func @batch_norm(%x: tensor<2x3x2x2xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<2x3x2x2xf32> {
  %y, %m, %v = graph.batch_norm_train %x, %s, %b {epsilon = 1.0e-03 : f32} : tensor<2x3x2x2xf32>, tensor<3xf32>
  %dx, %ds, %db = graph.batch_norm_grad %y, %x, %s, %m, %v {epsilon = 1.0e-03 : f32} : tensor<2x3x2x2xf32>, tensor<3xf32>
  return %dx : tensor<2x3x2x2xf32>
}

// -----

// cuDNN pads both sides of a dimension alike: a convolution padded 1 on
// top and 2 at the bottom gets, in front of its scratch, room for its input
// padded explicitly (1 x 1 x 8 x 5 floats, 160 bytes, rounded up to 256)
// besides the layout-copy bound (150208 bytes); the runtime pads into it.
// CHECK-LABEL: func.func @uneven
// CHECK: exec.alloc : !exec.buffer<[[BYTES:150464]]xi8>
// CHECK: exec.kernel "conv2d" on %{{.+}} {{.*}} {args = [#exec.struct<"Conv2DGeometry", [1, 1, 5, 5, 1, 3, 3, 6, 3, 1, 1, 1, 0, 2, 0, 1, 1, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.null, #exec.ptr<2>, #exec.ptr<3>, [[BYTES]]]}
func.func @uneven(%x: tensor<1x1x5x5xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x6x3xf32> {
  %y = graph.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 0, 2, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x5x5xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x6x3xf32> loc("conv")
  return %y : tensor<1x1x6x3xf32>
}

// -----

// Dilated pooling: the same call; the runtime pools such windows with a
// kernel of its own (cuDNN has none).
// CHECK-LABEL: func.func @dilated
// CHECK: exec.kernel "maxPool2d" on %{{.+}} {{.*}} {args = [#exec.struct<"Pool2DGeometry", [1, 1, 5, 5, 1, 1, 3, 3, 1, 1, 0, 0, 0, 0, 0, 2, 2]>
func.func @dilated(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x1x1xf32> {
  %y = graph.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>} : tensor<1x1x5x5xf32> -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}
