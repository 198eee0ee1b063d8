// RUN: dlc-opt %s -split-input-file -dlc-build-training-graph -verify-diagnostics

// expected-error @+1 {{no @forward function to build a training step from}}
module {
  func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
    return %x : tensor<2x3xf32>
  }
}

// -----

module {
  // expected-error @+1 {{must have one 2-D output (batch x classes) to train with a classification loss; it returns 'tensor<6xf32>'}}
  func.func @forward(%x: tensor<6xf32>) -> tensor<6xf32> {
    return %x : tensor<6xf32>
  }
}

// -----

module {
  // expected-error @+1 {{the model's output 'tensor<2x0xf32>' has no classes}}
  func.func @forward(%x: tensor<2x0xf32>) -> tensor<2x0xf32> {
    return %x : tensor<2x0xf32>
  }
}

// -----

module {
  func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
    // expected-error @+1 {{'graph.relu_grad' op has no gradient; it cannot be trained through}}
    %y = graph.relu_grad %x, %x : tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}
