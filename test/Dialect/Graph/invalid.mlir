// RUN: dlc-opt %s -split-input-file -verify-diagnostics

func.func @gemm_contraction(%a: tensor<2x4xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+2 {{contraction sizes differ: op(a) is 2x4, op(b) is 5x3}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.gemm %a, %b {trans_b} : (tensor<2x4xf32>, tensor<3x5xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gemm_result(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<2x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.gemm %a, %b : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @gemm_bias(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>, %c: tensor<4xf32>) {
  // expected-error @+2 {{bias of type 'tensor<4xf32>' does not broadcast to 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.gemm %a, %b, %c : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gemm_rank(%a: tensor<2x4x1xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{operand #0 must be 2D tensor of 32-bit float values}}
  %y = graph.gemm %a, %b : (tensor<2x4x1xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @add_broadcast(%a: tensor<2x4xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{operand shapes 'tensor<2x4xf32>' and 'tensor<3xf32>' do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.add %a, %b : (tensor<2x4xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @add_result(%a: tensor<2x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<2x4xf32>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.add %a, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @reshape_count(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{cannot reshape 'tensor<2x4xf32>' to 'tensor<3x3xf32>': element counts differ}}
  %y = graph.reshape %a : tensor<2x4xf32> -> tensor<3x3xf32>
  return
}

// -----

func.func @reduce_sum_to(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{result type 'tensor<3xf32>' does not broadcast to input type 'tensor<2x4xf32>'}}
  %y = graph.reduce_sum_to %a : tensor<2x4xf32> -> tensor<3xf32>
  return
}

// -----

func.func @loss_labels(%a: tensor<2x4xf32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{has 3 labels for a batch of 2}}
  %y = graph.softmax_cross_entropy %a, %l : tensor<2x4xf32>, tensor<3xi32>
  return
}

// -----

func.func @relu_types(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'graph.relu' op requires a single operand}}
  %y = "graph.relu"(%a, %a) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

// expected-error @+1 {{initial value of type 'tensor<2xf32>' does not match variable type 'tensor<3xf32>'}}
graph.variable @v : tensor<3xf32> = dense<0.0> : tensor<2xf32>

// -----

func.func @load_unknown() {
  // expected-error @+1 {{references unknown variable @nowhere}}
  %v = graph.load @nowhere : tensor<3xf32>
  return
}

// -----

graph.variable @v : tensor<3xf32>
func.func @load_type() {
  // expected-error @+1 {{type 'tensor<4xf32>' does not match variable @v of type 'tensor<3xf32>'}}
  %v = graph.load @v : tensor<4xf32>
  return
}

// -----

graph.variable @state : tensor<3xf32>
func.func @update_not_trainable(%g: tensor<3xf32>) {
  // expected-error @+1 {{updates @state, which is not trainable}}
  graph.sgd_update @state, %g : tensor<3xf32>
  return
}

// -----

graph.variable trainable @w : tensor<3xf32> = dense<0.0> : tensor<3xf32>
graph.variable @w_v : tensor<4xf32>
func.func @velocity_type(%g: tensor<3xf32>) {
  // expected-error @+1 {{type 'tensor<3xf32>' does not match variable @w_v of type 'tensor<4xf32>'}}
  graph.sgd_update @w, %g velocity @w_v : tensor<3xf32>
  return
}

// -----

graph.variable trainable @w : tensor<3xf32> = dense<0.0> : tensor<3xf32>
graph.variable @w_m : tensor<3xf32>
func.func @adam_unknown_moment(%g: tensor<3xf32>) {
  // expected-error @+1 {{references unknown variable @w_second}}
  graph.adam_update @w, %g moments @w_m, @w_second : tensor<3xf32>
  return
}

// -----

func.func @dilated_pool_shape(%x: tensor<1x1x4x4xf32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<1x1x2x2xf32>' are incompatible with return type(s) of operation 'tensor<1x1x3x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>} : tensor<1x1x4x4xf32> -> tensor<1x1x3x3xf32>
  return
}

// -----

func.func @mul_broadcast(%a: tensor<2x4xf32>, %b: tensor<2xf32>) {
  // expected-error @+2 {{'graph.mul' op operand shapes 'tensor<2x4xf32>' and 'tensor<2xf32>' do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.mul %a, %b : (tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @conv_group(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  // expected-error @+2 {{group 4 must divide the input channels (4) and the output channels (6)}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error @+2 {{filter 'tensor<6x3x3x3xf32>' takes 3 input channels, the input has 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_result(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<1x6x3x3xf32>' are incompatible with return type(s) of operation 'tensor<1x6x8x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x8x8xf32>
  return
}

// -----

func.func @pool_window(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+2 {{window does not fit the input 'tensor<1x4x2x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x4x2x2xf32> -> tensor<1x4x1x1xf32>
  return
}

// -----

func.func @transpose_perm(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{permutation is not a permutation of 0..1}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.transpose %x {permutation = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<3x3xf32>
  return
}

// -----

func.func @concat_shapes(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+2 {{input 'tensor<4x3xf32>' differs from 'tensor<2x3xf32>' outside the concatenation axis}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @slice_range(%a: tensor<2x8xf32>) {
  // expected-error @+1 {{slice [6, 10) exceeds the input's 8}}
  %y = graph.slice %a {axis = 1 : i64, start = 6 : i64} : tensor<2x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<8x3x4xf32>, %b: tensor<7x4x5xf32>) {
  // expected-error @+2 {{batch dimensions of 'tensor<8x3x4xf32>' and 'tensor<7x4x5xf32>' do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = graph.matmul %a, %b : (tensor<8x3x4xf32>, tensor<7x4x5xf32>) -> tensor<8x3x5xf32>
  return
}

// -----

func.func @batch_norm_train_channels(%x: tensor<4x3x2x2xf32>, %s: tensor<5xf32>) {
  // expected-error @+1 {{per-channel operands must have 3 elements, one per channel}}
  %y, %m, %v = graph.batch_norm_train %x, %s, %s {epsilon = 1.0e-05 : f32} : tensor<4x3x2x2xf32>, tensor<5xf32>
  return
}

// -----

func.func @batch_norm_inference_channels(%x: tensor<4x3x2x2xf32>, %s: tensor<5xf32>) {
  // expected-error @+1 {{per-channel operands must have 3 elements, one per channel}}
  %y = graph.batch_norm_inference %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f32} : tensor<4x3x2x2xf32>, tensor<5xf32>
  return
}

// -----

func.func @batch_norm_grad_rank(%x: tensor<4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{input 'tensor<4xf32>' must have a channel dimension (N x C x ...)}}
  %dx, %ds, %db = graph.batch_norm_grad %x, %x, %s, %s, %s {epsilon = 1.0e-05 : f32} : tensor<4xf32>, tensor<4xf32>
  return
}
