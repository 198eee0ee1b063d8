//===- GraphOps.cpp - graph dialect operations ----------------------------===//
//
// Verifiers, symbol checks and folders of the graph ops. Gradients live in
// GraphGradients.cpp.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/Graph/GraphOps.h"
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

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::verify() {
  ArrayRef<int64_t> a = getA().getType().getShape();
  ArrayRef<int64_t> b = getB().getType().getShape();
  int64_t m = getTransA() ? a[1] : a[0];
  int64_t ka = getTransA() ? a[0] : a[1];
  int64_t kb = getTransB() ? b[1] : b[0];
  int64_t n = getTransB() ? b[0] : b[1];
  if (ka != kb)
    return emitOpError("contraction sizes differ: op(a) is ")
           << m << "x" << ka << ", op(b) is " << kb << "x" << n;
  ArrayRef<int64_t> result = getType().getShape();
  if (result[0] != m || result[1] != n)
    return emitOpError("result shape ")
           << getType() << " should be " << m << "x" << n;
  if (Value c = getC()) {
    SmallVector<int64_t> broadcast;
    auto cType = cast<RankedTensorType>(c.getType());
    if (!OpTrait::util::getBroadcastedShape(cType.getShape(), result,
                                            broadcast) ||
        ArrayRef<int64_t>(broadcast) != result)
      return emitOpError("bias of type ")
             << cType << " does not broadcast to " << getType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Broadcasting ops, ReduceSumToOp
//===----------------------------------------------------------------------===//

namespace {
/// The result of a broadcasting binary op has the operands' broadcast shape.
LogicalResult verifyBroadcast(Operation *op) {
  auto lhs = cast<RankedTensorType>(op->getOperand(0).getType());
  auto rhs = cast<RankedTensorType>(op->getOperand(1).getType());
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<int64_t> broadcast;
  if (!OpTrait::util::getBroadcastedShape(lhs.getShape(), rhs.getShape(),
                                          broadcast))
    return op->emitOpError("operand shapes ")
           << lhs << " and " << rhs << " do not broadcast";
  if (ArrayRef<int64_t>(broadcast) != result.getShape())
    return op->emitOpError("result type ")
           << result << " is not the broadcast shape of the operands";
  return success();
}
} // namespace

LogicalResult AddOp::verify() { return verifyBroadcast(*this); }
LogicalResult SubOp::verify() { return verifyBroadcast(*this); }
LogicalResult MulOp::verify() { return verifyBroadcast(*this); }
LogicalResult DivOp::verify() { return verifyBroadcast(*this); }

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

namespace {
/// Checks a window's attributes and that `result` has the output shape they
/// give for `input` (N x C x H x W) and `kernel` (KH x KW).
LogicalResult verifyWindow(Operation *op, RankedTensorType input,
                           ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                           int64_t channels, RankedTensorType result) {
  if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2 ||
      pads.size() != 4)
    return op->emitOpError("expects 2 kernel sizes, 2 strides, 2 dilations "
                           "and 4 pads");
  for (int i = 0; i < 2; ++i)
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return op->emitOpError("kernel sizes, strides and dilations must be "
                             "positive");
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return op->emitOpError("pads must not be negative");
  SmallVector<int64_t> expected = {input.getDimSize(0), channels};
  for (int i = 0; i < 2; ++i)
    expected.push_back(windowOutputSize(input.getDimSize(2 + i), kernel[i],
                                        strides[i], pads[i], pads[i + 2],
                                        dilations[i]));
  if (expected[2] < 1 || expected[3] < 1)
    return op->emitOpError("window does not fit the input ") << input;
  if (ArrayRef<int64_t>(expected) != result.getShape())
    return op->emitOpError("result type ")
           << result << " should have shape " << expected[0] << "x"
           << expected[1] << "x" << expected[2] << "x" << expected[3];
  return success();
}
} // namespace

LogicalResult Conv2DOp::verify() {
  RankedTensorType input = getInput().getType(), filter = getFilter().getType();
  int64_t group = getGroup();
  int64_t channels = input.getDimSize(1), outChannels = filter.getDimSize(0);
  if (group < 1 || channels % group || outChannels % group)
    return emitOpError("group ")
           << group << " must divide the input channels (" << channels
           << ") and the output channels (" << outChannels << ")";
  if (filter.getDimSize(1) * group != channels)
    return emitOpError("filter ")
           << filter << " takes " << filter.getDimSize(1) * group
           << " input channels, the input has " << channels;
  if (Value bias = getBias())
    if (cast<RankedTensorType>(bias.getType()).getDimSize(0) != outChannels)
      return emitOpError("bias of type ")
             << bias.getType() << " should have " << outChannels
             << " elements";
  return verifyWindow(*this, input, filter.getShape().drop_front(2),
                      getStrides(), getPads(), getDilations(), outChannels,
                      getType());
}

LogicalResult MaxPool2DOp::verify() {
  RankedTensorType input = getInput().getType();
  return verifyWindow(*this, input, getKernel(), getStrides(), getPads(),
                      getDilations().value_or(ArrayRef<int64_t>{1, 1}),
                      input.getDimSize(1), getType());
}

LogicalResult AvgPool2DOp::verify() {
  RankedTensorType input = getInput().getType();
  return verifyWindow(*this, input, getKernel(), getStrides(), getPads(),
                      {1, 1}, input.getDimSize(1), getType());
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

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> perm = getPermutation();
  RankedTensorType input = getInput().getType();
  if (static_cast<int64_t>(perm.size()) != input.getRank())
    return emitOpError("permutation of ")
           << perm.size() << " entries for a rank-" << input.getRank()
           << " input";
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= input.getRank() || seen[p])
      return emitOpError("permutation is not a permutation of 0..")
             << input.getRank() - 1;
    seen[p] = true;
    shape.push_back(input.getDimSize(p));
  }
  if (ArrayRef<int64_t>(shape) != getType().getShape())
    return emitOpError("result type ")
           << getType() << " is not the permuted input shape";
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  auto first = cast<RankedTensorType>(getInputs().front().getType());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOpError("axis ") << axis << " out of range [0, "
                                << first.getRank() << ")";
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value input : getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() != first.getRank())
      return emitOpError("inputs have different ranks");
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (d != axis && type.getDimSize(d) != first.getDimSize(d))
        return emitOpError("input ")
               << type << " differs from " << first
               << " outside the concatenation axis";
    shape[axis] += type.getDimSize(axis);
  }
  if (ArrayRef<int64_t>(shape) != getType().getShape())
    return emitOpError("result type ") << getType() << " is not the joined shape";
  return success();
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

