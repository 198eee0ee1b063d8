// RUN: dlc-opt %s -dlc-convert-graph-to-exec | FileCheck %s

// Geometries are runtime structs, fields in declaration order: Conv2DGeometry
// (N, C, H, W, K, R, S, P, Q, strides, pads, dilations, group, images per
// call: the whole batch) and Pool2DGeometry (N, C, H, W, P, Q, kernel,
// strides, pads, count_include_pad, dilations). A convolution without bias
// passes null.
// Every call oneDNN backs takes scratch last, with its size; the lowering
// plans a bound of what it can count (dlc-size-cpu-workspaces asks oneDNN
// later, test/Target/Cpu). Each direction of a convolution gets the
// library's layout copies of its three tensors, channels (and groups)
// padded to 16: x 2x16x8x8, w 16x16x16x3x3, y 2x16x4x4 floats = 157696
// bytes. Pooling gets none: null and 0.
// CHECK-LABEL: func.func @conv
// CHECK: %[[WS:.+]] = exec.alloc : !exec.buffer<157696xi8>
// CHECK: exec.kernel "conv2d" ins(%{{.+}}, %{{.+}}, %{{.+}} : {{.*}}) outs(%{{.+}} : !exec.buffer<2x6x4x4xf32>) scratch(%[[WS]] : !exec.buffer<157696xi8>) {args = [#exec.struct<"Conv2DGeometry", [2, 4, 8, 8, 6, 3, 3, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2]>, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, #exec.ptr<4>, 157696]}
// CHECK: exec.kernel "conv2dBackwardData" {{.*}} {args = [#exec.struct<"Conv2DGeometry", [2, 4, 8, 8, 6, 3, 3, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2]>, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, 157696]}
// CHECK: exec.kernel "conv2dBackwardFilter" {{.*}} outs(%{{.+}} : !exec.buffer<6x2x3x3xf32>) scratch({{.*}}) {args = [#exec.struct<"Conv2DGeometry", [2, 4, 8, 8, 6, 3, 3, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2]>, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, 157696]}
// CHECK: exec.kernel "conv2d" ins(%{{.+}}, %{{.+}} : {{.*}}) outs({{.*}}) scratch({{.*}}) {args = [#exec.struct<"Conv2DGeometry", {{.*}}>, #exec.ptr<0>, #exec.ptr<1>, #exec.null, #exec.ptr<2>, #exec.ptr<3>, 157696]}
func.func @conv(%x: tensor<2x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>, %dy: tensor<2x6x4x4xf32>) -> (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<2x6x4x4xf32>) {
  %y = graph.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x4x4xf32>
  %dx = graph.conv2d_backward_data %dy, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x8x8xf32>
  %dw = graph.conv2d_backward_filter %dy, %x {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<6x2x3x3xf32>
  %n = graph.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<2x6x4x4xf32>
  return %y, %dx, %dw, %n : tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<2x6x4x4xf32>
}

// CHECK-LABEL: func.func @pool
// CHECK: exec.kernel "maxPool2d" {{.*}} {args = [#exec.struct<"Pool2DGeometry", [2, 6, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.null, 0]}
// Max pooling's gradient reruns the forward pass into planned scratch: its
// output and the maxima, 2x6x2x2 elements of at most 4 bytes each, twice.
// CHECK: exec.alloc : !exec.buffer<384xi8>
// CHECK: exec.kernel "maxPool2dGrad" {{.*}} {args = [#exec.struct<"Pool2DGeometry", [2, 6, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, #exec.ptr<3>, 384]}
// CHECK: exec.kernel "avgPool2d" {{.*}} {args = [#exec.struct<"Pool2DGeometry", [2, 6, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.null, 0]}
// CHECK: exec.kernel "avgPool2dGrad" {{.*}} {args = [#exec.struct<"Pool2DGeometry", [2, 6, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1]>, #exec.ptr<0>, #exec.ptr<1>, #exec.null, 0]}
func.func @pool(%x: tensor<2x6x4x4xf32>, %dy: tensor<2x6x2x2xf32>) -> (tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>, tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>) {
  %m = graph.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x6x4x4xf32> -> tensor<2x6x2x2xf32>
  %dm = graph.max_pool2d_grad %dy, %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>
  %a = graph.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad} : tensor<2x6x4x4xf32> -> tensor<2x6x2x2xf32>
  %da = graph.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad} : tensor<2x6x2x2xf32> -> tensor<2x6x4x4xf32>
  return %m, %dm, %a, %da : tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>, tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>
}
