//===- Rematerialize.cpp - recompute values to fit a budget ---------------===//
//
// Greedy, one value at a time: find the position of the peak of live
// bytes, pick among the values live across it the one recomputed at the
// lowest cost per byte freed, copy its producer (and those of its inputs
// that are gone by then, a short segment as Chen et al.'s checkpoints
// recompute) to just before its first use after the peak, and measure
// again. Cheap kernels (activations, batch norm, pooling) go first;
// convolutions are recomputed too when nothing cheaper frees the bytes.
// Exact solvers (Checkmate, MONeT) would find cheaper sets on small
// graphs; this is the baseline they are measured against.
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringSwitch.h"

#include <optional>

namespace dlc {
#define GEN_PASS_DEF_REMATERIALIZE
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
/// The geometry struct a kernel takes first, with at least `fields` fields.
exec::StructAttr geometryOf(exec::KernelOp kernel, size_t fields) {
  SmallVector<Attribute> args = kernel.getCallArguments();
  auto geometry = args.empty() ? exec::StructAttr()
                               : dyn_cast<exec::StructAttr>(args.front());
  if (!geometry || geometry.getFields().size() < fields)
    return nullptr;
  return geometry;
}

/// Operations per output element of a kernel that may be rerun.
std::optional<int64_t> costPerElement(exec::KernelOp kernel) {
  if (kernel.getCallee() == "conv2d") {
    // Conv2DGeometry: 2 x input channels per group x kernel height x width.
    exec::StructAttr geometry = geometryOf(kernel, 18);
    if (!geometry)
      return std::nullopt;
    ArrayRef<int64_t> f = geometry.getFields();
    return 2 * f[1] / f[17] * f[5] * f[6];
  }
  std::optional<int64_t> cost =
      llvm::StringSwitch<std::optional<int64_t>>(kernel.getCallee())
          .Case("activation", 1)
          .Case("binary", 1)
          .Case("scale", 1)
          .Case("clip", 1)
          .Case("dropoutMask", 1)
          .Case("batchNormTraining", 5)
          .Case("maxPool2d", 0) // the window, below
          .Case("avgPool2d", 0)
          .Default(std::nullopt);
  if (cost && *cost == 0) {
    // Pool2DGeometry: fields 6 and 7 are the window's height and width.
    exec::StructAttr geometry = geometryOf(kernel, 8);
    if (!geometry)
      return std::nullopt;
    cost = geometry.getFields()[6] * geometry.getFields()[7];
  }
  return cost;
}

/// One function's block, numbered, with its live ranges.
struct Step {
  explicit Step(Block &block) : block(block), liveness(block) {
    for (auto [i, op] : llvm::enumerate(block)) {
      positions[&op] = i;
      ops.push_back(&op);
    }
    for (const BufferLiveness::Interval &interval : liveness.getIntervals())
      intervals[interval.root] = &interval;
  }

  /// The position where the most bytes are live, and how many.
  BufferLiveness::Peak peak() const {
    return liveness.getPeak(kArenaAlignment);
  }

  /// Whether anything between positions `from` and `to` (exclusive)
  /// writes `buffer`'s storage.
  bool writtenBetween(Value buffer, int64_t from, int64_t to) const {
    const void *storage = storageKey(buffer);
    for (int64_t i = from + 1; i < to; ++i) {
      SmallVector<Value> reads, writes;
      bufferAccesses(ops[i], reads, writes);
      if (llvm::any_of(writes,
                       [&](Value w) { return storageKey(w) == storage; }))
        return true;
    }
    return false;
  }

