//===- Passes.td - dlc conversion passes -------------------*- tablegen -*-===//

#ifndef DLC_CONVERSION_PASSES_TD
#define DLC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertGraphToExec : Pass<"dlc-convert-graph-to-exec", "mlir::ModuleOp"> {
  let summary = "Lowers the graph's tensors to exec buffers and kernels";
  let description = [{
    Each `graph.variable` becomes an `exec.global` (initial value and ONNX
    name kept); each function's tensors become `!exec.buffer`s. An op
    becomes one `exec.kernel` (concat one per input) that writes a new
    `exec.alloc` for each result, with the runtime call's arguments in
    `args`; `graph.reshape` is an `exec.view` and `graph.load` an
    `exec.global_ref`, which copy nothing. Each `graph.allreduce_mean`
    becomes an `exec.allreduce_start` on the gradient's buffer followed at
    once by its `exec.wait`; the updates of variables are kernels that
    write the globals' buffers in place. The order of the ops is kept. On
    the CUDA target every kernel is queued on the function's
    `exec.stream`. Ops the target has no kernel for, and tensors larger
    than dlc's limit, are reported.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target the kernels are for: cpu or cuda">,
  ];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def ConvertExecToEmitC : Pass<"dlc-convert-exec-to-emitc", "mlir::ModuleOp"> {
  let summary = "Prints a planned exec module as EmitC runtime calls";
  let description = [{
    `@forward` and `@train_step` become static EmitC functions `forward` and
    `trainStep(Context &ctx, char *arena)`: each `exec.kernel` one
    `emitc.call_opaque` of `dlc::rt::<callee>` with its `args` (buffers as
    `arena + offset` pointers, shape arrays and geometry structs as static
    constants), each `exec.allreduce_start`/`exec.wait` the runtime's
    `allReduceMeanStart`/`allReduceMeanWait`. The module also defines
    `dlc_model`, the table the trainer reads (`dlc/Runtime/Model.h`), with
    every field named, and keeps the globals' packed initial values as the
    resource blob `dlc.initial_data`. MLIR's C++ translator prints the
    result.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Runtime the program is for: cpu or cuda (named in its header)">,
    Option<"trainingConfig", "training-config", "std::string",
           /*default=*/"\"\"",
           "Description of the loss and optimizer, printed by the trainer">,
    Option<"externalWeights", "external-weights", "bool", /*default=*/"false",
           "Leave out the initial values of globals that come from ONNX "
           "initializers: the trainer reads them from --init">,
  ];
  let dependentDialects = ["mlir::emitc::EmitCDialect"];
}

#endif // DLC_CONVERSION_PASSES_TD
