// RUN: dlc-opt %s -split-input-file -dlc-convert-graph-to-exec -dlc-plan-memory -verify-diagnostics

// Sizes are checked, not wrapped: a tensor whose bytes overflow int64.
module {
  // expected-error @+1 {{tensor 'tensor<4611686018427387904x4xf32>' is larger than dlc's limit of 1099511627776 bytes}}
  func.func @forward(%x: tensor<4611686018427387904x4xf32>) -> tensor<4611686018427387904x4xf32> {
    return %x : tensor<4611686018427387904x4xf32>
  }
}

// -----

// Each tensor fits, the arena does not: 3 x 512 GiB live at once.
// expected-error @+1 {{the arena would need 1649267441664 bytes, more than dlc's limit of 1099511627776 bytes (1 TiB); lower --batch}}
module {
  func.func @forward(%x: tensor<137438953472xf32>, %y: tensor<137438953472xf32>) -> tensor<137438953472xf32> {
    %s = graph.add %x, %y : (tensor<137438953472xf32>, tensor<137438953472xf32>) -> tensor<137438953472xf32>
    return %s : tensor<137438953472xf32>
  }
}
