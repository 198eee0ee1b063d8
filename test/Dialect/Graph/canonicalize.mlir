// RUN: dlc-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @reshape_to_same_type
// CHECK-SAME: ([[X:%.+]]: tensor<2x4xf32>)
// CHECK-NEXT: return [[X]]
func.func @reshape_to_same_type(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %y = graph.reshape %x : tensor<2x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME: ([[X:%.+]]: tensor<2x1x4xf32>)
// CHECK-NEXT: [[Y:%.+]] = graph.reshape [[X]] : tensor<2x1x4xf32> -> tensor<8xf32>
// CHECK-NEXT: return [[Y]]
func.func @reshape_of_reshape(%x: tensor<2x1x4xf32>) -> tensor<8xf32> {
  %y = graph.reshape %x : tensor<2x1x4xf32> -> tensor<2x4xf32>
  %z = graph.reshape %y : tensor<2x4xf32> -> tensor<8xf32>
  return %z : tensor<8xf32>
}

// -----

// Pure ops without uses go; loads and the communication do not vanish while used.
// CHECK-LABEL: func.func @dead_code
// CHECK-NOT: graph.relu
// CHECK: graph.allreduce_mean
func.func @dead_code(%x: tensor<4xf32>) -> tensor<4xf32> {
  %unused = graph.relu %x : tensor<4xf32>
  %y = graph.allreduce_mean %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
