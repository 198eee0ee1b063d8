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

LogicalResult
SgdUpdateOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param = lookupVariable(*this, symbolTable, getParamAttr());
  if (failed(param) ||
      failed(checkVariableType(*this, *param, getGradient().getType())))
    return failure();
  if (!param->getTrainable())
    return emitOpError("updates @")
           << param->getSymName() << ", which is not trainable";
  if (auto velocityName = getVelocityAttr()) {
    auto velocity = lookupVariable(*this, symbolTable, velocityName);
    if (failed(velocity) ||
        failed(checkVariableType(*this, *velocity, getGradient().getType())))
      return failure();
  }
  return success();
}

LogicalResult SgdUpdateOp::verify() {
  if (getLr().convertToFloat() <= 0.0f)
    return emitOpError("learning rate ") << getLr().convertToFloat() << " must be positive";
  if (getMomentum().convertToFloat() != 0.0f && !getVelocity())
    return emitOpError("momentum ")
           << getMomentum().convertToFloat() << " needs a velocity variable";
  return success();
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
