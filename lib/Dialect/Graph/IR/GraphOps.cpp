//===- GraphOps.cpp - graph dialect operations ----------------------------===//
//
// Verifiers, symbol checks and folders of the graph ops. Gradients live in
// GraphGradients.cpp.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Dialect/Graph/GraphShapes.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace dlc::graph;

#define GET_OP_CLASSES
#include "dlc/Dialect/Graph/GraphOps.cpp.inc"

namespace {
/// Finds the variable a symbol user names, checking that it exists.
FailureOr<VariableOp> lookupVariable(Operation *user,
                                     SymbolTableCollection &symbolTable,
                                     FlatSymbolRefAttr name) {
  auto variable =
      symbolTable.lookupNearestSymbolFrom<VariableOp>(user, name.getAttr());
  if (!variable)
    return user->emitOpError("references unknown variable ") << name;
  return variable;
}

LogicalResult checkVariableType(Operation *user, VariableOp variable,
                                Type expected) {
  if (variable.getType() != expected)
    return user->emitOpError("type ")
           << expected << " does not match variable @"
           << variable.getSymName() << " of type " << variable.getType();
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// VariableOp, LoadOp, SgdUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult VariableOp::verify() {
  if (!getTensorType().hasStaticShape())
    return emitOpError("type ") << getType() << " must have a static shape";
  if (auto init = getInitialValueAttr())
    if (init.getType() != getType())
      return emitOpError("initial value of type ")
             << init.getType() << " does not match variable type "
             << getType();
  return success();
}

LogicalResult LoadOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto variable = lookupVariable(*this, symbolTable, getVariableAttr());
  if (failed(variable))
    return failure();
  return checkVariableType(*this, *variable, getType());
}

/// An optimizer update's parameter must be trainable, and every state
/// variable it names of the parameter's type.
static LogicalResult verifyUpdate(Operation *op, SymbolTableCollection &symbols,
                                  FlatSymbolRefAttr paramName, Type gradient,
                                  ArrayRef<FlatSymbolRefAttr> stateNames) {
  auto param = lookupVariable(op, symbols, paramName);
  if (failed(param) || failed(checkVariableType(op, *param, gradient)))
    return failure();
  if (!param->getTrainable())
    return op->emitOpError("updates @")
           << param->getSymName() << ", which is not trainable";
  for (FlatSymbolRefAttr name : stateNames) {
    if (!name)
      continue;
    auto state = lookupVariable(op, symbols, name);
    if (failed(state) || failed(checkVariableType(op, *state, gradient)))
      return failure();
  }
  return success();
}

LogicalResult
SgdUpdateOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyUpdate(*this, symbolTable, getParamAttr(),
                      getGradient().getType(), {getVelocityAttr()});
}

LogicalResult
AdamUpdateOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyUpdate(*this, symbolTable, getParamAttr(),
                      getGradient().getType(),
                      {getFirstMomentAttr(), getSecondMomentAttr()});
}

