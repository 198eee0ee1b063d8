// RUN: dlc-opt %s -split-input-file -dlc-convert-exec-to-emitc -verify-diagnostics

// The trainer reads the data, the labels and the loss where @train_step
// takes and returns them: another signature is refused, not guessed at.
module attributes {dlc.arena_size = 128 : i64} {
  func.func @forward(%x: !exec.buffer<2x4xf32>) -> !exec.buffer<2x4xf32> attributes {dlc.arg_offsets = [0]} {
    return %x : !exec.buffer<2x4xf32>
  }
  // expected-error @+1 {{'func.func' op has type '() -> ()'; @train_step must take the data and the i32 labels and return the f32 loss}}
  func.func @train_step() attributes {dlc.arg_offsets = []} {
    return
  }
}

// -----

module attributes {dlc.arena_size = 128 : i64} {
  // expected-error @+1 {{returns nothing; @forward must return the model's outputs}}
  func.func @forward(%x: !exec.buffer<2x4xf32>) attributes {dlc.arg_offsets = [0]} {
    return
  }
}

// -----

// expected-error @+1 {{the module has no @forward function to compile}}
module attributes {dlc.arena_size = 0 : i64} {
  func.func @train_step() {
    return
  }
}

// -----

// expected-error @+1 {{the module has no memory plan}}
module {
  func.func @forward(%x: !exec.buffer<2x4xf32>) -> !exec.buffer<2x4xf32> {
    return %x : !exec.buffer<2x4xf32>
  }
}

// -----

module attributes {dlc.arena_size = 128 : i64} {
  // expected-error @+1 {{has no planned offsets; run dlc-plan-memory first}}
  func.func @forward(%x: !exec.buffer<2x4xf32>) -> !exec.buffer<2x4xf32> {
    return %x : !exec.buffer<2x4xf32>
  }
}
