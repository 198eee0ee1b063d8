//===- GraphGradients.cpp - vector-Jacobian products of graph ops ---------===//
//
// GradientOpInterface implementations. Each builds the gradient of the loss
// with respect to its operands from the gradient with respect to its result;
// BuildTrainingGraph strings them together in reverse order.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/Graph/GraphOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace dlc::graph;

namespace {
/// The adjoint of broadcasting `grad` up from `type`: sums the broadcast
/// dimensions away, or passes `grad` through when nothing was broadcast.
Value sumToType(OpBuilder &builder, Location loc, Value grad, Type type) {
  if (grad.getType() == type)
    return grad;
  return ReduceSumToOp::create(builder, loc, type, grad);
}

/// alpha * op(x) * op(y), with `op` transposing where asked.
Value buildGemm(OpBuilder &builder, Location loc, Type resultType, Value x,
                Value y, bool transX, bool transY, float alpha) {
  auto gemm = GemmOp::create(builder, loc, TypeRange{resultType},
                             ValueRange{x, y}, ArrayRef<NamedAttribute>{});
  gemm.setTransA(transX);
  gemm.setTransB(transY);
  gemm.setAlphaAttr(builder.getF32FloatAttr(alpha));
  return gemm;
}
} // namespace

SmallVector<Value> GemmOp::buildGradients(OpBuilder &builder, Value dy) {
  Location loc = getLoc();
  float alpha = getAlpha().convertToFloat();
  bool ta = getTransA(), tb = getTransB();
  Value a = getA(), b = getB();
  // y = alpha * op(a) op(b): d op(a) = alpha * dy op(b)^T and
  // d op(b) = alpha * op(a)^T dy; transposed operands take the transpose.
  Value da = ta ? buildGemm(builder, loc, a.getType(), b, dy, tb, true, alpha)
                : buildGemm(builder, loc, a.getType(), dy, b, false, !tb, alpha);
  Value db = tb ? buildGemm(builder, loc, b.getType(), dy, a, true, ta, alpha)
                : buildGemm(builder, loc, b.getType(), a, dy, !ta, false, alpha);
  SmallVector<Value> grads = {da, db};
  if (Value c = getC()) {
    Value dc = sumToType(builder, loc, dy, c.getType());
    float beta = getBeta().convertToFloat();
    if (beta != 1.0f)
      dc = ScaleOp::create(builder, loc, dc, builder.getF32FloatAttr(beta));
    grads.push_back(dc);
  }
  return grads;
}

SmallVector<Value> AddOp::buildGradients(OpBuilder &builder, Value dy) {
  return {sumToType(builder, getLoc(), dy, getLhs().getType()),
          sumToType(builder, getLoc(), dy, getRhs().getType())};
}

SmallVector<Value> SubOp::buildGradients(OpBuilder &builder, Value dy) {
  Value negated =
      ScaleOp::create(builder, getLoc(), dy, builder.getF32FloatAttr(-1.0f));
  return {sumToType(builder, getLoc(), dy, getLhs().getType()),
          sumToType(builder, getLoc(), negated, getRhs().getType())};
}

SmallVector<Value> MulOp::buildGradients(OpBuilder &builder, Value dy) {
  Location loc = getLoc();
  Type type = dy.getType();
  Value da = MulOp::create(builder, loc, type, dy, getRhs());
  Value db = MulOp::create(builder, loc, type, dy, getLhs());
  return {sumToType(builder, loc, da, getLhs().getType()),
          sumToType(builder, loc, db, getRhs().getType())};
}

