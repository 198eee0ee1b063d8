//===- TrainingForms.cpp - training and inference forms -------------------===//
//
// Training-form batch norm is one batch_norm_train op (the backends fuse the
// statistics, the normalization and its gradient). The inference form is
// plain arithmetic: running statistics reshaped to 1 x C (x 1 x 1) broadcast
// against the N x C (x H x W) input. Dropout multiplies by a mask drawn
// afresh every step.
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

/// Builds the inference arithmetic of one batch_norm op at the builder's position.
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
  Value binary(StringRef kind, Value lhs, Value rhs) {
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    Type type = lhsType.getRank() >= rhsType.getRank() &&
                        lhsType.getNumElements() >= rhsType.getNumElements()
                    ? lhsType
                    : rhsType;
    if (kind == "sub")
      return SubOp::create(b, loc, type, lhs, rhs);
    if (kind == "mul")
      return MulOp::create(b, loc, type, lhs, rhs);
    return AddOp::create(b, loc, type, lhs, rhs);
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

Value dlc::expandBatchNormTraining(OpBuilder &builder, BatchNormOp op) {
  Location loc = op.getLoc();
  auto train = BatchNormTrainOp::create(builder, loc, op.getInput(),
                                        op.getScale(), op.getBias(),
                                        op.getEpsilonAttr());
  RankedTensorType input = op.getInput().getType();
  int64_t count = input.getNumElements() / input.getDimSize(1);
  FloatAttr momentum = op.getMomentumAttr();
  RunningUpdateOp::create(builder, loc, op.getRunningMeanAttr(),
                          train.getMean(), momentum,
                          builder.getF32FloatAttr(1.0f));
  // The running variance is unbiased, as PyTorch keeps it.
  float unbiased = count > 1 ? float(count) / float(count - 1) : 1.0f;
  RunningUpdateOp::create(builder, loc, op.getRunningVarAttr(),
                          train.getVariance(), momentum,
                          builder.getF32FloatAttr(unbiased));
  return train.getResult();
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
      op.replaceAllUsesWith(expandBatchNormInference(builder, op));
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
