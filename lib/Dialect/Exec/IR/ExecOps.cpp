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
#include "llvm/ADT/SmallBitVector.h"

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

Value dlc::exec::storageOf(Value buffer) {
  while (auto view = buffer.getDefiningOp<ViewOp>())
    buffer = view.getSource();
  return buffer;
}

int64_t dlc::exec::byteOffsetInStorage(Value buffer) {
  int64_t offset = 0;
  while (auto view = buffer.getDefiningOp<ViewOp>()) {
    offset += view.getByteOffset().value_or(0);
    buffer = view.getSource();
  }
  return offset;
}

void dlc::exec::defineBefore(Value value, Operation *point) {
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != point->getBlock() ||
      def->isBeforeInBlock(point))
    return;
  for (Value operand : def->getOperands())
    defineBefore(operand, point);
  def->moveBefore(point);
}

LogicalResult ViewOp::verify() {
  int64_t from = getSource().getType().getSizeInBytes();
  int64_t to = getType().getSizeInBytes();
  if (std::optional<int64_t> offset = getByteOffset()) {
    if (*offset < 0 || *offset + to > from)
      return emitOpError("views bytes ")
             << *offset << " to " << *offset + to << " of a buffer of " << from
             << " bytes";
    return success();
  }
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
  if (std::optional<ArrayRef<int64_t>> reusable = getReusable())
    for (int64_t index : *reusable)
      if (index < 0 || index >= static_cast<int64_t>(inputs.size()))
        return emitOpError("reusable entry ")
               << index << " is not an input index";
  return verifyArguments();
}

SmallVector<Value> KernelOp::getBuffers() {
  SmallVector<Value> buffers(getInputs());
  llvm::append_range(buffers, getOutputs());
  llvm::append_range(buffers, getScratch());
  return buffers;
}

SmallVector<Attribute> KernelOp::getCallArguments() {
  if (std::optional<ArrayAttr> args = getArgs())
    return SmallVector<Attribute>(args->getValue());
  SmallVector<Attribute> pointers;
  for (unsigned i = 0, e = getBuffers().size(); i < e; ++i)
    pointers.push_back(PointerAttr::get(getContext(), i, 0));
  return pointers;
}

/// Every argument is one the EmitC lowering can print, every pointer
/// points inside its buffer, and every buffer is passed.
LogicalResult KernelOp::verifyArguments() {
  SmallVector<Value> buffers = getBuffers();
  llvm::SmallBitVector passed(buffers.size());
  for (auto [i, arg] : llvm::enumerate(getCallArguments())) {
    if (auto pointer = dyn_cast<PointerAttr>(arg)) {
      if (pointer.getOperand() >= buffers.size())
        return emitOpError("argument #")
               << i << " points to buffer operand #" << pointer.getOperand()
               << " of " << buffers.size();
      auto type = cast<BufferType>(buffers[pointer.getOperand()].getType());
      int64_t offset = pointer.getElementOffset();
      if (offset < 0 || (offset > 0 && offset >= type.getNumElements()))
        return emitOpError("argument #")
               << i << " points " << offset << " elements into " << type;
      // An in-place output is its input's buffer: passing either passes
      // both.
      for (auto [j, buffer] : llvm::enumerate(buffers))
        if (buffer == buffers[pointer.getOperand()])
          passed.set(j);
      continue;
    }
    if (isa<EnumAttr, StructAttr, NullAttr, BoolAttr, DenseI64ArrayAttr>(arg))
      continue;
    if (auto integer = dyn_cast<IntegerAttr>(arg);
        integer && !integer.getType().isIndex())
      continue;
    if (auto number = dyn_cast<FloatAttr>(arg); number && number.getType().isF32())
      continue;
    return emitOpError("argument #")
           << i << " (" << arg << ") is not a buffer pointer, an ABI "
           << "constant, an integer, an f32, a boolean or an i64 array";
  }
  if (!passed.all())
    return emitOpError("buffer operand #")
           << passed.find_first_unset() << " is not passed to the kernel";
  return success();
}

//===----------------------------------------------------------------------===//
// Asynchronous operations
//===----------------------------------------------------------------------===//

namespace {
/// The exec.carried on `buffer`'s storage that comes before `op` in its
/// block, if any.
CarriedOp carriedBefore(Operation *op, Value buffer) {
  for (Operation *other = op->getPrevNode(); other;
       other = other->getPrevNode())
    if (auto carried = dyn_cast<CarriedOp>(other))
      if (storageOf(carried.getBuffer()) == storageOf(buffer))
        return carried;
  return {};
}
} // namespace

/// A start marked joins_next may be averaged together with the next start
/// of its block: that one's buffer must be the bytes that follow its own in
/// the same allocation (but for alignment), or the merged collective would
/// average bytes that belong to neither.
static LogicalResult verifyJoinsNext(AllReduceStartOp start) {
  if (!start.getToken().use_empty())
    return start.emitOpError("joins_next needs a start carried into the next "
                             "step (a token nothing waits for)");
  AllReduceStartOp next;
  for (Operation *op = start->getNextNode(); op && !next;
       op = op->getNextNode())
    next = dyn_cast<AllReduceStartOp>(op);
  Value buffer = start.getBuffer();
  if (!next || !next.getToken().use_empty() ||
      storageOf(next.getBuffer()) != storageOf(buffer))
    return start.emitOpError("joins_next, but the next exec.allreduce_start "
                             "is not carried on the same allocation");
  int64_t end = byteOffsetInStorage(buffer) +
                cast<BufferType>(buffer.getType()).getSizeInBytes();
  int64_t nextOffset = byteOffsetInStorage(next.getBuffer());
  // Less than the widest alignment a buffer gets (64 bytes) in between.
  if (nextOffset < end || nextOffset >= end + 64)
    return start.emitOpError("joins_next, but the next exec.allreduce_start's "
                             "buffer does not follow this one's bytes");
  return success();
}

LogicalResult AllReduceStartOp::verify() {
  if (getJoinsNext() && failed(verifyJoinsNext(*this)))
    return failure();
  Value token = getToken();
  if (token.use_empty()) {
    // Carried into the next step: its exec.carried finishes it there, and
    // nothing else in this step may touch the buffer.
    if (!carriedBefore(*this, getBuffer()))
      return emitOpError("token is never waited for, and no exec.carried "
                         "earlier in the block finishes it in the next step");
    for (Operation *op = (*this)->getNextNode(); op; op = op->getNextNode())
      if (llvm::is_contained(op->getOperands(), getBuffer()))
        return op->emitOpError("uses a buffer that a collective carried "
                               "into the next step still works on");
    return success();
  }
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

LogicalResult CarriedOp::verify() {
  for (Operation &op : getBody().front())
    if (!isa<KernelOp>(op))
      return op.emitOpError("in exec.carried: its body holds kernels only");
  return success();
}