namespace {
/// Where an op's type inference reports: at the op, as its verifier would;
/// nowhere without a location. Passed as a temporary, it lives through the
/// shape function's call.
struct OpErrors {
  std::optional<Location> loc;
  StringRef opName;
  InFlightDiagnostic operator()() const {
    if (!loc)
      return InFlightDiagnostic();
    return emitError(*loc) << "'" << opName << "' op ";
  }
};
OpErrors opErrors(std::optional<Location> loc, StringRef opName) {
  return {loc, opName};
}

/// Records an inferred result type.
LogicalResult inferred(SmallVectorImpl<Type> &types,
                       FailureOr<RankedTensorType> type) {
  if (failed(type))
    return failure();
  types.push_back(*type);
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto c = adaptor.getC()
               ? cast<RankedTensorType>(adaptor.getC().getType())
               : RankedTensorType();
  return inferred(types, gemmType(opErrors(loc, getOperationName()),
                                  cast<RankedTensorType>(adaptor.getA().getType()),
                                  cast<RankedTensorType>(adaptor.getB().getType()),
                                  c, adaptor.getTransA(), adaptor.getTransB()));
}

//===----------------------------------------------------------------------===//
// Broadcasting ops, ReduceSumToOp
//===----------------------------------------------------------------------===//

namespace {
/// A broadcasting binary op's result type.
template <typename OpT>
LogicalResult inferBroadcast(std::optional<Location> loc,
                             typename OpT::Adaptor adaptor,
                             SmallVectorImpl<Type> &types) {
  return inferred(
      types, broadcastType(opErrors(loc, OpT::getOperationName()),
                           cast<RankedTensorType>(adaptor.getLhs().getType()),
                           cast<RankedTensorType>(adaptor.getRhs().getType())));
}
} // namespace

#define DLC_INFER_BROADCAST(OpT)                                               \
  LogicalResult OpT::inferReturnTypes(MLIRContext *,                           \
                                      std::optional<Location> loc,             \
                                      Adaptor adaptor,                         \
                                      SmallVectorImpl<Type> &types) {          \
    return inferBroadcast<OpT>(loc, adaptor, types);                           \
  }
DLC_INFER_BROADCAST(AddOp)
DLC_INFER_BROADCAST(SubOp)
DLC_INFER_BROADCAST(MulOp)
DLC_INFER_BROADCAST(DivOp)
#undef DLC_INFER_BROADCAST

LogicalResult ReduceSumToOp::verify() {
  SmallVector<int64_t> broadcast;
  ArrayRef<int64_t> in = getInput().getType().getShape();
  if (!OpTrait::util::getBroadcastedShape(getType().getShape(), in,
                                          broadcast) ||
      ArrayRef<int64_t>(broadcast) != in)
    return emitOpError("result type ")
           << getType() << " does not broadcast to input type "
           << getInput().getType();
  return success();
}

LogicalResult BroadcastOp::verify() {
  SmallVector<int64_t> broadcast;
  ArrayRef<int64_t> out = getType().getShape();
  if (!OpTrait::util::getBroadcastedShape(getInput().getType().getShape(), out,
                                          broadcast) ||
      ArrayRef<int64_t>(broadcast) != out)
    return emitOpError("input type ")
           << getInput().getType() << " does not broadcast to " << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  if (getInput().getType().getNumElements() != getType().getNumElements())
    return emitOpError("cannot reshape ")
           << getInput().getType() << " to " << getType()
           << ": element counts differ";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) is one reshape of x.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

namespace {
LogicalResult verifyLoss(Operation *op, Value input, Value labels) {
  int64_t batch = cast<RankedTensorType>(input.getType()).getDimSize(0);
  int64_t labelCount = cast<RankedTensorType>(labels.getType()).getDimSize(0);
  if (batch != labelCount)
    return op->emitOpError("has ")
           << labelCount << " labels for a batch of " << batch;
  return success();
}
} // namespace

LogicalResult SoftmaxCrossEntropyOp::verify() {
  return verifyLoss(*this, getInput(), getLabels());
}

LogicalResult MseLossOp::verify() {
  return verifyLoss(*this, getInput(), getLabels());
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

int64_t dlc::graph::windowOutputSize(int64_t input, int64_t kernel,
                                     int64_t stride, int64_t padBegin,
                                     int64_t padEnd, int64_t dilation) {
  int64_t span = dilation * (kernel - 1) + 1;
  int64_t padded = input + padBegin + padEnd;
  if (padded < span)
    return 0;
  return (padded - span) / stride + 1;
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto bias = adaptor.getBias()
                  ? cast<RankedTensorType>(adaptor.getBias().getType())
                  : RankedTensorType();
  return inferred(
      types,
      conv2DType(opErrors(loc, getOperationName()),
                 cast<RankedTensorType>(adaptor.getInput().getType()),
                 cast<RankedTensorType>(adaptor.getFilter().getType()), bias,
                 adaptor.getStrides(), adaptor.getPads(),
                 adaptor.getDilations(), adaptor.getGroup()));
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  return inferred(
      types, windowType(opErrors(loc, getOperationName()), input,
                        adaptor.getKernel(), adaptor.getStrides(),
                        adaptor.getPads(),
                        adaptor.getDilations().value_or(ArrayRef<int64_t>{1, 1}),
                        input.getDimSize(1)));
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  return inferred(types, windowType(opErrors(loc, getOperationName()), input,
                                    adaptor.getKernel(), adaptor.getStrides(),
                                    adaptor.getPads(), {1, 1},
                                    input.getDimSize(1)));
}

//===----------------------------------------------------------------------===//
// Batch normalization
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::verify() {
  RankedTensorType input = getInput().getType();
  if (input.getRank() != 2 && input.getRank() != 4)
    return emitOpError("input ") << input << " must be N x C or N x C x H x W";
  int64_t channels = input.getDimSize(1);
  if (getScale().getType().getDimSize(0) != channels ||
      getBias().getType().getDimSize(0) != channels)
    return emitOpError("scale and bias must have ")
           << channels << " elements, one per channel";
  return success();
}

/// Batch statistics are per channel: one element per entry of dim 1.
static LogicalResult verifyPerChannel(Operation *op, RankedTensorType input,
                                      Type vector) {
  if (input.getRank() < 2)
    return op->emitOpError("input ")
           << input << " must have a channel dimension (N x C x ...)";
  if (cast<RankedTensorType>(vector).getDimSize(0) != input.getDimSize(1))
    return op->emitOpError("per-channel operands must have ")
           << input.getDimSize(1) << " elements, one per channel";
  return success();
}

LogicalResult BatchNormTrainOp::verify() {
  return verifyPerChannel(*this, getInput().getType(), getScale().getType());
}

LogicalResult BatchNormInferenceOp::verify() {
  return verifyPerChannel(*this, getInput().getType(), getScale().getType());
}

LogicalResult BatchNormGradOp::verify() {
  return verifyPerChannel(*this, getInput().getType(), getScale().getType());
}

LogicalResult
BatchNormOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto expected = RankedTensorType::get({getInput().getType().getDimSize(1)},
                                        Float32Type::get(getContext()));
  for (FlatSymbolRefAttr name : {getRunningMeanAttr(), getRunningVarAttr()}) {
    auto variable = lookupVariable(*this, symbolTable, name);
    if (failed(variable) ||
        failed(checkVariableType(*this, *variable, expected)))
      return failure();
  }
  return success();
}

LogicalResult
RunningUpdateOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto variable = lookupVariable(*this, symbolTable, getVariableAttr());
  if (failed(variable))
    return failure();
  return checkVariableType(*this, *variable, getStatistic().getType());
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferred(
      types, transposeType(opErrors(loc, getOperationName()),
                           cast<RankedTensorType>(adaptor.getInput().getType()),
                           adaptor.getPermutation()));
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferred(types, concatType(opErrors(loc, getOperationName()),
                                    adaptor.getInputs().getTypes(),
                                    adaptor.getAxis()));
}