SmallVector<Value> DivOp::buildGradients(OpBuilder &builder, Value dy) {
  // y = a / b: da = dy / b, db = -dy * a / b^2 = -(dy * y) / b.
  Location loc = getLoc();
  Type type = dy.getType();
  Value da = DivOp::create(builder, loc, type, dy, getRhs());
  Value dyTimesY = MulOp::create(builder, loc, type, dy, getResult());
  Value db = ScaleOp::create(
      builder, loc, DivOp::create(builder, loc, type, dyTimesY, getRhs()),
      builder.getF32FloatAttr(-1.0f));
  return {sumToType(builder, loc, da, getLhs().getType()),
          sumToType(builder, loc, db, getRhs().getType())};
}

SmallVector<Value> ReluOp::buildGradients(OpBuilder &builder, Value dy) {
  return {ReluGradOp::create(builder, getLoc(), dy, getResult())};
}

SmallVector<Value> SigmoidOp::buildGradients(OpBuilder &builder, Value dy) {
  return {SigmoidGradOp::create(builder, getLoc(), dy, getResult())};
}

SmallVector<Value> TanhOp::buildGradients(OpBuilder &builder, Value dy) {
  return {TanhGradOp::create(builder, getLoc(), dy, getResult())};
}

SmallVector<Value> LeakyReluOp::buildGradients(OpBuilder &builder, Value dy) {
  return {LeakyReluGradOp::create(builder, getLoc(), dy, getInput(),
                                  getAlphaAttr())};
}

SmallVector<Value> ReshapeOp::buildGradients(OpBuilder &builder, Value dy) {
  return {ReshapeOp::create(builder, getLoc(), getInput().getType(), dy)};
}

SmallVector<Value> SoftmaxOp::buildGradients(OpBuilder &builder, Value dy) {
  return {SoftmaxGradOp::create(builder, getLoc(), dy, getResult(),
                                getAxisAttr())};
}

SmallVector<Value> SoftmaxCrossEntropyOp::buildGradients(OpBuilder &builder,
                                                         Value dloss) {
  Value dx = SoftmaxCrossEntropyGradOp::create(
      builder, getLoc(), getInput().getType(), getInput(), getLabels(), dloss);
  return {dx, Value()};
}

SmallVector<Value> MseLossOp::buildGradients(OpBuilder &builder,
                                             Value dloss) {
  Value dx = MseLossGradOp::create(builder, getLoc(), getInput().getType(),
                                   getInput(), getLabels(), dloss);
  return {dx, Value()};
}

SmallVector<Value> Conv2DOp::buildGradients(OpBuilder &builder, Value dy) {
  Location loc = getLoc();
  Value dx = Conv2DBackwardDataOp::create(
      builder, loc, getInput().getType(), dy, getFilter(), getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getGroupAttr());
  Value dw = Conv2DBackwardFilterOp::create(
      builder, loc, getFilter().getType(), dy, getInput(), getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getGroupAttr());
  SmallVector<Value> grads = {dx, dw};
  if (Value bias = getBias()) {
    // Sum over batch and positions: to 1 x O x 1 x 1, then to O.
    int64_t channels = getType().getDimSize(1);
    auto perChannel =
        RankedTensorType::get({1, channels, 1, 1}, builder.getF32Type());
    Value summed = ReduceSumToOp::create(builder, loc, perChannel, dy);
    grads.push_back(
        ReshapeOp::create(builder, loc, bias.getType(), summed));
  }
  return grads;
}

SmallVector<Value> MaxPool2DOp::buildGradients(OpBuilder &builder, Value dy) {
  return {MaxPool2DGradOp::create(builder, getLoc(), dy, getInput(),
                                  getKernelAttr(), getStridesAttr(),
                                  getPadsAttr(), getDilationsAttr())};
}

SmallVector<Value> AvgPool2DOp::buildGradients(OpBuilder &builder, Value dy) {
  auto grad = AvgPool2DGradOp::create(builder, getLoc(), getInput().getType(),
                                      dy, getKernelAttr(), getStridesAttr(),
                                      getPadsAttr());
  grad.setCountIncludePad(getCountIncludePad());
  return {grad};
}

