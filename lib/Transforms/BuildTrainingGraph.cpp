//===- BuildTrainingGraph.cpp - loss, autodiff and optimizer --------------===//
//
// Turns `@forward` into `@train_step`: forward ops, loss, reverse-mode
// gradients (each op's own GradientOpInterface), gradient averaging across
// ranks, and an in-place SGD update of every trainable variable.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Transforms/TrainingForms.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace dlc {
#define GEN_PASS_DEF_BUILDTRAININGGRAPH
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
struct BuildTrainingGraph
    : dlc::impl::BuildTrainingGraphBase<BuildTrainingGraph> {
  using BuildTrainingGraphBase::BuildTrainingGraphBase;
  void runOnOperation() override;

private:
  LogicalResult checkOptions(ModuleOp module);
  Value buildLoss(OpBuilder &builder, Value output, Value labels);
  LogicalResult buildBackward(OpBuilder &builder, Block &body, Value loss,
                              llvm::MapVector<StringAttr, Value> &paramGrads);
  void buildUpdates(OpBuilder &builder, ModuleOp module,
                    llvm::MapVector<StringAttr, Value> &paramGrads);
};
} // namespace

LogicalResult BuildTrainingGraph::checkOptions(ModuleOp module) {
  BuildTrainingGraphOptions options;
  options.batchNorm = batchNorm;
  options.fusedBatchNorm = fusedBatchNorm;
  options.dropout = dropout;
  options.loss = loss;
  options.optimizer = optimizer;
  options.learningRate = learningRate;
  options.momentum = momentum;
  options.weightDecay = weightDecay;
  options.beta1 = beta1;
  options.beta2 = beta2;
  options.eps = eps;
  if (std::optional<std::string> why = checkTrainingOptions(options))
    return module.emitError(*why);
  return success();
}

Value BuildTrainingGraph::buildLoss(OpBuilder &builder, Value output,
                                    Value labels) {
  Location loc = output.getLoc();
  if (loss == Loss::Mse)
    return MseLossOp::create(builder, loc, output, labels);
  // Cross-entropy reads logits; a trailing softmax over the classes is
  // folded into the loss.
  Value logits = output;
  if (auto softmax = output.getDefiningOp<SoftmaxOp>())
    if (softmax.getAxis() == -1 || softmax.getAxis() == 1)
      logits = softmax.getInput();
  // A loss is one float: the op builds its own result type.
  return SoftmaxCrossEntropyOp::create(builder, loc, logits, labels);
}

LogicalResult BuildTrainingGraph::buildBackward(
    OpBuilder &builder, Block &body, Value loss,
    llvm::MapVector<StringAttr, Value> &paramGrads) {
  Location loc = loss.getLoc();
  DenseMap<Value, Value> grads;
  auto accumulate = [&](Value value, Value grad) {
    Value &slot = grads[value];
    slot = slot ? AddOp::create(builder, loc, grad.getType(), slot, grad)
                : grad;
  };
  grads[loss] = OnesOp::create(builder, loc, loss.getType());

  // Walk the forward ops (everything before the loss) in reverse.
  SmallVector<Operation *> forwardOps;
  for (Operation &op : body) {
    if (&op == loss.getDefiningOp())
      break;
    forwardOps.push_back(&op);
  }
  forwardOps.push_back(loss.getDefiningOp());
  for (Operation *op : llvm::reverse(forwardOps)) {
    // Only the first result is differentiable (see GradientOpInterface).
    if (op->getNumResults() == 0 || !grads.count(op->getResult(0)))
      continue;
    Value dy = grads.lookup(op->getResult(0));
    if (auto load = dyn_cast<LoadOp>(op)) {
      Value &slot = paramGrads[load.getVariableAttr().getAttr()];
      slot = slot ? AddOp::create(builder, loc, dy.getType(), slot, dy) : dy;
      continue;
    }
    // Sources (masks, constants) have nothing to pass a gradient on to.
    if (op->getNumOperands() == 0)
      continue;
    auto differentiable = dyn_cast<GradientOpInterface>(op);
    if (!differentiable)
      return op->emitOpError("has no gradient; it cannot be trained through");
    SmallVector<Value> operandGrads =
        differentiable.buildGradients(builder, dy);
    for (auto [operand, grad] : llvm::zip(op->getOperands(), operandGrads))
      if (grad)
        accumulate(operand, grad);
  }
  return success();
}

