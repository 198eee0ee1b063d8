//===- ScheduleMemory.cpp - the order of a step for the lowest peak -------===//
//
// Candidate orders of each function's running operations (ExecDependences
// says which are legal), each measured by the peak of live bytes that
// BufferLiveness finds for it; the lowest wins. The list scheduler is
// greedy, as XLA's: among the operations whose predecessors have run, the
// one that frees the most bytes net of what it allocates, the earliest in
// the given order on a tie.
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"

#include <numeric>

namespace dlc {
#define GEN_PASS_DEF_SCHEDULEMEMORY
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
/// The greedy list schedule by bytes freed.
SmallVector<unsigned> listSchedule(Block &block,
                                   const ExecDependences &dependences) {
  ArrayRef<Operation *> ops = dependences.getOperations();
  unsigned count = ops.size();
  // How many running operations still touch each transient storage; the
  // terminator's operands never die, the arguments are there from the
  // start.
  DenseMap<Value, unsigned> remaining;
  DenseSet<Value> allocated;
  for (unsigned i = 0; i < count; ++i)
    for (Value storage : dependences.getTransients(i))
      ++remaining[storage];
  for (Value operand : block.getTerminator()->getOperands())
    ++remaining[exec::storageOf(operand)];
  for (BlockArgument arg : block.getArguments())
    allocated.insert(arg);

  SmallVector<unsigned> waitingOn(count), order;
  SmallVector<SmallVector<unsigned>> successors(count);
  for (unsigned i = 0; i < count; ++i)
    for (unsigned p : dependences.getPredecessors(i)) {
      ++waitingOn[i];
      successors[p].push_back(i);
    }
  SmallVector<unsigned> ready;
  for (unsigned i = 0; i < count; ++i)
    if (!waitingOn[i])
      ready.push_back(i);

  auto netFreed = [&](unsigned i) {
    int64_t net = 0;
    for (Value storage : dependences.getTransients(i)) {
      if (!allocated.contains(storage))
        net -= alignedBytes(storage);
      if (remaining.lookup(storage) == 1)
        net += alignedBytes(storage);
    }
    return net;
  };
  while (!ready.empty()) {
    auto best = ready.begin();
    int64_t bestNet = netFreed(*best);
    for (auto it = std::next(ready.begin()); it != ready.end(); ++it) {
      int64_t net = netFreed(*it);
      if (net > bestNet || (net == bestNet && *it < *best)) {
        best = it;
        bestNet = net;
      }
    }
    unsigned chosen = *best;
    ready.erase(best);
    order.push_back(chosen);
    for (Value storage : dependences.getTransients(chosen)) {
      allocated.insert(storage);
      --remaining[storage];
    }
    for (unsigned next : successors[chosen])
      if (--waitingOn[next] == 0)
        ready.push_back(next);
  }
  assert(order.size() == count && "the dependences are acyclic");
  return order;
}

/// A depth-first schedule (as XLA's DFS scheduler): from each operation
/// nothing depends on, in the given order, everything it needs first, the
/// predecessors that touch the most bytes first, then the operation. Each
/// parameter update then follows its gradient's computation closely.
SmallVector<unsigned> depthFirstSchedule(const ExecDependences &dependences) {
  unsigned count = dependences.getOperations().size();
  SmallVector<int64_t> bytes(count, 0);
  SmallVector<bool> hasSuccessor(count, false);
  for (unsigned i = 0; i < count; ++i) {
    for (Value storage : dependences.getTransients(i))
      bytes[i] += alignedBytes(storage);
    for (unsigned p : dependences.getPredecessors(i))
      hasSuccessor[p] = true;
  }
  SmallVector<unsigned> order;
  SmallVector<bool> visited(count, false);
  // An explicit stack: (operation, whether its predecessors are pushed).
  SmallVector<std::pair<unsigned, bool>> stack;
  for (unsigned sink = 0; sink < count; ++sink) {
    if (hasSuccessor[sink])
      continue;
    stack.push_back({sink, false});
    while (!stack.empty()) {
      auto [i, expanded] = stack.pop_back_val();
      if (expanded) {
        order.push_back(i);
        continue;
      }
      if (visited[i])
        continue;
      visited[i] = true;
      stack.push_back({i, true});
      SmallVector<unsigned> predecessors(dependences.getPredecessors(i));
      // Pushed in reverse of the visiting order: the heaviest first, the
      // earliest in the given order on a tie.
      llvm::stable_sort(predecessors, [&](unsigned a, unsigned b) {
        return bytes[a] != bytes[b] ? bytes[a] < bytes[b] : a > b;
      });
      for (unsigned p : predecessors)
        if (!visited[p])
          stack.push_back({p, false});
    }
  }
  assert(order.size() == count && "every operation reaches a sink");
  return order;
}

struct ScheduleMemory : dlc::impl::ScheduleMemoryBase<ScheduleMemory> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal())
        schedule(func);
  }

  void schedule(func::FuncOp func) {
    Block &block = func.front();
    ExecDependences dependences(block);
    SmallVector<unsigned> given(dependences.getOperations().size());
    std::iota(given.begin(), given.end(), 0);
    struct Candidate {
      StringRef name;
      SmallVector<unsigned> order;
      int64_t peak = 0;
    };
    SmallVector<Candidate> candidates = {
        {"given", given},
        {"bytes freed", listSchedule(block, dependences)},
        {"depth first", depthFirstSchedule(dependences)},
    };
    for (Candidate &candidate : candidates) {
      dependences.reorder(block, candidate.order);
      candidate.peak = BufferLiveness(block).getPeakBytes(kArenaAlignment);
    }
    // The lowest peak; the given order on a tie.
    Candidate *best = &candidates.front();
    for (Candidate &candidate : candidates)
      if (candidate.peak < best->peak)
        best = &candidate;
    dependences.reorder(block, best->order);

    Builder builder(func.getContext());
    SmallVector<NamedAttribute> peaks;
    for (const Candidate &candidate : candidates)
      peaks.push_back(builder.getNamedAttr(
          candidate.name, builder.getI64IntegerAttr(candidate.peak)));
    func->setAttr("dlc.schedule",
                  builder.getDictionaryAttr(
                      {builder.getNamedAttr("chosen",
                                            builder.getStringAttr(best->name)),
                       builder.getNamedAttr("peak_bytes",
                                            builder.getDictionaryAttr(peaks))}));
  }
};
} // namespace
