// A hand-written planned module whose @train_step does not have the
// trainer's signature: one message naming the function, no IR dump, no
// crash, no executable.
// RUN: rm -f %t.exe
// RUN: not dlc %s -o %t.exe 2>&1 | FileCheck %s
// RUN: not test -e %t.exe
// CHECK: bad-stage-input.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'func.func' op has type '() -> ()'; @train_step must take the data and the i32 labels and return the f32 loss
// CHECK-NOT: see current operation
// CHECK-NOT: exec.global

module attributes {dlc.arena_size = 128 : i64} {
  exec.global @w {offset = 0 : i64} : !exec.buffer<3x4xf32>
  func.func @forward(%x: !exec.buffer<2x4xf32>) -> !exec.buffer<2x4xf32> attributes {dlc.arg_offsets = [64]} {
    return %x : !exec.buffer<2x4xf32>
  }
  func.func @train_step() attributes {dlc.arg_offsets = []} {
    return
  }
}
