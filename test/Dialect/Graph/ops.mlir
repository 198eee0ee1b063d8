// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// RUN: dlc-opt %s --mlir-print-op-generic | dlc-opt | FileCheck %s

// CHECK: graph.variable trainable @w {onnx_name = "fc.weight"} : tensor<3x4xf32> = dense<1.000000e+00> : tensor<3x4xf32>
graph.variable trainable @w {onnx_name = "fc.weight"} : tensor<3x4xf32> = dense<1.0> : tensor<3x4xf32>
// CHECK: graph.variable trainable @b : tensor<3xf32> = dense<0.000000e+00> : tensor<3xf32>
graph.variable trainable @b : tensor<3xf32> = dense<0.0> : tensor<3xf32>
// CHECK: graph.variable @w_velocity : tensor<3x4xf32>{{$}}
graph.variable @w_velocity : tensor<3x4xf32>
graph.variable @b_m : tensor<3xf32>
graph.variable @b_v : tensor<3xf32>

// CHECK-LABEL: func.func @forward
func.func @forward(%x: tensor<2x1x2x2xf32>, %labels: tensor<2xi32>) -> tensor<f32> {
  // CHECK: [[FLAT:%.+]] = graph.reshape %{{.+}} : tensor<2x1x2x2xf32> -> tensor<2x4xf32>
  %flat = graph.reshape %x : tensor<2x1x2x2xf32> -> tensor<2x4xf32>
  // CHECK: [[W:%.+]] = graph.load @w : tensor<3x4xf32>
  %w = graph.load @w : tensor<3x4xf32>
  %b = graph.load @b : tensor<3xf32>
  // CHECK: graph.gemm [[FLAT]], [[W]], %{{.+}} {alpha = 5.000000e-01 : f32, trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %y = graph.gemm %flat, %w, %b {trans_b, alpha = 0.5 : f32} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.add %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %z = graph.add %y, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.relu %{{.+}} : tensor<2x3xf32>
  %r = graph.relu %z : tensor<2x3xf32>
  // CHECK: graph.softmax %{{.+}} : tensor<2x3xf32>
  %p = graph.softmax %r : tensor<2x3xf32>
  // CHECK: graph.mse_loss %{{.+}}, %{{.+}} : tensor<2x3xf32>, tensor<2xi32>
  %m = graph.mse_loss %p, %labels : tensor<2x3xf32>, tensor<2xi32>
  // CHECK: graph.softmax_cross_entropy %{{.+}}, %{{.+}} : tensor<2x3xf32>, tensor<2xi32>
  %l = graph.softmax_cross_entropy %r, %labels : tensor<2x3xf32>, tensor<2xi32>
  // CHECK: graph.ones : tensor<f32>
  %one = graph.ones : tensor<f32>
  // CHECK: graph.softmax_cross_entropy_grad %{{.+}}, %{{.+}}, %{{.+}} : tensor<2x3xf32>, tensor<2xi32>
  %dr = graph.softmax_cross_entropy_grad %r, %labels, %one : tensor<2x3xf32>, tensor<2xi32>
  // CHECK: graph.mse_loss_grad %{{.+}}, %{{.+}}, %{{.+}} : tensor<2x3xf32>, tensor<2xi32>
  %dp = graph.mse_loss_grad %p, %labels, %one : tensor<2x3xf32>, tensor<2xi32>
  // CHECK: graph.softmax_grad %{{.+}}, %{{.+}} : tensor<2x3xf32>
  %ds = graph.softmax_grad %dp, %p : tensor<2x3xf32>
  // CHECK: graph.relu_grad %{{.+}}, %{{.+}} : tensor<2x3xf32>
  %dz = graph.relu_grad %dr, %r : tensor<2x3xf32>
  // CHECK: graph.reduce_sum_to %{{.+}} : tensor<2x3xf32> -> tensor<3xf32>
  %db = graph.reduce_sum_to %dz : tensor<2x3xf32> -> tensor<3xf32>
  // CHECK: graph.scale %{{.+}} {factor = 2.000000e+00 : f32} : tensor<3xf32>
  %db2 = graph.scale %db {factor = 2.0 : f32} : tensor<3xf32>
  // CHECK: graph.gemm %{{.+}}, %{{.+}} {trans_a} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  %dw = graph.gemm %dz, %flat {trans_a} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  // CHECK: graph.allreduce_mean %{{.+}} : tensor<3x4xf32>
  %dwa = graph.allreduce_mean %dw : tensor<3x4xf32>
  // CHECK: graph.sgd_update @w, %{{.+}} velocity @w_velocity : tensor<3x4xf32>
  graph.sgd_update @w, %dwa velocity @w_velocity : tensor<3x4xf32>
  // CHECK: graph.sgd_update @b, %{{.+}} : tensor<3xf32>
  graph.sgd_update @b, %db2 : tensor<3xf32>
  // CHECK: graph.adam_update @b, %{{.+}} moments @b_m, @b_v {decoupled} : tensor<3xf32>
  graph.adam_update @b, %db2 moments @b_m, @b_v {decoupled} : tensor<3xf32>
  %sum = graph.add %l, %m : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %sum : tensor<f32>
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<2x3xf32>, %v: tensor<3xf32>, %s: tensor<f32>) -> tensor<2x3xf32> {
  // CHECK: graph.sub %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %a = graph.sub %x, %v : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.mul %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %b = graph.mul %a, %s : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  // CHECK: graph.div %{{.+}}, %{{.+}} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %c = graph.div %v, %b : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: graph.sigmoid %{{.+}} : tensor<2x3xf32>
  %d = graph.sigmoid %c : tensor<2x3xf32>
  // CHECK: graph.tanh %{{.+}} : tensor<2x3xf32>
  %e = graph.tanh %d : tensor<2x3xf32>
  // CHECK: graph.leaky_relu %{{.+}} {alpha = 2.000000e-01 : f32} : tensor<2x3xf32>
  %f = graph.leaky_relu %e {alpha = 0.2 : f32} : tensor<2x3xf32>
  // CHECK: graph.sigmoid_grad %{{.+}}, %{{.+}} : tensor<2x3xf32>
  %g = graph.sigmoid_grad %f, %d : tensor<2x3xf32>
  // CHECK: graph.tanh_grad %{{.+}}, %{{.+}} : tensor<2x3xf32>
  %h = graph.tanh_grad %g, %e : tensor<2x3xf32>
  // CHECK: graph.leaky_relu_grad %{{.+}}, %{{.+}} {alpha = 2.000000e-01 : f32} : tensor<2x3xf32>
  %i = graph.leaky_relu_grad %h, %e {alpha = 0.2 : f32} : tensor<2x3xf32>
  return %i : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @conv_pool
func.func @conv_pool(%x: tensor<2x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> tensor<2x6x2x2xf32> {
  // CHECK: graph.conv2d %{{.+}}, %{{.+}}, %{{.+}} {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x4x4xf32>
  %c = graph.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x4x4xf32>
  // CHECK: graph.max_pool2d %{{.+}} {kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<2x6x4x4xf32> -> tensor<2x6x2x2xf32>
  %m = graph.max_pool2d %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x6x4x4xf32> -> tensor<2x6x2x2xf32>
  // Dilated: taps 2 apart span 3 inputs.
  // CHECK: graph.max_pool2d %{{.+}} {dilations = array<i64: 2, 2>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<2x6x4x4xf32> -> tensor<2x6x2x2xf32>
  %md = graph.max_pool2d %c {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>} : tensor<2x6x4x4xf32> -> tensor<2x6x2x2xf32>
  // CHECK: graph.avg_pool2d %{{.+}} {count_include_pad, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<2x6x2x2xf32> -> tensor<2x6x2x2xf32>
  %a = graph.avg_pool2d %m {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, count_include_pad} : tensor<2x6x2x2xf32> -> tensor<2x6x2x2xf32>
  // CHECK: graph.max_pool2d_grad %{{.+}}, %{{.+}} {kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>
  %dm = graph.max_pool2d_grad %a, %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x6x2x2xf32>, tensor<2x6x4x4xf32>
  // CHECK: graph.conv2d_backward_data
  %dx = graph.conv2d_backward_data %dm, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: graph.conv2d_backward_filter
  %dw = graph.conv2d_backward_filter %dm, %dx {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<6x2x3x3xf32>
  // CHECK: graph.avg_pool2d_grad %{{.+}} {kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<2x6x2x2xf32> -> tensor<2x6x4x4xf32>
  %da = graph.avg_pool2d_grad %a {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x6x2x2xf32> -> tensor<2x6x4x4xf32>
  return %a : tensor<2x6x2x2xf32>
}

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>) -> tensor<2x8xf32> {
  // CHECK: graph.transpose %{{.+}} {permutation = array<i64: 0, 2, 1>} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  %t = graph.transpose %x {permutation = array<i64: 0, 2, 1>} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  // CHECK: graph.concat %{{.+}}, %{{.+}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
  %c = graph.concat %x, %y {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
  // CHECK: graph.slice %{{.+}} {axis = 1 : i64, start = 3 : i64} : tensor<2x8x4xf32> -> tensor<2x5x4xf32>
  %s = graph.slice %c {axis = 1 : i64, start = 3 : i64} : tensor<2x8x4xf32> -> tensor<2x5x4xf32>
  %f = graph.reshape %c : tensor<2x8x4xf32> -> tensor<2x32xf32>
  // CHECK: graph.clip %{{.+}} {max = 6.000000e+00 : f32, min = 0.000000e+00 : f32} : tensor<2x32xf32>
  %r6 = graph.clip %f {min = 0.0 : f32, max = 6.0 : f32} : tensor<2x32xf32>
  // CHECK: graph.clip_grad
  %dr = graph.clip_grad %r6, %f {min = 0.0 : f32, max = 6.0 : f32} : tensor<2x32xf32>
  %g = graph.reshape %dr : tensor<2x32xf32> -> tensor<2x4x8xf32>
  %h = graph.reduce_sum_to %g : tensor<2x4x8xf32> -> tensor<2x1x8xf32>
  %k = graph.reshape %h : tensor<2x1x8xf32> -> tensor<2x8xf32>
  // CHECK: graph.log_softmax %{{.+}} : tensor<2x8xf32>
  %l = graph.log_softmax %k : tensor<2x8xf32>
  // CHECK: graph.log_softmax_grad %{{.+}}, %{{.+}} : tensor<2x8xf32>
  %dl = graph.log_softmax_grad %l, %l : tensor<2x8xf32>
  return %dl : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @batched_matmul
func.func @batched_matmul(%a: tensor<8x3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<1x6x4xf32>) -> tensor<8x3x6xf32> {
  // CHECK: graph.matmul %{{.+}}, %{{.+}} : (tensor<8x3x4xf32>, tensor<4x5xf32>) -> tensor<8x3x5xf32>
  %p = graph.matmul %a, %b : (tensor<8x3x4xf32>, tensor<4x5xf32>) -> tensor<8x3x5xf32>
  // CHECK: graph.matmul %{{.+}}, %{{.+}} {trans_b} : (tensor<8x3x4xf32>, tensor<1x6x4xf32>) -> tensor<8x3x6xf32>
  %q = graph.matmul %a, %c {trans_b} : (tensor<8x3x4xf32>, tensor<1x6x4xf32>) -> tensor<8x3x6xf32>
  return %q : tensor<8x3x6xf32>
}

// CHECK-LABEL: func.func @pad_lrn
func.func @pad_lrn(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  // CHECK: graph.pad %{{.+}} {high = array<i64: 0, 0, 2, 1>, low = array<i64: 0, 0, 1, 2>, value = 5.000000e-01 : f32} : tensor<2x3x4x4xf32> -> tensor<2x3x7x7xf32>
  %p = graph.pad %x {low = array<i64: 0, 0, 1, 2>, high = array<i64: 0, 0, 2, 1>, value = 0.5 : f32} : tensor<2x3x4x4xf32> -> tensor<2x3x7x7xf32>
  // CHECK: graph.crop %{{.+}} {offsets = array<i64: 0, 0, 1, 2>} : tensor<2x3x7x7xf32> -> tensor<2x3x4x4xf32>
  %c = graph.crop %p {offsets = array<i64: 0, 0, 1, 2>} : tensor<2x3x7x7xf32> -> tensor<2x3x4x4xf32>
  // CHECK: graph.lrn %{{.+}} {alpha = 9.99999974E-5 : f32, beta = 7.500000e-01 : f32, bias = 2.000000e+00 : f32, size = 5 : i64} : tensor<2x3x4x4xf32>
  %n = graph.lrn %c {size = 5 : i64, alpha = 1.0e-04 : f32, beta = 0.75 : f32, bias = 2.0 : f32} : tensor<2x3x4x4xf32>
  // CHECK: graph.lrn_grad
  %d = graph.lrn_grad %n, %c, %n {size = 5 : i64, alpha = 1.0e-04 : f32, beta = 0.75 : f32, bias = 2.0 : f32} : tensor<2x3x4x4xf32>
  return %d : tensor<2x3x4x4xf32>
}

// CHECK-LABEL: func.func @batch_norm_train
func.func @batch_norm_train(%x: tensor<4x3x2x2xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) {
  // CHECK: %[[Y:.+]], %[[M:.+]], %[[V:.+]] = graph.batch_norm_train %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999974E-6 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>
  %y, %m, %v = graph.batch_norm_train %x, %s, %b {epsilon = 1.0e-05 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>
  // CHECK: graph.batch_norm_grad %[[Y]], %{{.+}}, %{{.+}}, %[[M]], %[[V]] {epsilon = 9.99999974E-6 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>
  %dx, %ds, %db = graph.batch_norm_grad %y, %x, %s, %m, %v {epsilon = 1.0e-05 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>
  return %dx, %ds, %db : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>
}

// CHECK-LABEL: func.func @batch_norm_inference
func.func @batch_norm_inference(%x: tensor<4x3x2x2xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<4x3x2x2xf32> {
  // CHECK: graph.batch_norm_inference %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999974E-6 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>
  %y = graph.batch_norm_inference %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>
  return %y : tensor<4x3x2x2xf32>
}
