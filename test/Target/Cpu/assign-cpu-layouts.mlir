// RUN: dlc-opt %s -dlc-convert-graph-to-exec -dlc-assign-cpu-layouts=block=16 | FileCheck %s --check-prefix=B16
// RUN: dlc-opt %s -dlc-convert-graph-to-exec -dlc-assign-cpu-layouts=block=8 | FileCheck %s --check-prefix=B8
// RUN: dlc-opt %s -dlc-convert-graph-to-exec -dlc-assign-cpu-layouts=block=0 | FileCheck %s --check-prefix=PLAIN
// RUN: not dlc-opt %s -dlc-convert-graph-to-exec -dlc-assign-cpu-layouts=block=4 2>&1 | FileCheck %s --check-prefix=BAD

// The layout fields close each geometry: Conv2DGeometry's and
// Pool2DGeometry's input and output blocks, BatchNormGeometry's block.

// Between the convolutions every buffer is blocked: the first one's output,
// batch norm's input and output, the ReLU over it, the second one's input.
// The step's argument (3 channels) and its result stay NCHW.
// B16-LABEL: func.func @chain
// B16: exec.kernel "conv2d" {{.*}}Conv2DGeometry", [2, 3, 8, 8, 16, {{.*}}, 2, 0, 16]>
// B16: exec.kernel "batchNormTraining" {{.*}}BatchNormGeometry", [2, 16, 64, 16]>
// B16: exec.kernel "activation"
// B16: exec.kernel "conv2d" {{.*}}Conv2DGeometry", [2, 16, 8, 8, 16, {{.*}}, 2, 16, 0]>
// B8-LABEL: func.func @chain
// B8: exec.kernel "conv2d" {{.*}}, 2, 0, 8]>
// B8: exec.kernel "batchNormTraining" {{.*}}BatchNormGeometry", [2, 16, 64, 8]>
// B8: exec.kernel "conv2d" {{.*}}, 2, 8, 0]>
// With block 0 nothing changes: the lowering's geometries, without layout
// fields.
// PLAIN-LABEL: func.func @chain
// PLAIN: exec.kernel "conv2d" {{.*}}Conv2DGeometry", [2, 3, 8, 8, 16, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]>
// PLAIN: exec.kernel "batchNormTraining" {{.*}}BatchNormGeometry", [2, 16, 64]>
func.func @chain(%x: tensor<2x3x8x8xf32>, %w1: tensor<16x3x3x3xf32>, %s: tensor<16xf32>, %b: tensor<16xf32>, %w2: tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32> {
  %h = graph.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x3x8x8xf32>, tensor<16x3x3x3xf32>) -> tensor<2x16x8x8xf32>
  %n, %mean, %var = graph.batch_norm_train %h, %s, %b {epsilon = 1.0e-05 : f32} : tensor<2x16x8x8xf32>, tensor<16xf32>
  %r = graph.relu %n : tensor<2x16x8x8xf32>
  %y = graph.conv2d %r, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32>
  return %y : tensor<2x16x8x8xf32>
}

// 24 channels fill whole blocks of 8 but not of 16.
// B16-LABEL: func.func @channels
// B16-NOT: , 16]>
// B16: return
// B8-LABEL: func.func @channels
// B8: exec.kernel "conv2d" {{.*}}, 2, 0, 8]>
// B8: exec.kernel "conv2d" {{.*}}, 2, 8, 0]>
func.func @channels(%x: tensor<2x3x8x8xf32>, %w1: tensor<24x3x3x3xf32>, %w2: tensor<16x24x3x3xf32>) -> tensor<2x16x8x8xf32> {
  %h = graph.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x3x8x8xf32>, tensor<24x3x3x3xf32>) -> tensor<2x24x8x8xf32>
  %r = graph.relu %h : tensor<2x24x8x8xf32>
  %y = graph.conv2d %r, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x24x8x8xf32>, tensor<16x24x3x3xf32>) -> tensor<2x16x8x8xf32>
  return %y : tensor<2x16x8x8xf32>
}

// A reshape (a view of the same bytes) and a broadcast add read NCHW, and
// so does everything tied to them through elementwise kernels: here the
// whole chain from the first convolution's output to the second's input.
// B16-LABEL: func.func @view_and_broadcast
// B16-NOT: , 16]>
// B16: return
func.func @view_and_broadcast(%x: tensor<2x3x8x8xf32>, %w1: tensor<16x3x3x3xf32>, %w2: tensor<16x16x3x3xf32>, %bias: tensor<1x16x1x1xf32>) -> (tensor<2x16x8x8xf32>, tensor<2x1024xf32>) {
  %h = graph.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x3x8x8xf32>, tensor<16x3x3x3xf32>) -> tensor<2x16x8x8xf32>
  %r = graph.relu %h : tensor<2x16x8x8xf32>
  %a = graph.add %r, %bias : (tensor<2x16x8x8xf32>, tensor<1x16x1x1xf32>) -> tensor<2x16x8x8xf32>
  %y = graph.conv2d %a, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32>
  %flat = graph.reshape %r : tensor<2x16x8x8xf32> -> tensor<2x1024xf32>
  return %y, %flat : tensor<2x16x8x8xf32>, tensor<2x1024xf32>
}

// Pooling's input and output may differ: max pooling reads the blocked
// convolution output; the average pooling's result is the step's own
// (NCHW), its input blocked.
// B16-LABEL: func.func @pooling
// B16: exec.kernel "conv2d" {{.*}}, 2, 0, 16]>
// B16: exec.kernel "maxPool2d" {{.*}}Pool2DGeometry", [2, 16, 8, 8, 4, 4, {{.*}}, 16, 16]>
// B16: exec.kernel "avgPool2d" {{.*}}Pool2DGeometry", [2, 16, 4, 4, 1, 1, {{.*}}, 16, 0]>
func.func @pooling(%x: tensor<2x3x8x8xf32>, %w1: tensor<16x3x3x3xf32>) -> tensor<2x16x1x1xf32> {
  %h = graph.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x3x8x8xf32>, tensor<16x3x3x3xf32>) -> tensor<2x16x8x8xf32>
  %m = graph.max_pool2d %h {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x16x8x8xf32> -> tensor<2x16x4x4xf32>
  %g = graph.avg_pool2d %m {kernel = array<i64: 4, 4>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x16x4x4xf32> -> tensor<2x16x1x1xf32>
  return %g : tensor<2x16x1x1xf32>
}

// BAD: error: dlc-assign-cpu-layouts: block 4 is none of 0, 8, 16
