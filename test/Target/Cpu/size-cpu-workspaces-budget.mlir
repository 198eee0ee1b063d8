// RUN: dlc-opt %s -dlc-convert-graph-to-exec -dlc-size-cpu-workspaces=budget=64 | FileCheck %s --check-prefix=TIGHT
// RUN: dlc-opt %s -dlc-convert-graph-to-exec -dlc-size-cpu-workspaces=budget=1073741824 | FileCheck %s --check-prefix=ROOMY

// Under a budget, a convolution whose scratch would take more than 1/8 of
// it goes to oneDNN in calls of fewer images: the images-per-call field of its
// geometry halves (8, 4, 2, 1) until the scratch fits or each call is one
// image (the layout fields after it stay 0, NCHW). Sizes differ between
// CPUs; the images per call do not.
// TIGHT-LABEL: func.func @conv
// TIGHT: exec.kernel "conv2d" {{.*}} {args = [#exec.struct<"Conv2DGeometry", [8, 16, 32, 32, 16, 3, 3, 32, 32, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]>
// TIGHT: exec.kernel "conv2dBackwardData" {{.*}} {args = [#exec.struct<"Conv2DGeometry", [8, {{.*}}, 1, 0, 0]>
// TIGHT: exec.kernel "conv2dBackwardFilter" {{.*}} {args = [#exec.struct<"Conv2DGeometry", [8, {{.*}}, 1, 0, 0]>

// With room to spare, each call takes the whole batch.
// ROOMY-LABEL: func.func @conv
// ROOMY: exec.kernel "conv2d" {{.*}} {args = [#exec.struct<"Conv2DGeometry", [8, {{.*}}, 1, 8]>
// ROOMY: exec.kernel "conv2dBackwardData" {{.*}} {args = [#exec.struct<"Conv2DGeometry", [8, {{.*}}, 1, 8]>
// ROOMY: exec.kernel "conv2dBackwardFilter" {{.*}} {args = [#exec.struct<"Conv2DGeometry", [8, {{.*}}, 1, 8]>
func.func @conv(%x: tensor<8x16x32x32xf32>, %w: tensor<16x16x3x3xf32>, %dy: tensor<8x16x32x32xf32>) -> (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) {
  %y = graph.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>
  %dx = graph.conv2d_backward_data %dy, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>) -> tensor<8x16x32x32xf32>
  %dw = graph.conv2d_backward_filter %dy, %x {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<16x16x3x3xf32>
  return %y, %dx, %dw : tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>
}
