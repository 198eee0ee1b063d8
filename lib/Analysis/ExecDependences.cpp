//===- ExecDependences.cpp - what must run before what in a step ----------===//

#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

#include <functional>

using namespace mlir;
using namespace dlc;
using namespace dlc::exec;

const void *dlc::storageKey(Value buffer) {
  Value root = storageOf(buffer);
  if (auto ref = root.getDefiningOp<GlobalRefOp>())
    return ref.getGlobalAttr().getAttr().getAsOpaquePointer();
  return root.getAsOpaquePointer();
}

llvm::DenseSet<Value> dlc::storageComputedFrom(Block &body, Value source) {
  llvm::DenseSet<Value> tainted;
  Value root = exec::storageOf(source);
  for (auto kernel : body.getOps<exec::KernelOp>()) {
    if (llvm::any_of(kernel.getInputs(), [&](Value input) {
          Value storage = exec::storageOf(input);
          return storage == root || tainted.contains(storage);
        }))
      for (Value output : kernel.getOutputs())
        tainted.insert(exec::storageOf(output));
  }
  return tainted;
}

void dlc::bufferAccesses(Operation *op, SmallVectorImpl<Value> &reads,
                         SmallVectorImpl<Value> &writes) {
  if (auto kernel = dyn_cast<KernelOp>(op)) {
    llvm::append_range(reads, kernel.getInputs());
    llvm::append_range(writes, kernel.getOutputs());
    llvm::append_range(writes, kernel.getScratch());
  } else if (auto start = dyn_cast<AllReduceStartOp>(op)) {
    reads.push_back(start.getBuffer());
    writes.push_back(start.getBuffer());
  } else if (auto wait = dyn_cast<WaitOp>(op)) {
    if (auto start = wait.getToken().getDefiningOp<AllReduceStartOp>())
      writes.push_back(start.getBuffer());
  } else if (auto carried = dyn_cast<CarriedOp>(op)) {
    writes.push_back(carried.getBuffer());
    for (Operation &inner : carried.getBody().front())
      bufferAccesses(&inner, reads, writes);
  }
}

namespace {
bool isTransient(Value buffer) {
  return !storageOf(buffer).getDefiningOp<GlobalRefOp>();
}
} // namespace

bool ExecDependences::namesOnly(Operation *op) {
  return isa<AllocOp, ViewOp, GlobalRefOp, StreamOp>(op);
}

ExecDependences::ExecDependences(Block &block) {
  DenseMap<Operation *, unsigned> indexOf;
  for (Operation &op : block)
    if (!namesOnly(&op) && !op.hasTrait<OpTrait::IsTerminator>()) {
      indexOf[&op] = ops.size();
      ops.push_back(&op);
    }
  predecessors.resize(ops.size());
  transients.resize(ops.size());

  DenseMap<const void *, unsigned> lastWriter;
  DenseMap<const void *, SmallVector<unsigned>> readersSince;
  for (auto [i, op] : llvm::enumerate(ops)) {
    llvm::SetVector<unsigned> before;
    // Tokens and other results of running operations.
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        if (auto it = indexOf.find(def); it != indexOf.end())
          before.insert(it->second);
    SmallVector<Value> reads, writes;
    bufferAccesses(op, reads, writes);
    llvm::SetVector<Value> touched;
    for (Value buffer : reads) {
      const void *key = storageKey(buffer);
      if (auto it = lastWriter.find(key); it != lastWriter.end())
        before.insert(it->second);
      readersSince[key].push_back(i);
      touched.insert(storageOf(buffer));
    }
    for (Value buffer : writes) {
      const void *key = storageKey(buffer);
      if (auto it = lastWriter.find(key); it != lastWriter.end())
        before.insert(it->second);
      for (unsigned reader : readersSince[key])
        if (reader != i)
          before.insert(reader);
      readersSince[key].clear();
      lastWriter[key] = i;
      touched.insert(storageOf(buffer));
    }
    predecessors[i].assign(before.begin(), before.end());
    for (Value storage : touched)
      if (isTransient(storage))
        transients[i].push_back(storage);
  }
}

void ExecDependences::reorder(Block &block,
                              ArrayRef<unsigned> order) const {
  Operation *terminator = block.getTerminator();
  llvm::DenseSet<Operation *> placed;
  // A naming operation goes before its first user, after what it names.
  std::function<void(Operation *)> place = [&](Operation *op) {
    if (!placed.insert(op).second)
      return;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        if (def->getBlock() == &block && namesOnly(def))
          place(def);
    op->moveBefore(terminator);
  };
  for (unsigned i : order)
    place(ops[i]);
  // What only the terminator uses, or nothing, goes last.
  SmallVector<Operation *> rest;
  for (Operation &op : block)
    if (&op != terminator && !placed.contains(&op))
      rest.push_back(&op);
  for (Operation *op : rest)
    place(op);
}
