// RUN: dlc-opt %s -dlc-convert-graph-to-exec | FileCheck %s
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: dlc-opt %s -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=OFF-STREAM
//
// On CUDA every one of these kernels is queued on its function's stream
// (the CUDA runtime has each of them); none runs off it.
// OFF-STREAM-NOT: exec.kernel "{{[a-zA-Z0-9]+}}" ins(
// CUDA-DAG: exec.kernel "activation" on %
// CUDA-DAG: exec.kernel "activationGrad" on %
// CUDA-DAG: exec.kernel "binary" on %
// CUDA-DAG: exec.kernel "broadcastScaled" on %
// CUDA-DAG: exec.kernel "clip" on %
// CUDA-DAG: exec.kernel "clipGrad" on %
// CUDA-DAG: exec.kernel "dropoutMask" on %
// CUDA-DAG: exec.kernel "fill" on %
// CUDA-DAG: exec.kernel "reduceSumTo" on %
// CUDA-DAG: exec.kernel "scale" on %

// Broadcasting arithmetic passes each operand's element strides over the
// result's shape (0 where it broadcasts).
// CHECK-LABEL: func.func @arithmetic
// CHECK: exec.kernel "binary" {{.*}} {args = [#exec.enum<"Binary::Add">, #exec.ptr<0>, array<i64: 3, 1>, #exec.ptr<1>, array<i64: 0, 1>, #exec.ptr<2>, array<i64: 2, 3>, 2 : i32], reusable = array<i64: 0, 1>}
// CHECK: exec.kernel "binary" {{.*}} {args = [#exec.enum<"Binary::Div">,
// CHECK: exec.kernel "reduceSumTo" {{.*}} {args = [#exec.ptr<0>, array<i64: 2, 3>, 2 : i32, #exec.ptr<1>, array<i64: 0, 1>, 3]}
// CHECK: exec.kernel "broadcastScaled" {{.*}} {args = [#exec.ptr<0>, array<i64: 0, 1>, 1.000000e+00 : f32, #exec.ptr<1>, array<i64: 2, 3>, 2 : i32]}
// CHECK: exec.kernel "scale" {{.*}} {args = [#exec.ptr<0>, 5.000000e-01 : f32, #exec.ptr<1>, 6], reusable = array<i64: 0>}
// CHECK: exec.kernel "fill" outs({{.*}}) {args = [#exec.ptr<0>, 1.000000e+00 : f32, 1]}
func.func @arithmetic(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<f32>) {
  %s = graph.add %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %q = graph.div %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %r = graph.reduce_sum_to %x : tensor<2x3xf32> -> tensor<3xf32>
  %c = graph.broadcast %b : tensor<3xf32> -> tensor<2x3xf32>
  %h = graph.scale %x {factor = 0.5 : f32} : tensor<2x3xf32>
  %one = graph.ones : tensor<f32>
  return %s, %q, %r, %c, %h, %one : tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<f32>
}

// Activations name their kind and parameter; the gradients of ReLU,
// sigmoid, tanh and rsqrt read the forward's output, LeakyRelu's its input.
// CHECK-LABEL: func.func @activations
// CHECK: exec.kernel "activation" {{.*}} {args = [#exec.enum<"Activation::Relu">, 0.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, 6], reusable = array<i64: 0>}
// CHECK: exec.kernel "activation" {{.*}} {args = [#exec.enum<"Activation::LeakyRelu">, 1.000000e-01 : f32, #exec.ptr<0>, #exec.ptr<1>, 6], reusable = array<i64: 0>}
// CHECK: exec.kernel "activation" {{.*}} {args = [#exec.enum<"Activation::Rsqrt">, 9.99999974E-6 : f32, #exec.ptr<0>, #exec.ptr<1>, 6], reusable = array<i64: 0>}
// CHECK: exec.kernel "activationGrad" ins(%[[DY:.+]], %[[R:.+]] : {{.*}}) {{.*}} {args = [#exec.enum<"Activation::Relu">, 0.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, #exec.ptr<2>, 6], reusable = array<i64: 0, 1>}
// CHECK: exec.kernel "activationGrad" ins(%[[DY]], %[[X:.+]] : {{.*}}) {{.*}} {args = [#exec.enum<"Activation::LeakyRelu">, 1.000000e-01 : f32,
// CHECK: exec.kernel "clip" {{.*}} {args = [#exec.ptr<0>, 0.000000e+00 : f32, 6.000000e+00 : f32, #exec.ptr<1>, 6], reusable = array<i64: 0>}
// CHECK: exec.kernel "clipGrad" {{.*}} {args = [#exec.ptr<0>, #exec.ptr<1>, 0.000000e+00 : f32, 6.000000e+00 : f32, #exec.ptr<2>, 6], reusable = array<i64: 0, 1>}
// CHECK: exec.kernel "dropoutMask" outs({{.*}}) {args = [#exec.ptr<0>, 6, 2.500000e-01 : f32, 7]}
func.func @activations(%x: tensor<2x3xf32>, %dy: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %r = graph.relu %x : tensor<2x3xf32>
  %l = graph.leaky_relu %x {alpha = 0.1 : f32} : tensor<2x3xf32>
  %s = graph.rsqrt %x {epsilon = 1.0e-5 : f32} : tensor<2x3xf32>
  %dr = graph.relu_grad %dy, %r : tensor<2x3xf32>
  %dl = graph.leaky_relu_grad %dy, %x {alpha = 0.1 : f32} : tensor<2x3xf32>
  %c = graph.clip %x {min = 0.0 : f32, max = 6.0 : f32} : tensor<2x3xf32>
  %dc = graph.clip_grad %dy, %x {min = 0.0 : f32, max = 6.0 : f32} : tensor<2x3xf32>
  %mask = graph.dropout_mask {ratio = 0.25 : f32, stream = 7 : i64} : tensor<2x3xf32>
  return %dr, %dl, %s, %l, %c, %dc, %mask : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}