void BuildTrainingGraph::buildUpdates(
    OpBuilder &builder, ModuleOp module,
    llvm::MapVector<StringAttr, Value> &paramGrads) {
  SymbolTable symbols(module);
  OpBuilder moduleBuilder = OpBuilder::atBlockEnd(module.getBody());
  for (auto [name, grad] : paramGrads) {
    auto param = symbols.lookup<VariableOp>(name);
    if (!param.getTrainable())
      continue;
    Location loc = param.getLoc();
    // Zero-initialised optimizer state, placed after its parameter.
    auto addState = [&](StringRef suffix) {
      moduleBuilder.setInsertionPointAfter(param);
      auto state = VariableOp::create(
          moduleBuilder, loc, (param.getSymName() + suffix).str(),
          param.getType(), /*initial_value=*/nullptr, /*trainable=*/false,
          /*onnx_name=*/nullptr);
      // A name clash gets a unique suffix; refer to whatever was chosen.
      symbols.insert(state);
      return FlatSymbolRefAttr::get(state.getSymNameAttr());
    };
    Value averaged = AllReduceMeanOp::create(builder, loc, grad);
    if (optimizer == Optimizer::Sgd) {
      FlatSymbolRefAttr velocity =
          momentum != 0.0f ? addState("_velocity") : FlatSymbolRefAttr();
      SgdUpdateOp::create(builder, loc, FlatSymbolRefAttr::get(name), averaged,
                          velocity);
      continue;
    }
    FlatSymbolRefAttr first = addState("_adam_m");
    FlatSymbolRefAttr second = addState("_adam_v");
    AdamUpdateOp::create(builder, loc, FlatSymbolRefAttr::get(name), averaged,
                         first, second,
                         optimizer == Optimizer::AdamW ? builder.getUnitAttr()
                                              : UnitAttr());
  }
  // The run-time hyperparameters' defaults, for the generated program.
  Builder b(module.getContext());
  module->setAttr(
      kHyperparametersAttr,
      b.getDictionaryAttr({
          b.getNamedAttr("optimizer", b.getStringAttr(stringify(optimizer))),
          b.getNamedAttr("lr", b.getF32FloatAttr(learningRate)),
          b.getNamedAttr("momentum", b.getF32FloatAttr(momentum)),
          b.getNamedAttr("weight_decay", b.getF32FloatAttr(weightDecay)),
          b.getNamedAttr("beta1", b.getF32FloatAttr(beta1)),
          b.getNamedAttr("beta2", b.getF32FloatAttr(beta2)),
          b.getNamedAttr("eps", b.getF32FloatAttr(eps)),
      }));
}

void BuildTrainingGraph::runOnOperation() {
  ModuleOp module = getOperation();
  if (failed(checkOptions(module)))
    return signalPassFailure();
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward) {
    module.emitError("no @forward function to build a training step from");
    return signalPassFailure();
  }
  if (module.lookupSymbol("train_step")) {
    module.emitError("module already has a @train_step");
    return signalPassFailure();
  }
  auto outputType = forward.getNumResults() == 1
                        ? dyn_cast<RankedTensorType>(forward.getResultTypes()[0])
                        : RankedTensorType();
  // Reported at the function's location, not on the op: printing the op
  // would dump the whole function.
  if (!outputType || outputType.getRank() != 2) {
    InFlightDiagnostic diag = emitError(forward.getLoc())
                              << "the model must have one 2-D output (batch x "
                                 "classes) to train with a classification "
                                 "loss; it returns ";
    llvm::interleaveComma(forward.getResultTypes(), diag);
    return signalPassFailure();
  }
  if (outputType.getDimSize(1) < 1) {
    emitError(forward.getLoc())
        << "the model's output " << outputType << " has no classes";
    return signalPassFailure();
  }

  auto train = cast<func::FuncOp>(forward->clone());
  train.setName("train_step");
  module.push_back(train);
  Block &body = train.front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  OpBuilder builder(ret);
  auto labelsType =
      RankedTensorType::get({outputType.getDimSize(0)}, builder.getI32Type());
  Value labels = body.addArgument(labelsType, train.getLoc());

  // Batch normalization trains on batch statistics unless frozen.
  SmallVector<BatchNormOp> batchNorms(body.getOps<BatchNormOp>());
  for (BatchNormOp op : batchNorms) {
    OpBuilder at(op);
    op.replaceAllUsesWith(batchNorm == BatchNormMode::Frozen
                              ? expandBatchNormInference(at, op)
                              : expandBatchNormTraining(at, op, fusedBatchNorm));
    op.erase();
  }
  SmallVector<DropoutOp> dropouts(body.getOps<DropoutOp>());
  for (auto [stream, op] : llvm::enumerate(dropouts)) {
    OpBuilder at(op);
    op.replaceAllUsesWith(dropout == DropoutMode::Off
                              ? op.getInput()
                              : expandDropoutTraining(at, op, stream));
    op.erase();
  }

  Value loss = buildLoss(builder, ret.getOperand(0), labels);
  llvm::MapVector<StringAttr, Value> paramGrads;
  if (failed(buildBackward(builder, body, loss, paramGrads)))
    return signalPassFailure();
  buildUpdates(builder, module, paramGrads);

  func::ReturnOp::create(builder, ret.getLoc(), loss);
  ret.erase();
  train.setType(builder.getFunctionType(body.getArgumentTypes(),
                                        {loss.getType()}));
  // The forward output is no longer returned; drop what only fed it.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (isPure(&op) && op.use_empty() && !op.hasTrait<OpTrait::IsTerminator>())
      op.erase();
}

void dlc::buildTrainingPipeline(OpPassManager &pm,
                                const BuildTrainingGraphOptions &options) {
  pm.addPass(createBuildTrainingGraph(options));
  pm.addPass(createExpandInferenceForms());
  buildGraphCleanupPipeline(pm);
  pm.addPass(createPlanMemory());
}