  Block &block;
  BufferLiveness liveness;
  SmallVector<Operation *> ops;
  DenseMap<Operation *, int64_t> positions;
  DenseMap<Value, const BufferLiveness::Interval *> intervals;
};

/// A value to recompute: `buffer`, used again first by `firstLateUse`
/// (after the peak at `peak`), and the kernels that recompute it, in order
/// (its producer last; before it, producers of inputs that are no longer
/// live there, as a ReLU's input batch norm).
struct Candidate {
  Value buffer;
  Operation *firstLateUse;
  int64_t peak;
  SmallVector<exec::KernelOp> chain;
  int64_t bytes = 0, flops = 0;
};

/// The kernels that write `buffer`, in order, if rerunning them before
/// `before` recomputes it: a fresh allocation, written first by a kernel
/// that writes only fresh allocations, then only in place (a ReLU over its
/// convolution's output), every one of them a kernel that may be rerun.
SmallVector<exec::KernelOp> recomputableWriters(const Step &step, Value buffer,
                                                int64_t before) {
  if (!buffer.getDefiningOp<exec::AllocOp>())
    return {};
  SmallVector<exec::KernelOp> writers;
  for (Operation *user : buffer.getUsers()) {
    auto kernel = dyn_cast<exec::KernelOp>(user);
    if (!kernel)
      return {}; // views would need copying too
    // An in-place writer uses the buffer twice, as input and output.
    if (!llvm::is_contained(kernel.getOutputs(), buffer) ||
        llvm::is_contained(writers, kernel))
      continue;
    if (step.positions.lookup(user) >= before || !costPerElement(kernel))
      return {};
    writers.push_back(kernel);
  }
  if (writers.empty())
    return {};
  llvm::sort(writers, [&](exec::KernelOp a, exec::KernelOp b) {
    return step.positions.lookup(a) < step.positions.lookup(b);
  });
  exec::KernelOp first = writers.front();
  if (first.getInPlace())
    return {};
  for (Value written :
       llvm::concat<Value>(first.getOutputs(), first.getScratch()))
    if (!written.getDefiningOp<exec::AllocOp>())
      return {};
  for (exec::KernelOp later : llvm::drop_begin(writers))
    if (later.getOutputs().size() != 1 || !later.getInPlace() ||
        !later.getScratch().empty())
      return {};
  return writers;
}

/// Adds to `candidate` the kernels that recompute `buffer` at position
/// `late`: its writers, after those of their inputs that are not live
/// there (at most `depth` deep). Every other input must hold the same
/// bytes there: live already (recomputing must keep nothing longer) and
/// not written in between.
bool addRecomputation(const Step &step, Value buffer, int64_t late, int depth,
                      Candidate &candidate) {
  SmallVector<exec::KernelOp> writers =
      recomputableWriters(step, buffer, late);
  if (writers.empty())
    return false;
  if (llvm::is_contained(candidate.chain, writers.front()))
    return true;
  int64_t made = step.positions.lookup(writers.front());
  for (exec::KernelOp writer : writers) {
    for (Value input : writer.getInputs()) {
      Value storage = exec::storageOf(input);
      if (storage == buffer)
        continue; // the in-place writers' own operand
      if (!storage.getDefiningOp<exec::GlobalRefOp>()) {
        const BufferLiveness::Interval *range = step.intervals.lookup(storage);
        if (!range)
          return false;
        if (range->last < late) {
          if (depth == 0 || storage != input ||
              !addRecomputation(step, input, late, depth - 1, candidate))
            return false;
          continue;
        }
      }
      if (step.writtenBetween(input, made, late))
        return false;
    }
  }
  int64_t elements = cast<exec::BufferType>(buffer.getType()).getNumElements();
  for (exec::KernelOp writer : writers) {
    candidate.chain.push_back(writer);
    candidate.flops += *costPerElement(writer) * elements;
  }
  return true;
}

std::optional<Candidate> candidateFor(const Step &step,
                                      const BufferLiveness::Interval &interval,
                                      int64_t peak) {
  Value buffer = interval.root;
  if (!buffer.getDefiningOp<exec::AllocOp>() || interval.first >= peak ||
      interval.last <= peak)
    return std::nullopt;
  Candidate candidate{buffer, nullptr, peak, {}, alignedBytes(buffer), 0};
  int64_t late = INT64_MAX;
  for (Operation *user : buffer.getUsers()) {
    int64_t at = step.positions.lookup(user);
    if (at == peak)
      return std::nullopt;
    if (at > peak && at < late) {
      late = at;
      candidate.firstLateUse = user;
    }
  }
  // A convolution recomputed from a pooling of a kept value: two deep.
  if (!candidate.firstLateUse ||
      !addRecomputation(step, buffer, late, /*depth=*/2, candidate))
    return std::nullopt;
  return candidate;
}

/// Copies the chain to just before the first late use, with fresh
/// outputs and scratch, and points the uses after the peak at the copy;
/// returns the operations it created, in order.
SmallVector<Operation *> recompute(const Step &step, Candidate candidate) {
  OpBuilder builder(candidate.firstLateUse);
  IRMapping mapping;
  SmallVector<Operation *> created;
  for (exec::KernelOp kernel : candidate.chain) {
    for (Value output : llvm::concat<Value>(kernel.getOutputs(),
                                            kernel.getScratch())) {
      if (mapping.contains(output))
        continue; // written in place: the copy's own buffer
      auto alloc = exec::AllocOp::create(
          builder, output.getLoc(), cast<exec::BufferType>(output.getType()),
          output.getDefiningOp<exec::AllocOp>().getAlignment(),
          /*offset=*/nullptr);
      mapping.map(output, alloc.getResult());
      created.push_back(alloc);
    }
    created.push_back(builder.clone(*kernel, mapping));
  }
  Value copy = mapping.lookup(candidate.buffer);
  candidate.buffer.replaceUsesWithIf(copy, [&](OpOperand &use) {
    return step.positions.lookup(use.getOwner()) > candidate.peak;
  });
  return created;
}

/// Undoes recompute(): the late uses read `buffer` again.
void undo(Value buffer, ArrayRef<Operation *> created) {
  for (Operation *op : created)
    for (Value result : op->getResults())
      result.replaceUsesWithIf(buffer, [&](OpOperand &use) {
        return !llvm::is_contained(created, use.getOwner());
      });
  for (Operation *op : llvm::reverse(created))
    op->erase();
}

struct Rematerialize : dlc::impl::RematerializeBase<Rematerialize> {
  using RematerializeBase::RematerializeBase;

