//===- BufferLiveness.cpp - when each buffer of a step holds data ---------===//

#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Dialect/Exec/ExecOps.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <map>

using namespace mlir;
using namespace dlc;
using namespace dlc::exec;

int64_t dlc::alignedBytes(Value buffer) {
  return llvm::alignTo(cast<BufferType>(buffer.getType()).getSizeInBytes(),
                       kArenaAlignment);
}

int64_t dlc::globalBytes(ModuleOp module) {
  int64_t bytes = 0;
  for (auto global : module.getOps<GlobalOp>())
    bytes += llvm::alignTo(global.getBufferType().getSizeInBytes(),
                           kArenaAlignment);
  return bytes;
}

SmallVector<PlacementRequest>
dlc::placementRequests(ArrayRef<BufferLiveness::Interval> intervals) {
  SmallVector<PlacementRequest> requests;
  for (const BufferLiveness::Interval &interval : intervals) {
    int64_t alignment = kArenaAlignment;
    if (auto alloc = interval.root.getDefiningOp<AllocOp>())
      alignment = std::max<int64_t>(alignment, alloc.getAlignment());
    requests.push_back({static_cast<int64_t>(llvm::alignTo(interval.sizeInBytes,
                                                           kArenaAlignment)),
                        alignment, interval.first, interval.last,
                        interval.carriedUntil});
  }
  return requests;
}

BufferLiveness::BufferLiveness(Block &block) {
  DenseMap<Value, size_t> intervalOf;
  // An allocation holds nothing until its first use: its range starts
  // there, wherever the `exec.alloc` stands.
  DenseSet<Value> untouched;
  auto start = [&](Value root, int64_t position) {
    intervalOf[root] = intervals.size();
    int64_t bytes = cast<BufferType>(root.getType()).getSizeInBytes();
    intervals.push_back({root, bytes, position, position});
  };
  auto touch = [&](Value buffer, int64_t position) {
    auto it = intervalOf.find(storageOf(buffer));
    if (it == intervalOf.end())
      return;
    Interval &interval = intervals[it->second];
    if (untouched.erase(interval.root))
      interval.first = position;
    interval.last = std::max(interval.last, position);
  };

  // Buffers carried in from the step before: their uses up to their (last)
  // exec.carried belong to the part of their range that wraps around. An
  // allocation that holds several carried gradients has an exec.carried
  // for each; those before the last use it as carried too.
  DenseMap<Value, int64_t> carriedAt;
  DenseSet<Value> usedBeforeCarried;
  for (auto [position, op] : llvm::enumerate(block))
    if (auto carried = dyn_cast<CarriedOp>(op))
      carriedAt[storageOf(carried.getBuffer())] = position;
  auto touchCarriedPart = [&](Value buffer, int64_t position,
                              Value carriedStorage) {
    auto it = carriedAt.find(storageOf(buffer));
    if (it == carriedAt.end() || position > it->second)
      return false;
    if (position < it->second && it->first != carriedStorage)
      usedBeforeCarried.insert(it->first);
    return true;
  };

  for (BlockArgument arg : block.getArguments())
    if (isa<BufferType>(arg.getType()))
      start(arg, -1);
  for (auto [position, op] : llvm::enumerate(block)) {
    int64_t here = position;
    if (auto carried = dyn_cast<CarriedOp>(op)) {
      // The updates inside read what they name at this position.
      Value storage = storageOf(carried.getBuffer());
      carried.getBody().walk([&](Operation *inner) {
        for (Value operand : inner->getOperands())
          if (isa<BufferType>(operand.getType()) &&
              !touchCarriedPart(operand, here, storage))
            touch(operand, here);
      });
      continue;
    }
    // A view uses its source's bytes: its users touch the source's range.
    if (isa<ViewOp>(op))
      continue;
    if (auto alloc = dyn_cast<AllocOp>(op)) {
      start(alloc.getResult(), here);
      untouched.insert(alloc.getResult());
      continue;
    }
    // A collective works on its buffer until the wait for its token.
    if (auto wait = dyn_cast<WaitOp>(op)) {
      if (auto collective =
              wait.getToken().getDefiningOp<AllReduceStartOp>())
        touch(collective.getBuffer(), here);
      continue;
    }
    for (Value operand : op.getOperands())
      if (isa<BufferType>(operand.getType()) &&
          !touchCarriedPart(operand, here, Value()))
        touch(operand, here);
  }
  // A carried buffer holds its average in flight to the end of the step
  // and from the next step's start to its exec.carried; one that this
  // step also uses before then holds data the whole step.
  int64_t end = static_cast<int64_t>(block.getOperations().size()) - 1;
  for (Interval &interval : intervals) {
    auto it = carriedAt.find(interval.root);
    if (it == carriedAt.end())
      continue;
    interval.last = end;
    if (usedBeforeCarried.contains(interval.root))
      interval.first = -1;
    else
      interval.carriedUntil = it->second;
  }
  llvm::stable_sort(intervals, [](const Interval &a, const Interval &b) {
    return a.first < b.first;
  });
}

SmallVector<int64_t> BufferLiveness::getLiveBytes(int64_t positions,
                                                 int64_t alignment) const {
  // +size where an interval starts, -size after it ends, then the sums.
  SmallVector<int64_t> live(positions + 1, 0);
  for (const Interval &interval : intervals) {
    int64_t bytes = llvm::alignTo(interval.sizeInBytes, alignment);
    live[std::clamp<int64_t>(interval.first, 0, positions)] += bytes;
    live[std::clamp<int64_t>(interval.last + 1, 0, positions)] -= bytes;
    if (interval.carried()) {
      live[0] += bytes;
      live[std::clamp<int64_t>(interval.carriedUntil + 1, 0, positions)] -=
          bytes;
    }
  }
  for (int64_t p = 1; p < positions; ++p)
    live[p] += live[p - 1];
  live.pop_back();
  return live;
}

BufferLiveness::Peak BufferLiveness::getPeak(int64_t alignment) const {
  // Sweep the positions: +size where an interval starts, -size after it
  // ends.
  std::map<int64_t, int64_t> delta;
  for (const Interval &interval : intervals) {
    int64_t bytes = llvm::alignTo(interval.sizeInBytes, alignment);
    delta[interval.first] += bytes;
    delta[interval.last + 1] -= bytes;
    if (interval.carried()) {
      delta[-1] += bytes;
      delta[interval.carriedUntil + 1] -= bytes;
    }
  }
  int64_t live = 0;
  Peak peak{0, 0};
  for (auto [position, change] : delta)
    if ((live += change) > peak.bytes)
      peak = {position, live};
  return peak;
}
