// The whole pipeline as dlc runs it, through dlc-opt.
// RUN: dlc-opt %s -dlc-pipeline="stop=training optimizer=adam" | FileCheck %s --check-prefix=TRAIN
// RUN: dlc-opt %s -dlc-pipeline="stop=exec" | FileCheck %s --check-prefix=EXEC
// RUN: dlc-opt %s -dlc-pipeline="stop=planned" | FileCheck %s --check-prefix=PLAN
// RUN: dlc-opt %s -dlc-pipeline | FileCheck %s --check-prefix=LOWER
// RUN: dlc-opt %s -dlc-pipeline="inference stop=planned" | FileCheck %s --check-prefix=INFER

graph.variable trainable @w : tensor<3x4xf32> = dense<0.5> : tensor<3x4xf32>

func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = graph.load @w : tensor<3x4xf32>
  %y = graph.gemm %x, %w {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// TRAIN: optimizer = "adam"
// TRAIN: func.func @train_step
// TRAIN: graph.adam_update @w
// TRAIN-NOT: dlc.arena_size

// EXEC-NOT: dlc.arena_size
// EXEC: exec.global @w : !exec.buffer<3x4xf32>
// EXEC: exec.alloc :
// EXEC: exec.allreduce_start
// EXEC: exec.kernel "sgdUpdate"

// PLAN: dlc.arena_size
// PLAN: exec.global @w {offset = 0 : i64}
// PLAN: exec.kernel "sgdUpdate"

// LOWER: dlc.initial_data = dense_resource<dlc_initial_data>
// LOWER: emitc.func @trainStep

// INFER: dlc.arena_size
// INFER-NOT: train_step