LogicalResult SliceOp::verify() {
  RankedTensorType input = getInput().getType(), result = getType();
  int64_t axis = getAxis(), start = getStart();
  if (input.getRank() != result.getRank() || axis < 0 ||
      axis >= input.getRank())
    return emitOpError("axis ") << axis << " or ranks do not match";
  for (int64_t d = 0; d < input.getRank(); ++d)
    if (d != axis && input.getDimSize(d) != result.getDimSize(d))
      return emitOpError("result differs from the input outside the axis");
  if (start < 0 || start + result.getDimSize(axis) > input.getDimSize(axis))
    return emitOpError("slice [")
           << start << ", " << start + result.getDimSize(axis)
           << ") exceeds the input's " << input.getDimSize(axis);
  return success();
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

namespace {
LogicalResult verifyAxis(Operation *op, int64_t axis, RankedTensorType type) {
  if (axis < -type.getRank() || axis >= type.getRank())
    return op->emitOpError("axis ") << axis << " out of range for " << type;
  return success();
}
} // namespace

LogicalResult SoftmaxOp::verify() {
  return verifyAxis(*this, getAxis(), getType());
}

LogicalResult LogSoftmaxOp::verify() {
  return verifyAxis(*this, getAxis(), getType());
}

//===----------------------------------------------------------------------===//
// MatMulOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferred(types,
                  matMulType(opErrors(loc, getOperationName()),
                             cast<RankedTensorType>(adaptor.getA().getType()),
                             cast<RankedTensorType>(adaptor.getB().getType()),
                             adaptor.getTransA(), adaptor.getTransB()));
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferred(types, padType(opErrors(loc, getOperationName()),
                                 cast<RankedTensorType>(adaptor.getInput().getType()),
                                 adaptor.getLow(), adaptor.getHigh()));
}
