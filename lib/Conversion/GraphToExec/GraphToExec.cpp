//===- GraphToExec.cpp - the graph's value semantics to exec buffers ------===//
//
// Variables become globals with their initial values; every other tensor a
// buffer that the kernel producing it writes (destination passing), views
// for reshapes and loads. The order of the ops is kept: it is the schedule
// the later passes start from.
//
//===----------------------------------------------------------------------===//

#include "dlc/Conversion/GraphToExec/GraphToExec.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Support/CheckedMath.h"
#include "dlc/Target/TargetInfo.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"

namespace dlc {
#define GEN_PASS_DEF_CONVERTGRAPHTOEXEC
#include "dlc/Conversion/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

TensorToBufferConverter::TensorToBufferConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](RankedTensorType type) -> Type {
    return exec::BufferType::get(type.getContext(), type.getShape(),
                                 type.getElementType());
  });
}

namespace {
/// Every tensor of `module` has a size dlc can place; reports the first
/// that does not (an .mlir input has not been through the importer's
/// checks).
LogicalResult checkSizes(ModuleOp module) {
  auto tooLarge = [](Type type, Location loc) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || checkedByteSize(tensor.getShape(),
                                   (tensor.getElementTypeBitWidth() + 7) / 8))
      return false;
    emitError(loc) << "tensor " << type << " is larger than dlc's limit of "
                   << kMaxTensorBytes << " bytes";
    return true;
  };
  WalkResult result = module->walk([&](Operation *op) {
    if (auto variable = dyn_cast<VariableOp>(op))
      if (tooLarge(variable.getType(), op->getLoc()))
        return WalkResult::interrupt();
    for (Type type : op->getResultTypes())
      if (tooLarge(type, op->getLoc()))
        return WalkResult::interrupt();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          if (tooLarge(arg.getType(), arg.getLoc()))
            return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// Each graph.variable becomes an exec.global of the same name.
void convertVariables(ModuleOp module) {
  OpBuilder builder(module.getContext());
  for (auto variable :
       llvm::make_early_inc_range(module.getOps<VariableOp>())) {
    builder.setInsertionPoint(variable);
    RankedTensorType tensor = variable.getTensorType();
    auto buffer = exec::BufferType::get(module.getContext(), tensor.getShape(),
                                        tensor.getElementType());
    exec::GlobalOp::create(
        builder, variable.getLoc(), variable.getSymNameAttr(),
        TypeAttr::get(buffer), variable.getInitialValueAttr(),
        variable.getOnnxNameAttr(), builder.getI64IntegerAttr(64),
        /*offset=*/nullptr);
    variable.erase();
  }
}

struct ConvertGraphToExec
    : dlc::impl::ConvertGraphToExecBase<ConvertGraphToExec> {
  using ConvertGraphToExecBase::ConvertGraphToExecBase;
  void runOnOperation() override;
};
} // namespace

void ConvertGraphToExec::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  std::optional<Target> parsedTarget = TargetInfo::parse(target);
  if (!parsedTarget) {
    module.emitError("unknown target '") << target << "': expected cpu or cuda";
    return signalPassFailure();
  }
  const TargetInfo &targetInfo = TargetInfo::get(*parsedTarget);
  if (failed(checkSizes(module)))
    return signalPassFailure();

  convertVariables(module);
  // On CUDA every kernel is queued on the function's one stream.
  if (*parsedTarget == Target::Cuda)
    for (auto func : module.getOps<func::FuncOp>()) {
      auto builder = OpBuilder::atBlockBegin(&func.front());
      exec::StreamOp::create(builder, func.getLoc(),
                             exec::StreamType::get(ctx));
    }

  TensorToBufferConverter converter;
  ConversionTarget legal(*ctx);
  legal.addLegalDialect<exec::ExecDialect>();
  legal.addLegalOp<ModuleOp>();
  legal.addIllegalDialect<GraphDialect>();
  legal.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp func) {
    return converter.isSignatureLegal(func.getFunctionType());
  });
  legal.addDynamicallyLegalOp<func::ReturnOp>(
      [&](func::ReturnOp op) { return converter.isLegal(op); });

  RewritePatternSet patterns(ctx);
  populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                 converter);
  populateReturnOpTypeConversionPattern(patterns, converter);
  populateLinearAlgebraPatterns(converter, patterns, targetInfo);
  populateElementwisePatterns(converter, patterns);
  populateConvolutionAndPoolingPatterns(converter, patterns);
  populateNormalizationPatterns(converter, patterns);
  populateSoftmaxAndLossPatterns(converter, patterns);
  populateDataMovementPatterns(converter, patterns);
  populateTrainingUpdatePatterns(converter, patterns);
  if (failed(applyFullConversion(module, legal, std::move(patterns))))
    return signalPassFailure();
}
