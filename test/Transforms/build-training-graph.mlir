// RUN: dlc-opt %s -split-input-file -dlc-build-training-graph="lr=0.5 momentum=0.9 weight-decay=0.01" | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-build-training-graph="loss=mse lr=0.5" | FileCheck %s --check-prefix=MSE
// RUN: dlc-opt %s -split-input-file -dlc-build-training-graph="fused-batchnorm=false" | FileCheck %s --check-prefix=UNFUSED
// RUN: dlc-opt %s -split-input-file -dlc-build-training-graph="optimizer=adamw beta2=0.99" | FileCheck %s --check-prefix=ADAM

// The hyperparameters are run-time values with these defaults.
// CHECK: module attributes {dlc.hyperparameters = {beta1 = 0.899999976 : f32, beta2 = 9.990000e-01 : f32, eps = 9.99999993E-9 : f32, lr = 5.000000e-01 : f32, momentum = 0.899999976 : f32, optimizer = "sgd", weight_decay = 0.00999999977 : f32}}
// ADAM: module attributes {dlc.hyperparameters = {{{.*}}beta2 = 9.900000e-01 : f32{{.*}}optimizer = "adamw"
// ADAM: graph.variable trainable @w
// ADAM-NEXT: graph.variable @w_adam_v : tensor<3x4xf32>
// ADAM-NEXT: graph.variable @w_adam_m : tensor<3x4xf32>
// ADAM: graph.adam_update @b, %{{.+}} moments @b_adam_m, @b_adam_v {decoupled} : tensor<3xf32>
// ADAM-NOT: velocity
// CHECK: graph.variable trainable @w
// CHECK-NEXT: graph.variable @w_velocity : tensor<3x4xf32>
// CHECK: graph.variable trainable @b
// CHECK-NEXT: graph.variable @b_velocity : tensor<3xf32>
graph.variable trainable @w : tensor<3x4xf32> = dense<0.5> : tensor<3x4xf32>
graph.variable trainable @b : tensor<3xf32> = dense<0.1> : tensor<3xf32>

// The forward function stays as it was.
// CHECK-LABEL: func.func @forward
// CHECK: graph.softmax
func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = graph.load @w : tensor<3x4xf32>
  %b = graph.load @b : tensor<3xf32>
  %y = graph.gemm %x, %w, %b {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %r = graph.relu %y : tensor<2x3xf32>
  %p = graph.softmax %r : tensor<2x3xf32>
  return %p : tensor<2x3xf32>
}

// Cross-entropy takes the logits under the trailing softmax.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: ([[X:%.+]]: tensor<2x4xf32>, [[LABELS:%.+]]: tensor<2xi32>) -> tensor<f32>
// CHECK: [[W:%.+]] = graph.load @w
// CHECK: [[Y:%.+]] = graph.gemm [[X]], [[W]]
// CHECK: [[R:%.+]] = graph.relu [[Y]]
// CHECK-NOT: graph.softmax %
// CHECK: [[LOSS:%.+]] = graph.softmax_cross_entropy [[R]], [[LABELS]]
// CHECK: [[ONE:%.+]] = graph.ones : tensor<f32>
// CHECK: [[DR:%.+]] = graph.softmax_cross_entropy_grad [[R]], [[LABELS]], [[ONE]]
// CHECK: [[DY:%.+]] = graph.relu_grad [[DR]], [[R]]
// y = x w^T: dw = dy^T x.
// CHECK: [[DW:%.+]] = graph.gemm [[DY]], [[X]] {trans_a} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
// CHECK: [[DB:%.+]] = graph.reduce_sum_to [[DY]] : tensor<2x3xf32> -> tensor<3xf32>
// Updates come in backward order, last layer first.
// CHECK: [[AB:%.+]] = graph.allreduce_mean [[DB]]
// CHECK: graph.sgd_update @b, [[AB]] velocity @b_velocity
// CHECK: [[AW:%.+]] = graph.allreduce_mean [[DW]]
// CHECK: graph.sgd_update @w, [[AW]] velocity @w_velocity : tensor<3x4xf32>
// CHECK: return [[LOSS]] : tensor<f32>

// MSE trains through the softmax.
// MSE-LABEL: func.func @train_step
// MSE: [[P:%.+]] = graph.softmax
// MSE: graph.mse_loss [[P]]
// MSE: [[DP:%.+]] = graph.mse_loss_grad [[P]]
// MSE: graph.softmax_grad [[DP]], [[P]]
// MSE: graph.sgd_update @w, %{{.+}} : tensor<3x4xf32>
// MSE-NOT: velocity

// -----

// A parameter read twice gets the sum of both gradients; fan-out of an
// activation accumulates with graph.add.
graph.variable trainable @w : tensor<4x4xf32> = dense<0.5> : tensor<4x4xf32>

