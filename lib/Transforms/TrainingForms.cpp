//===- TrainingForms.cpp - training and inference forms -------------------===//
//
// Training-form batch norm is one batch_norm_train op (both backends fuse
// the statistics, the normalization and its gradient), or for backends
// without that kernel plain arithmetic, as the frozen form always is:
// statistics shaped 1 x C (x 1 x 1) broadcast against the N x C (x H x W)
// input. The inference form (@forward) is one batch_norm_inference op.
// Dropout multiplies by a mask drawn afresh every step.
//
//===----------------------------------------------------------------------===//

#include "dlc/Transforms/TrainingForms.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_EXPANDINFERENCEFORMS
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {

/// Builds the arithmetic of one batch_norm op at the builder's position.
class Expander {
public:
  Expander(OpBuilder &builder, BatchNormOp op)
      : b(builder), op(op), loc(op.getLoc()), input(op.getInput().getType()) {
    SmallVector<int64_t> shape(input.getRank(), 1);
    shape[1] = input.getDimSize(1);
    statType = RankedTensorType::get(shape, b.getF32Type());
  }

  /// A per-channel vector reshaped to broadcast over the input.
  Value perChannel(Value vector) {
    return ReshapeOp::create(b, loc, statType, vector);
  }
  Value load(FlatSymbolRefAttr variable) {
    return perChannel(LoadOp::create(b, loc, op.getScale().getType(),
                                     variable.getValue()));
  }
  /// The operands broadcast against each other; the ops infer the type.
  Value binary(StringRef kind, Value lhs, Value rhs) {
    if (kind == "sub")
      return SubOp::create(b, loc, lhs, rhs);
    if (kind == "mul")
      return MulOp::create(b, loc, lhs, rhs);
    return AddOp::create(b, loc, lhs, rhs);
  }
  Value mean(Value x, int64_t count) {
    Value sum = ReduceSumToOp::create(b, loc, statType, x);
    return ScaleOp::create(b, loc, sum, b.getF32FloatAttr(1.0f / count));
  }
  Value invStd(Value variance) {
    return RsqrtOp::create(b, loc, variance, op.getEpsilonAttr());
  }
  /// (x - mean) * invStd * scale + bias.
  Value normalize(Value centered, Value invStdDev) {
    Value factor = binary("mul", invStdDev, perChannel(op.getScale()));
    return binary("add", binary("mul", centered, factor),
                  perChannel(op.getBias()));
  }

  OpBuilder &b;
  BatchNormOp op;
  Location loc;
  RankedTensorType input, statType;
};

} // namespace

Value dlc::expandBatchNormInference(OpBuilder &builder, BatchNormOp op) {
  Expander e(builder, op);
  Value centered = e.binary("sub", op.getInput(), e.load(op.getRunningMeanAttr()));
  return e.normalize(centered, e.invStd(e.load(op.getRunningVarAttr())));
}

namespace {
/// The running-statistics updates of training-form batch norm, from the
/// batch's mean and biased variance (vectors of the channels).
void updateRunningStatistics(OpBuilder &builder, BatchNormOp op, Value mean,
                             Value variance) {
  RankedTensorType input = op.getInput().getType();
  int64_t count = input.getNumElements() / input.getDimSize(1);
  FloatAttr momentum = op.getMomentumAttr();
  RunningUpdateOp::create(builder, op.getLoc(), op.getRunningMeanAttr(), mean,
                          momentum, builder.getF32FloatAttr(1.0f));
  // The running variance is unbiased, as PyTorch keeps it.
  float unbiased = count > 1 ? float(count) / float(count - 1) : 1.0f;
  RunningUpdateOp::create(builder, op.getLoc(), op.getRunningVarAttr(),
                          variance, momentum,
                          builder.getF32FloatAttr(unbiased));
}
} // namespace

Value dlc::expandBatchNormTraining(OpBuilder &builder, BatchNormOp op,
                                   bool fused) {
  if (fused) {
    auto train = BatchNormTrainOp::create(builder, op.getLoc(), op.getInput(),
                                          op.getScale(), op.getBias(),
                                          op.getEpsilonAttr());
    updateRunningStatistics(builder, op, train.getMean(),
                            train.getVariance());
    return train.getResult();
  }
  // The same in arithmetic that autodiff differentiates op by op.
  Expander e(builder, op);
  int64_t count = e.input.getNumElements() / e.input.getDimSize(1);
  Value mean = e.mean(op.getInput(), count);
  Value centered = e.binary("sub", op.getInput(), mean);
  Value variance = e.mean(e.binary("mul", centered, centered), count);
  Value result = e.normalize(centered, e.invStd(variance));
  auto vectorType = op.getScale().getType();
  updateRunningStatistics(
      builder, op, ReshapeOp::create(builder, e.loc, vectorType, mean),
      ReshapeOp::create(builder, e.loc, vectorType, variance));
  return result;
}

Value dlc::expandDropoutTraining(OpBuilder &builder, DropoutOp op,
                                 int64_t stream) {
  Location loc = op.getLoc();
  Value mask = DropoutMaskOp::create(builder, loc, op.getType(),
                                     op.getRatioAttr(),
                                     builder.getI64IntegerAttr(stream));
  return MulOp::create(builder, loc, op.getType(), op.getInput(), mask);
}

namespace {
struct ExpandInferenceForms : dlc::impl::ExpandInferenceFormsBase<ExpandInferenceForms> {
  using ExpandInferenceFormsBase::ExpandInferenceFormsBase;
  void runOnOperation() override {
    SmallVector<BatchNormOp> ops;
    getOperation().walk([&](BatchNormOp op) { ops.push_back(op); });
    for (BatchNormOp op : ops) {
      OpBuilder builder(op);
      auto vector = op.getScale().getType();
      Value mean = LoadOp::create(builder, op.getLoc(), vector,
                                  op.getRunningMeanAttr().getValue());
      Value variance = LoadOp::create(builder, op.getLoc(), vector,
                                      op.getRunningVarAttr().getValue());
      op.replaceAllUsesWith(
          BatchNormInferenceOp::create(builder, op.getLoc(), op.getInput(),
                                       op.getScale(), op.getBias(), mean,
                                       variance, op.getEpsilonAttr())
              .getResult());
      op.erase();
    }
    // Dropout infers as the identity.
    getOperation().walk([&](DropoutOp op) {
      op.replaceAllUsesWith(op.getInput());
      op.erase();
    });
  }
};
} // namespace
