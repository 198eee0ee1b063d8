//===- ExecDialect.td - dlc execution dialect definition ---*- tablegen -*-===//
//
// The execution dialect holds a training step as the machine will run it:
// an ordered sequence of kernel calls and collectives over explicit
// buffers, after IREE's Stream dialect but smaller.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_EXEC_EXECDIALECT_TD
#define DLC_DIALECT_EXEC_EXECDIALECT_TD

include "mlir/IR/OpBase.td"

def Exec_Dialect : Dialect {
  let name = "exec";
  let cppNamespace = "::dlc::exec";
  let summary = "Scheduled kernels, explicit buffers and asynchronous "
                "operations";
  let description = [{
    The level where *when*, *where* and *what type* are explicit, for the
    passes that decide them (the memory-minimising schedule, overlapped
    communication, per-tensor bit-widths):

    - the order of operations in a block is the schedule;
    - every byte lives in a buffer (`!exec.buffer`) with a shape, an element
      type, an alignment and, once planned, an offset in the arena; a
      transient buffer's lifetime follows from its uses;
    - kernels write into buffers they are given (destination passing);
      an output that overwrites an input is declared in place and verified;
    - an asynchronous operation (a collective) returns an `!exec.token`
      that exactly one `exec.wait` consumes, and the buffers it works on
      may not be touched before that wait;
    - on the CUDA target, kernels run on an `!exec.stream`.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
}

class Exec_Op<string mnemonic, list<Trait> traits = []>
    : Op<Exec_Dialect, mnemonic, traits>;

#endif // DLC_DIALECT_EXEC_EXECDIALECT_TD