// CHECK-LABEL: func.func @train_step
// CHECK: graph.add [[DH:%.+]], [[DH]] : (tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK: [[SUM:%.+]] = graph.add %{{.+}}, %{{.+}} : (tensor<4x4xf32>, tensor<4x4xf32>)
// CHECK: [[AVG:%.+]] = graph.allreduce_mean [[SUM]]
// CHECK: graph.sgd_update @w, [[AVG]]
func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = graph.load @w : tensor<4x4xf32>
  %h = graph.gemm %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %h2 = graph.add %h, %h : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %w2 = graph.load @w : tensor<4x4xf32>
  %y = graph.gemm %h2, %w2 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Broadcast operands of sub, mul and div get their gradients summed back to
// their own shapes; y = a / b gives db = -(dy * y) / b.
graph.variable trainable @v : tensor<4xf32> = dense<2.0> : tensor<4xf32>

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: ([[X:%.+]]: tensor<2x4xf32>
// CHECK: [[V:%.+]] = graph.load @v
// CHECK: [[Q:%.+]] = graph.div [[X]], [[V]]
// CHECK: [[D:%.+]] = graph.sub [[Q]], [[V]]
// CHECK: [[M:%.+]] = graph.mul [[D]], [[V]]
// CHECK: [[DM:%.+]] = graph.softmax_cross_entropy_grad [[M]]
// CHECK: [[DD:%.+]] = graph.mul [[DM]], [[V]]
// CHECK: [[DVM:%.+]] = graph.mul [[DM]], [[D]]
// CHECK: graph.reduce_sum_to [[DVM]] : tensor<2x4xf32> -> tensor<4xf32>
// CHECK: [[NEG:%.+]] = graph.scale [[DD]] {factor = -1.000000e+00 : f32}
// CHECK: graph.reduce_sum_to [[NEG]] : tensor<2x4xf32> -> tensor<4xf32>
// CHECK: [[T:%.+]] = graph.mul [[DD]], [[Q]]
// CHECK: [[U:%.+]] = graph.div [[T]], [[V]]
// CHECK: [[NU:%.+]] = graph.scale [[U]] {factor = -1.000000e+00 : f32}
// CHECK: graph.reduce_sum_to [[NU]] : tensor<2x4xf32> -> tensor<4xf32>
// CHECK: graph.sgd_update @v
func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %v = graph.load @v : tensor<4xf32>
  %q = graph.div %x, %v : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %d = graph.sub %q, %v : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %m = graph.mul %d, %v : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %m : tensor<2x4xf32>
}

// -----

// Convolution: data and filter gradients, and the bias gradient summed over
// batch and positions to 1 x O x 1 x 1, then reshaped to O.
graph.variable trainable @w : tensor<2x1x3x3xf32> = dense<0.1> : tensor<2x1x3x3xf32>
graph.variable trainable @b : tensor<2xf32> = dense<0.0> : tensor<2xf32>

