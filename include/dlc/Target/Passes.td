//===- Passes.td - dlc passes that ask a target's libraries --*- tablegen -*-===//

#ifndef DLC_TARGET_PASSES_TD
#define DLC_TARGET_PASSES_TD

include "mlir/Pass/PassBase.td"

def AssignCpuLayouts : Pass<"dlc-assign-cpu-layouts", "mlir::ModuleOp"> {
  let summary = "Keeps activations between oneDNN's kernels in its blocked layout";
  let description = [{
    oneDNN's fastest convolutions read and write activations in a blocked
    layout (nChw16c with AVX-512, nChw8c with AVX2: channels in groups of
    16 or 8, innermost), and its batch norm and pooling have vectorised
    kernels for those layouts but only generic loops for plain NCHW. With
    every tensor in NCHW each convolution reorders its input and output,
    and batch norm runs slowly.

    This pass chooses the layout of each 4-D activation buffer: blocked
    wherever every kernel that touches the buffer takes it. Buffers that
    elementwise kernels (activations and their gradients, scaling,
    clipping, same-shape binary arithmetic) read and write together must
    share a layout, and so must batch norm's input, output and gradients;
    a convolution's or pooling's input and output are free to differ
    (oneDNN reorders where they differ from what it picks). A buffer any
    other kernel or operation touches (views, reshapes, losses, matrix
    products, collectives, the step's arguments, broadcasts, pooling that
    oneDNN cannot do) stays NCHW, with everything tied to it. So does one
    whose channels are not a multiple of the block. The choice is written
    into the layout fields of the calls' geometry structs
    (`Conv2DGeometry`, `Pool2DGeometry`, `BatchNormGeometry`); no buffer
    changes size.

    `block` is the channel block: 16, 8, 0 (every buffer stays NCHW), or -1
    (the default): the block oneDNN picks for a convolution on the
    compiling machine. A trainer run on a CPU that picks otherwise is still
    correct: oneDNN reorders into its own layouts, as with NCHW.
  }];
  let options = [
    Option<"block", "block", "int64_t", /*default=*/"-1",
           "Channels per block: 16, 8, 0 (plain NCHW) or -1 (what oneDNN "
           "picks for convolutions on this machine)">,
  ];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

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

def UseBf16Kernels : Pass<"dlc-use-bf16-kernels", "mlir::ModuleOp"> {
  let summary = "Runs convolutions on bf16 operands in oneDNN's bf16 kernels";
  let description = [{
    After `dlc-lower-precision` with a plan fixed at compile time: a
    forward or backward-data convolution whose two
    multiplied operands were last written by the precision kernels
    (`roundToFormat`, `unpackFromFormat`) into a format that bf16 holds
    exactly (bf16, fp8, int8 at their exponents) gets `bf16Operands` in its
    `Conv2DGeometry`: the call rounds those operands to bf16 (a no-op on
    them) and multiplies in bf16, summing in fp32, which on a CPU with
    AVX512-BF16 is oneDNN's bf16 kernels and gives the values the fp32
    kernels give, up to the order of the sums. Such a call rounds a weight
    itself, so the copy `dlc-lower-precision` rounded to bf16 for it alone
    is dropped and the call reads the master weight. Workspaces change with
    the arithmetic: `dlc-size-cpu-workspaces` runs again after this pass.
    Programs whose formats the trainer chooses (`dlc.precision_adjustable`)
    are left as they are. Backward-weights convolutions keep fp32 kernels
    (they run on the same rounded values; oneDNN's bf16 ones are slower
    there on ResNet-18's shapes).
  }];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

#endif // DLC_TARGET_PASSES_TD