LogicalResult MatMulOp::verify() {
  RankedTensorType a = getA().getType(), b = getB().getType();
  if (a.getRank() < 2 || b.getRank() < 2)
    return emitOpError("operands must have rank 2 or more");
  int64_t m = a.getDimSize(a.getRank() - (getTransA() ? 1 : 2));
  int64_t ka = a.getDimSize(a.getRank() - (getTransA() ? 2 : 1));
  int64_t kb = b.getDimSize(b.getRank() - (getTransB() ? 1 : 2));
  int64_t n = b.getDimSize(b.getRank() - (getTransB() ? 2 : 1));
  if (ka != kb)
    return emitOpError("contraction sizes differ: ") << ka << " and " << kb;
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(a.getShape().drop_back(2),
                                          b.getShape().drop_back(2), batch))
    return emitOpError("batch dimensions of ")
           << a << " and " << b << " do not broadcast";
  batch.push_back(m);
  batch.push_back(n);
  if (ArrayRef<int64_t>(batch) != getType().getShape())
    return emitOpError("result type ") << getType() << " should be the "
                                          "broadcast batch x M x N";
  return success();
}

LogicalResult PadOp::verify() {
  RankedTensorType input = getInput().getType();
  if (static_cast<int64_t>(getLow().size()) != input.getRank() ||
      static_cast<int64_t>(getHigh().size()) != input.getRank())
    return emitOpError("needs one low and one high pad per dimension");
  for (int64_t d = 0; d < input.getRank(); ++d) {
    if (getLow()[d] < 0 || getHigh()[d] < 0)
      return emitOpError("pads must not be negative");
    if (getType().getDimSize(d) !=
        input.getDimSize(d) + getLow()[d] + getHigh()[d])
      return emitOpError("result type ") << getType() << " is not the padded "
                                            "input shape";
  }
  return success();
}
