//===- ExecOps.cpp - execution dialect operations -------------------------===//
//
// Verifiers: alignments and planned offsets, views that keep the byte size,
// in-place outputs that are declared, and asynchronous operations whose
// token is waited for exactly once, with their buffers left alone until
// then.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/Exec/ExecOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace dlc::exec;

#define GET_OP_CLASSES
#include "dlc/Dialect/Exec/ExecOps.cpp.inc"

namespace {
/// A power-of-two alignment, and an offset (when planned) that honours it.
LogicalResult verifyPlacement(Operation *op, int64_t alignment,
                              std::optional<int64_t> offset) {
  if (alignment < 1 || (alignment & (alignment - 1)) != 0)
    return op->emitOpError("alignment ")
           << alignment << " is not a positive power of two";
  if (offset && (*offset < 0 || *offset % alignment != 0))
    return op->emitOpError("offset ")
           << *offset << " is not a non-negative multiple of the alignment "
           << alignment;
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

LogicalResult GlobalOp::verify() {
  if (failed(verifyPlacement(*this, getAlignment(), getOffset())))
    return failure();
  std::optional<ElementsAttr> init = getInitialValue();
  if (!init)
    return success();
  auto initType = cast<ShapedType>(init->getType());
  BufferType buffer = getBufferType();
  if (initType.getShape() != buffer.getShape() ||
      initType.getElementType() != buffer.getElementType())
    return emitOpError("initial value of type ")
           << initType << " does not fill " << buffer;
  return success();
}

LogicalResult
GlobalRefOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto global =
      symbolTable.lookupNearestSymbolFrom<GlobalOp>(*this, getGlobalAttr());
  if (!global)
    return emitOpError("references unknown global ") << getGlobalAttr();
  if (global.getType() != getType())
    return emitOpError("type ")
           << getType() << " does not match global @" << global.getSymName()
           << " of type " << global.getType();
  return success();
}

LogicalResult AllocOp::verify() {
  return verifyPlacement(*this, getAlignment(), getOffset());
}

LogicalResult ViewOp::verify() {
  int64_t from = getSource().getType().getSizeInBytes();
  int64_t to = getType().getSizeInBytes();
  if (from != to)
    return emitOpError("views ")
           << from << " bytes as " << getType() << " of " << to << " bytes";
  return success();
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

LogicalResult KernelOp::verify() {
  OperandRange inputs = getInputs(), outputs = getOutputs();
  SmallVector<int64_t> inPlace(outputs.size(), -1);
  if (std::optional<ArrayRef<int64_t>> given = getInPlace()) {
    if (given->size() != outputs.size())
      return emitOpError("in_place has ")
             << given->size() << " entries for " << outputs.size()
             << " outputs";
    inPlace.assign(given->begin(), given->end());
  }
  for (auto [i, output] : llvm::enumerate(outputs)) {
    int64_t tied = inPlace[i];
    if (tied < -1 || tied >= static_cast<int64_t>(inputs.size()))
      return emitOpError("in_place entry ")
             << tied << " of output #" << i << " is not -1 or an input index";
    if (tied >= 0 && inputs[tied] != output)
      return emitOpError("output #")
             << i << " is declared in place of input #" << tied
             << " but is another buffer";
    for (auto [j, input] : llvm::enumerate(inputs))
      if (input == output && static_cast<int64_t>(j) != tied)
        return emitOpError("output #")
               << i << " overwrites input #" << j
               << " without being declared in place";
    for (size_t k = 0; k < i; ++k)
      if (outputs[k] == output)
        return emitOpError("outputs #")
               << k << " and #" << i << " are the same buffer";
  }
  for (Value scratch : getScratch())
    if (llvm::is_contained(inputs, scratch) ||
        llvm::is_contained(outputs, scratch))
      return emitOpError("a scratch buffer is also an input or output");
  return success();
}

//===----------------------------------------------------------------------===//
// Asynchronous operations
//===----------------------------------------------------------------------===//

LogicalResult AllReduceStartOp::verify() {
  Value token = getToken();
  if (!token.hasOneUse() || !isa<WaitOp>(*token.getUsers().begin()))
    return emitOpError("token must be consumed by exactly one exec.wait");
  Operation *wait = *token.getUsers().begin();
  if (wait->getBlock() != (*this)->getBlock() ||
      !(*this)->isBeforeInBlock(wait))
    return emitOpError("its exec.wait must follow it in the same block");
  // The collective reads and writes the buffer until the wait.
  for (Operation *op = (*this)->getNextNode(); op != wait;
       op = op->getNextNode())
    if (llvm::is_contained(op->getOperands(), getBuffer()))
      return op->emitOpError("uses a buffer that a collective started "
                             "earlier still works on")
                 .attachNote(getLoc())
             << "the collective starts here; its exec.wait comes later";
  return success();
}
