//===- Passes.td - dlc passes that ask a target's libraries --*- tablegen -*-===//

#ifndef DLC_TARGET_PASSES_TD
#define DLC_TARGET_PASSES_TD

include "mlir/Pass/PassBase.td"

def SizeCpuWorkspaces : Pass<"dlc-size-cpu-workspaces", "mlir::ModuleOp"> {
  let summary = "Plans each oneDNN call's workspace at the size oneDNN asks for";
  let description = [{
    The CPU kernels built on oneDNN (convolutions, pooling, batch norm)
    need bytes besides their operands: blocked-layout copies, oneDNN's
    scratchpad, results nobody reads. This pass asks oneDNN, through the
    runtime's own primitive builders (`dlc/Runtime/CpuWorkspaces.h`), how
    many bytes each `exec.kernel` of those needs on this machine, and gives
    the call a scratch buffer of exactly that size (or none), replacing the
    lowering's bound. The arena planner then places it like any other
    buffer, so on this CPU the runtime allocates no workspace of its own.
    A call oneDNN refuses keeps what the lowering gave it.

    With a `budget` (bytes; 0: none), a convolution whose scratch would
    exceed 1/8 of what the budget leaves beside the globals goes to oneDNN
    in calls of fewer images (`imagesPerCall` of its geometry, halved until
    the scratch fits or is one image): the layout copies scale with the
    images per call, and the weight gradient is summed over the calls.
  }];
  let options = [
    Option<"budget", "budget", "int64_t", /*default=*/"0",
           "Bytes the arena may take (0: no budget)">,
  ];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

#endif // DLC_TARGET_PASSES_TD