// CHECK-LABEL: func.func @train_step
// CHECK: [[X:%.+]] = graph.reshape %arg0
// CHECK: [[C:%.+]] = graph.conv2d [[X]], {{.+}}
// CHECK: [[P:%.+]] = graph.max_pool2d [[C]]
// CHECK: [[DP:%.+]] = graph.reshape %{{.+}} : tensor<2x8xf32> -> tensor<2x2x2x2xf32>
// CHECK: [[DC:%.+]] = graph.max_pool2d_grad [[DP]], [[C]]
// CHECK: graph.conv2d_backward_filter [[DC]], [[X]] {{.+}} -> tensor<2x1x3x3xf32>
// CHECK: [[DB:%.+]] = graph.reduce_sum_to [[DC]] : tensor<2x2x4x4xf32> -> tensor<1x2x1x1xf32>
// CHECK: graph.reshape [[DB]] : tensor<1x2x1x1xf32> -> tensor<2xf32>
// CHECK-NOT: graph.conv2d_backward_data
func.func @forward(%x: tensor<2x16xf32>) -> tensor<2x8xf32> {
  %img = graph.reshape %x : tensor<2x16xf32> -> tensor<2x1x4x4xf32>
  %w = graph.load @w : tensor<2x1x3x3xf32>
  %b = graph.load @b : tensor<2xf32>
  %c = graph.conv2d %img, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<2x2x4x4xf32>
  %p = graph.max_pool2d %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<2x2x4x4xf32> -> tensor<2x2x2x2xf32>
  %y = graph.reshape %p : tensor<2x2x2x2xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Batch norm trains on the batch's statistics (2 x 4 x 4 = 32 values per
// channel) and updates the running ones, the variance unbiased (32 / 31).
graph.variable trainable @scale : tensor<3xf32> = dense<1.0> : tensor<3xf32>
graph.variable trainable @shift : tensor<3xf32> = dense<0.0> : tensor<3xf32>
graph.variable @mean : tensor<3xf32> = dense<0.0> : tensor<3xf32>
graph.variable @var : tensor<3xf32> = dense<1.0> : tensor<3xf32>

// CHECK-LABEL: func.func @forward
// CHECK: graph.batch_norm
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: ([[X:%.+]]: tensor<2x3x4x4xf32>
// CHECK: [[Y:%.+]], [[MEAN:%.+]], [[VAR:%.+]] = graph.batch_norm_train [[X]], [[S:%.+]], [[B:%.+]] {epsilon = 9.99999974E-6 : f32}
// CHECK: graph.running_update @mean, [[MEAN]] {correction = 1.000000e+00 : f32, momentum = 0.899999976 : f32}
// CHECK: graph.running_update @var, [[VAR]] {correction = 1.03225803 : f32, momentum = 0.899999976 : f32}
// CHECK: graph.batch_norm_grad %{{.+}}, [[X]], [[S]], [[MEAN]], [[VAR]]
// Unfused (for backends without the kernels): the same in arithmetic.
// UNFUSED: func.func @train_step([[X:%[a-z0-9]+]]: tensor<2x3x4x4xf32>
// UNFUSED: [[SUM:%.+]] = graph.reduce_sum_to [[X]] : tensor<2x3x4x4xf32> -> tensor<1x3x1x1xf32>
// UNFUSED: [[MEAN:%.+]] = graph.scale [[SUM]] {factor = 3.125000e-02 : f32}
// UNFUSED: [[C:%.+]] = graph.sub [[X]], [[MEAN]]
// UNFUSED: [[SQ:%.+]] = graph.mul [[C]], [[C]]
// UNFUSED: [[VS:%.+]] = graph.reduce_sum_to [[SQ]]
// UNFUSED: [[VAR:%.+]] = graph.scale [[VS]] {factor = 3.125000e-02 : f32}
// UNFUSED: graph.rsqrt [[VAR]]
// UNFUSED-DAG: [[RM:%.+]] = graph.reshape [[MEAN]] : tensor<1x3x1x1xf32> -> tensor<3xf32>
// UNFUSED-DAG: [[RV:%.+]] = graph.reshape [[VAR]] : tensor<1x3x1x1xf32> -> tensor<3xf32>
// UNFUSED: graph.running_update @mean, [[RM]] {correction = 1.000000e+00 : f32, momentum = 0.899999976 : f32}
// UNFUSED: graph.running_update @var, [[RV]] {correction = 1.03225803 : f32, momentum = 0.899999976 : f32}
// UNFUSED-NOT: graph.batch_norm_train
// UNFUSED: graph.mul %{{.+}}, [[C]]
// UNFUSED: graph.sgd_update @shift
// CHECK: graph.sgd_update @shift
// CHECK: graph.sgd_update @scale
// CHECK-NOT: graph.sgd_update @mean
func.func @forward(%x: tensor<2x3x4x4xf32>) -> tensor<2x48xf32> {
  %s = graph.load @scale : tensor<3xf32>
  %b = graph.load @shift : tensor<3xf32>
  %y = graph.batch_norm %x, %s, %b {running_mean = @mean, running_var = @var, epsilon = 1.0e-05 : f32, momentum = 0.9 : f32} : tensor<2x3x4x4xf32>, tensor<3xf32>
  %f = graph.reshape %y : tensor<2x3x4x4xf32> -> tensor<2x48xf32>
  return %f : tensor<2x48xf32>
}

// -----

// Dropout: a fresh mask per dropout in the training step, one stream each;
// the forward function keeps its inference form.
graph.variable trainable @w : tensor<4x4xf32> = dense<0.5> : tensor<4x4xf32>

// CHECK-LABEL: func.func @forward
// CHECK: graph.dropout %{{.+}} {ratio = 5.000000e-01 : f32}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: ([[X:%.+]]: tensor<2x4xf32>
// CHECK: [[M0:%.+]] = graph.dropout_mask {ratio = 5.000000e-01 : f32, stream = 0 : i64} : tensor<2x4xf32>
// CHECK: graph.mul [[X]], [[M0]]
// CHECK: [[M1:%.+]] = graph.dropout_mask {ratio = 2.500000e-01 : f32, stream = 1 : i64} : tensor<2x4xf32>
// CHECK: graph.mul %{{.+}}, [[M1]]
// CHECK-NOT: graph.dropout %
func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %d = graph.dropout %x {ratio = 0.5 : f32} : tensor<2x4xf32>
  %w = graph.load @w : tensor<4x4xf32>
  %h = graph.gemm %d, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %e = graph.dropout %h {ratio = 0.25 : f32} : tensor<2x4xf32>
  return %e : tensor<2x4xf32>
}