  void runOnOperation() override {
    if (budget <= 0)
      return;
    ModuleOp module = getOperation();
    int64_t globals = globalBytes(module);
    int64_t flops = 0;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal())
        fit(func.front(), budget - globals, flops);
    // Whether the budget is met is the placement's to say (dlc-plan-memory
    // with the same budget): in-place reuse comes in between.
    Builder builder(module.getContext());
    module->setAttr(kRecomputedFlopsAttr, builder.getI64IntegerAttr(flops));
  }

  /// Recomputes values of `block` until its placement needs at most
  /// `stepBudget` bytes or no recomputation lowers it further; returns the
  /// bytes the placement needs.
  static int64_t fit(Block &block, int64_t stepBudget, int64_t &flops) {
    // The peak of live bytes is what recomputation lowers, but the arena
    // placement may need more (gaps between buffers): while it does, aim
    // the peak lower by what the placement overshoots.
    SmallVector<Operation *> recomputing;
    int64_t target = stepBudget;
    int64_t peakBytes = lowerPeak(block, target, flops, recomputing);
    for (;;) {
      int64_t placed =
          placeBest(placementRequests(BufferLiveness(block).getIntervals()))
              .size;
      target = std::min(target, peakBytes) - (placed - stepBudget);
      if (placed <= stepBudget || target <= 0)
        return placed;
      int64_t lower = lowerPeak(block, target, flops, recomputing);
      if (lower >= peakBytes)
        return placed;
      peakBytes = lower;
    }
  }

  /// Recomputes values of `block` until its peak of live bytes is at most
  /// `target` or no recomputation lowers it further; returns the peak
  /// reached. `recomputing` collects the kernels that recompute.
  static int64_t lowerPeak(Block &block, int64_t target, int64_t &flops,
                           SmallVector<Operation *> &recomputing) {
    // Each round keeps one recomputation that lowers the peak; one that
    // does not (its copy raises another point above it) is undone and
    // not tried again until the peak has moved. When no recomputation
    // helps, the recomputing kernels sink as late as they can, and the
    // rounds go on from the lower peak that may give.
    llvm::DenseSet<Value> rejected;
    int64_t peakBytes = Step(block).peak().bytes;
    while (peakBytes > target) {
      Step step(block);
      int64_t where = step.peak().position;
      std::optional<Candidate> best;
      for (const BufferLiveness::Interval &interval :
           step.liveness.getIntervals()) {
        if (rejected.contains(interval.root))
          continue;
        std::optional<Candidate> candidate = candidateFor(step, interval, where);
        // The fewest operations per byte freed (in double: a convolution's
        // operations times a layer's bytes overflow 64 bits).
        auto perByte = [](const Candidate &c) {
          return static_cast<double>(c.flops) / static_cast<double>(c.bytes);
        };
        if (candidate && (!best || perByte(*candidate) < perByte(*best)))
          best = candidate;
      }
      if (!best) {
        int64_t sunk = sink(block, recomputing, peakBytes);
        if (sunk >= peakBytes)
          break;
        peakBytes = sunk;
        rejected.clear();
        continue;
      }
      SmallVector<Operation *> created = recompute(step, *best);
      int64_t after = Step(block).peak().bytes;
      if (after >= peakBytes) {
        undo(best->buffer, created);
        rejected.insert(best->buffer);
        continue;
      }
      peakBytes = after;
      flops += best->flops;
      for (Operation *op : created)
        if (isa<exec::KernelOp>(op))
          recomputing.push_back(op);
      // The peak moved: what did not help before may help now.
      rejected.clear();
    }
    return peakBytes;
  }

  /// Moves each of the `recomputing` kernels, last first, to just before
  /// the first later operation that uses what it writes, where nothing in
  /// between writes its inputs and the peak (`peakBytes`) does not rise;
  /// returns the peak reached.
  static int64_t sink(Block &block, ArrayRef<Operation *> recomputing,
                      int64_t peakBytes) {
    for (Operation *op : llvm::reverse(recomputing)) {
      Step step(block);
      auto kernel = cast<exec::KernelOp>(op);
      int64_t at = step.positions.lookup(op);
      Operation *target = nullptr;
      for (Value output :
           llvm::concat<Value>(kernel.getOutputs(), kernel.getScratch()))
        for (Operation *user : output.getUsers())
          if (user != op && step.positions.lookup(user) > at &&
              (!target ||
               step.positions.lookup(user) < step.positions.lookup(target)))
            target = user;
      if (!target || step.positions.lookup(target) == at + 1)
        continue;
      int64_t to = step.positions.lookup(target);
      if (llvm::any_of(kernel.getInputs(), [&](Value input) {
            return step.writtenBetween(input, at, to);
          }))
        continue;
      Operation *next = op->getNextNode();
      op->moveBefore(target);
      int64_t after = Step(block).peak().bytes;
      if (after > peakBytes)
        op->moveBefore(next);
      else
        peakBytes = after;
    }
    return peakBytes;
  }
};
} // namespace
