//===- ReuseInPlace.cpp - kernel outputs over inputs that die -------------===//
//
// One walk over each block in its order: a kernel's fresh output buffer is
// replaced by a same-typed `reusable` input whose storage is an allocation
// last touched by that kernel. The storage then lives on to
// the output's last use, which later kernels see when they ask whether it
// dies at them (a chain of activations and their gradients reuses one
// buffer).
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_REUSEINPLACE
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

/// Moves `value`'s definition (an allocation or a view) up to its first
/// user in the block: an output may be named earlier than the input that
/// takes it over (by an exec.carried at the start of a pipelined step).
void defineBeforeUsers(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def)
    return;
  Operation *first = def;
  for (Operation *user : value.getUsers())
    if (Operation *ancestor = def->getBlock()->findAncestorOpInBlock(*user))
      if (ancestor->isBeforeInBlock(first))
        first = ancestor;
  exec::defineBefore(value, first);
}

/// Gives `kernel`'s outputs the bytes of reusable inputs that die there;
/// `last` maps each storage to the last position that touches it,
/// `position` is the kernel's.
void reuseInputs(exec::KernelOp kernel, ArrayRef<int64_t> reusable,
                 int64_t position, DenseMap<Value, int64_t> &last) {
  OperandRange inputs = kernel.getInputs();
  SmallVector<int64_t> inPlace(kernel.getOutputs().size(), -1);
  if (std::optional<ArrayRef<int64_t>> given = kernel.getInPlace())
    inPlace.assign(given->begin(), given->end());
  bool changed = false;
  for (unsigned i = 0; i < kernel.getOutputs().size(); ++i) {
    Value output = kernel.getOutputs()[i];
    auto alloc = output.getDefiningOp<exec::AllocOp>();
    if (inPlace[i] >= 0 || !alloc)
      continue;
    for (int64_t j : reusable) {
      Value input = inputs[j];
      Value storage = exec::storageOf(input);
      if (input.getType() != output.getType() ||
          !storage.getDefiningOp<exec::AllocOp>() ||
          last.lookup(storage) != position ||
          llvm::is_contained(inPlace, j) ||
          llvm::is_contained(kernel.getOutputs(), input))
        continue;
      last[storage] = std::max(last[storage], last.lookup(output));
      output.replaceAllUsesWith(input);
      alloc.erase();
      defineBeforeUsers(input);
      inPlace[i] = j;
      changed = true;
      break;
    }
  }
  if (changed)
    kernel.setInPlaceAttr(
        DenseI64ArrayAttr::get(kernel.getContext(), inPlace));
}

struct ReuseInPlace : dlc::impl::ReuseInPlaceBase<ReuseInPlace> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      Block &block = func.front();
      BufferLiveness liveness(block);
      DenseMap<Value, int64_t> last;
      for (const BufferLiveness::Interval &interval : liveness.getIntervals())
        last[interval.root] = interval.last;
      SmallVector<std::pair<exec::KernelOp, int64_t>> kernels;
      for (auto [position, op] : llvm::enumerate(block))
        if (auto kernel = dyn_cast<exec::KernelOp>(op))
          if (kernel.getReusable())
            kernels.emplace_back(kernel, position);
      for (auto [kernel, position] : kernels)
        reuseInputs(kernel, *kernel.getReusable(), position, last);
    }
  }
};

} // namespace
