//===- Passes.td - dlc conversion passes -------------------*- tablegen -*-===//

#ifndef DLC_CONVERSION_PASSES_TD
#define DLC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertGraphToEmitC
    : Pass<"dlc-convert-graph-to-emitc", "mlir::ModuleOp"> {
  let summary = "Lowers a planned training module to EmitC kernel calls";
  let description = [{
    The execution form of a training program: `@forward` and `@train_step`,
    after dlc-plan-memory, become static EmitC functions `forward` and
    `trainStep(Context &ctx, char *arena)`, each a straight-line sequence of
    `emitc.call_opaque` into the runtime (`dlc/Runtime/Kernels.h`) on pointers
    `arena + offset`. Shapes and broadcast strides become static const
    arrays. The module also defines `dlc_model`, the table the runtime's
    trainer reads (`dlc/Runtime/Model.h`): arena size, input shape, the
    offsets of inputs, labels, loss and output, and every variable with the
    offset of its initial value in the embedded data (see
    `layoutInitialValues`), which the module keeps as the resource blob
    `dlc.initial_data`. MLIR's C++ translator prints the result.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Runtime the program is for: cpu or cuda (named in its header)">,
    Option<"trainingConfig", "training-config", "std::string",
           /*default=*/"\"\"",
           "Description of the loss and optimizer, printed by the trainer">,
  ];
  let dependentDialects = ["mlir::emitc::EmitCDialect"];
}

#endif // DLC_CONVERSION_PASSES_TD