SmallVector<Value> RsqrtOp::buildGradients(OpBuilder &builder, Value dy) {
  return {RsqrtGradOp::create(builder, getLoc(), dy, getResult())};
}

SmallVector<Value> ScaleOp::buildGradients(OpBuilder &builder, Value dy) {
  return {ScaleOp::create(builder, getLoc(), dy, getFactorAttr())};
}

SmallVector<Value> ReduceSumToOp::buildGradients(OpBuilder &builder,
                                                 Value dy) {
  return {BroadcastOp::create(builder, getLoc(), getInput().getType(), dy)};
}

SmallVector<Value> BroadcastOp::buildGradients(OpBuilder &builder, Value dy) {
  return {sumToType(builder, getLoc(), dy, getInput().getType())};
}

SmallVector<Value> TransposeOp::buildGradients(OpBuilder &builder, Value dy) {
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  return {TransposeOp::create(builder, getLoc(), getInput().getType(), dy,
                              inverse)};
}

SmallVector<Value> ConcatOp::buildGradients(OpBuilder &builder, Value dy) {
  SmallVector<Value> grads;
  int64_t start = 0;
  for (Value input : getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    grads.push_back(SliceOp::create(builder, getLoc(), type, dy, getAxis(),
                                    start));
    start += type.getDimSize(getAxis());
  }
  return grads;
}

SmallVector<Value> ClipOp::buildGradients(OpBuilder &builder, Value dy) {
  return {ClipGradOp::create(builder, getLoc(), dy, getInput(), getMinAttr(),
                             getMaxAttr())};
}

SmallVector<Value> LogSoftmaxOp::buildGradients(OpBuilder &builder, Value dy) {
  return {LogSoftmaxGradOp::create(builder, getLoc(), dy, getResult(),
                                   getAxisAttr())};
}

SmallVector<Value> MatMulOp::buildGradients(OpBuilder &builder, Value dy) {
  // As for gemm, per batch element; then each gradient is summed over the
  // batch dimensions its operand was broadcast along.
  Location loc = getLoc();
  bool ta = getTransA(), tb = getTransB();
  auto dyType = cast<RankedTensorType>(dy.getType());
  auto product = [&](Value x, Value y, bool tx, bool ty, RankedTensorType like) {
    SmallVector<int64_t> shape(dyType.getShape().drop_back(2));
    shape.push_back(like.getDimSize(like.getRank() - 2));
    shape.push_back(like.getDimSize(like.getRank() - 1));
    auto op = MatMulOp::create(
        builder, loc, RankedTensorType::get(shape, builder.getF32Type()), x, y);
    op.setTransA(tx);
    op.setTransB(ty);
    return sumToType(builder, loc, op, like);
  };
  RankedTensorType aType = getA().getType(), bType = getB().getType();
  Value da = ta ? product(getB(), dy, tb, true, aType)
                : product(dy, getB(), false, !tb, aType);
  Value db = tb ? product(dy, getA(), true, ta, bType)
                : product(getA(), dy, !ta, false, bType);
  return {da, db};
}

SmallVector<Value> PadOp::buildGradients(OpBuilder &builder, Value dy) {
  return {CropOp::create(builder, getLoc(), getInput().getType(), dy,
                         getLow())};
}

SmallVector<Value> LrnOp::buildGradients(OpBuilder &builder, Value dy) {
  return {LrnGradOp::create(builder, getLoc(), dy, getInput(), getResult(),
                            getSizeAttr(), getAlphaAttr(), getBetaAttr(),
                            getBiasAttr())};
}

SmallVector<Value> BatchNormTrainOp::buildGradients(OpBuilder &builder,
                                                    Value dy) {
  auto grad = BatchNormGradOp::create(builder, getLoc(), dy, getInput(),
                                      getScale(), getMean(), getVariance(),
                                      getEpsilonAttr());
  return {grad.getInputGrad(), grad.getScaleGrad(), grad.getBiasGrad()};
}
