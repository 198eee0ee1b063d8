// RUN: dlc-opt %s -split-input-file -dlc-convert-graph-to-exec | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-convert-graph-to-exec="target=cuda" | FileCheck %s --check-prefix=CUDA

// Variables become globals (initial value and ONNX name kept), loads their
// buffers, reshapes views; a result is a new buffer the kernel writes.
// CHECK: exec.global @w {onnx_name = "fc.weight"} : !exec.buffer<3x4xf32> = dense<5.000000e-01> : tensor<3x4xf32>
// CHECK: exec.global @w_velocity : !exec.buffer<3x4xf32>
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[X:.+]]: !exec.buffer<2x2x2xf32>, %[[G:.+]]: !exec.buffer<3x4xf32>) -> !exec.buffer<3x4xf32>
// CHECK: %[[FLAT:.+]] = exec.view %[[X]] : !exec.buffer<2x2x2xf32> -> !exec.buffer<2x4xf32>
// CHECK: %[[W:.+]] = exec.global_ref @w : !exec.buffer<3x4xf32>
// CHECK: %[[Y:.+]] = exec.alloc : !exec.buffer<2x3xf32>
// CHECK: exec.kernel "gemm" ins(%[[FLAT]], %[[W]] : !exec.buffer<2x4xf32>, !exec.buffer<3x4xf32>) outs(%[[Y]] : !exec.buffer<2x3xf32>) {args = [false, true, 2, 3, 4, 1.000000e+00 : f32, #exec.ptr<0>, #exec.ptr<1>, 0.000000e+00 : f32, #exec.ptr<2>, #exec.null, 0]}
// The gradient's average: a start and its wait, in place on its buffer.
// CHECK: %[[T:.+]] = exec.allreduce_start %[[G]] : !exec.buffer<3x4xf32>
// CHECK-NEXT: exec.wait %[[T]]
// The update writes the parameter and its velocity in place.
// CHECK: %[[P:.+]] = exec.global_ref @w : !exec.buffer<3x4xf32>
// CHECK: %[[V:.+]] = exec.global_ref @w_velocity : !exec.buffer<3x4xf32>
// CHECK: exec.kernel "sgdUpdate" ins(%[[P]], %[[G]], %[[V]] : {{.*}}) outs(%[[P]], %[[V]] : {{.*}}) {args = [#exec.ptr<3>, #exec.ptr<1>, #exec.ptr<4>, 12], in_place = array<i64: 0, 2>}
// CHECK: return %[[G]] : !exec.buffer<3x4xf32>
// On CUDA every kernel is queued on the function's stream, and each
// product gets cuBLAS's workspace (32 MiB) planned in the arena.
// CUDA-LABEL: func.func @train_step
// CUDA-NEXT: %[[S:.+]] = exec.stream : !exec.stream
// CUDA: %[[WS:.+]] = exec.alloc : !exec.buffer<33554432xi8>
// CUDA: exec.kernel "gemm" on %[[S]] {{.*}} scratch(%[[WS]] : !exec.buffer<33554432xi8>) {args = [{{.*}}, #exec.ptr<3>, 33554432]}
// CUDA: exec.kernel "sgdUpdate" on %[[S]]
graph.variable trainable @w {onnx_name = "fc.weight"} : tensor<3x4xf32> = dense<0.5> : tensor<3x4xf32>
graph.variable @w_velocity : tensor<3x4xf32>
func.func @train_step(%x: tensor<2x2x2xf32>, %g: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %flat = graph.reshape %x : tensor<2x2x2xf32> -> tensor<2x4xf32>
  %w = graph.load @w : tensor<3x4xf32>
  %y = graph.gemm %flat, %w {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %avg = graph.allreduce_mean %g : tensor<3x4xf32>
  graph.sgd_update @w, %avg velocity @w_velocity : tensor<3x4xf32>
  return %avg : tensor<3x4xf32>
}

// -----

// Adam updates the parameter and both moments in place; a running
// statistic is updated in place too.
// CHECK-LABEL: func.func @updates
// CHECK: exec.kernel "adamUpdate" ins({{.*}}) outs({{.*}}) {args = [#exec.ptr<4>, #exec.ptr<1>, #exec.ptr<5>, #exec.ptr<6>, 3, true], in_place = array<i64: 0, 2, 3>}
// CHECK: exec.kernel "runningUpdate" ins({{.*}}) outs({{.*}}) {args = [#exec.ptr<2>, #exec.ptr<1>, 3, 1.000000e-01 : f32, 1.000000e+00 : f32], in_place = array<i64: 0>}
graph.variable trainable @p : tensor<3xf32>
graph.variable @m : tensor<3xf32>
graph.variable @v : tensor<3xf32>
graph.variable @mean : tensor<3xf32>
func.func @updates(%g: tensor<3xf32>) {
  graph.adam_update @p, %g moments @m, @v {decoupled} : tensor<3xf32>
  graph.running_update @mean, %g {momentum = 0.1 : f32, correction = 1.0 : f32} : tensor<3xf32>
  return
}
