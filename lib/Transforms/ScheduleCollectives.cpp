//===- ScheduleCollectives.cpp - where each gradient's allreduce goes -----===//
//
// The memory schedule places each allreduce_start and its wait wherever
// they free bytes soonest, which is usually together: the step would block
// on every collective. Here each start moves up to just after what it
// depends on and each wait down to just before what depends on it (the
// parameter's update), so that the backward pass goes on while gradients
// are averaged (or, with overlap=none, each wait up to its start, to
// compare). Then each wait and the updates after it go on down the step
// as far as the gradient's longer life keeps every position within the
// memory schedule's peak of live bytes: more overlap at no cost in peak
// (overlap=backward-late: to the end of the step, every gradient kept
// until then, as DistributedDataParallel does). With overlap=next-forward
// each wait and its updates leave the step for the next one: an
// exec.carried just before the first operation there that reads the
// parameters they write, so that averages overlap the rest of the
// backward pass and the next forward pass; gradients whose averages start
// one after another share one collective first, where the latency that
// saves is worth it (or, with runtime-buckets, are placed so that the
// runtime can merge them by the link it measures).
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"

#include <numeric>

namespace dlc {
#define GEN_PASS_DEF_SCHEDULECOLLECTIVES
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
/// `order` (indices of `dependences`' operations) with each operation
/// `move` picks re-keyed by `key(position of each operation)` and sorted,
/// every other one keeping its position; ties keep the given order.
template <typename Move, typename Key>
SmallVector<unsigned> rekey(ArrayRef<unsigned> order, Move move, Key key) {
  SmallVector<unsigned> position(order.size());
  for (auto [at, i] : llvm::enumerate(order))
    position[i] = at;
  SmallVector<double> keys(order.size());
  for (auto [at, i] : llvm::enumerate(order))
    keys[i] = move(i) ? key(i, position) : double(at);
  SmallVector<unsigned> result(order);
  llvm::stable_sort(result, [&](unsigned a, unsigned b) {
    return keys[a] != keys[b] ? keys[a] < keys[b] : position[a] < position[b];
  });
  return result;
}

/// For each of `dependences`' operations, those that must run after it.
SmallVector<SmallVector<unsigned>>
successorsOf(const ExecDependences &dependences) {
  SmallVector<SmallVector<unsigned>> successors(
      dependences.getOperations().size());
  for (unsigned i = 0; i < successors.size(); ++i)
    for (unsigned p : dependences.getPredecessors(i))
      successors[p].push_back(i);
  return successors;
}

/// Moves each wait, with the operations that depend on it when nothing
/// depends on those (the updates), down the block: as far as keeps the
/// peak of live bytes (`withinPeak`; the buffers whose last use they are
/// live longer), or to the end.
void deferWaits(Block &block, bool withinPeak) {
  int64_t peak = BufferLiveness(block).getPeakBytes(kArenaAlignment);
  SmallVector<exec::WaitOp> waits(block.getOps<exec::WaitOp>());
  for (exec::WaitOp wait : waits) {
    ExecDependences dependences(block);
    ArrayRef<Operation *> ops = dependences.getOperations();
    SmallVector<SmallVector<unsigned>> successors = successorsOf(dependences);
    unsigned w = llvm::find(ops, wait.getOperation()) - ops.begin();
    // The wait and what depends on it, if nothing depends on that.
    SmallVector<Operation *> group = {wait};
    bool sinks = true;
    for (unsigned s : successors[w]) {
      group.push_back(ops[s]);
      sinks &= successors[s].empty();
    }
    if (!sinks)
      continue;
    llvm::sort(group, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    DenseMap<Operation *, int64_t> position;
    for (auto [at, op] : llvm::enumerate(block))
      position[&op] = at;
    int64_t end = position[group.back()];
    // What staying later costs: the buffers whose last use is in the group.
    BufferLiveness liveness(block);
    SmallVector<int64_t> live = liveness.getLiveBytes(
        block.getOperations().size(), kArenaAlignment);
    DenseSet<int64_t> groupPositions;
    for (Operation *op : group)
      groupPositions.insert(position[op]);
    int64_t extra = 0;
    for (const BufferLiveness::Interval &interval : liveness.getIntervals())
      if (groupPositions.contains(interval.last))
        extra += llvm::alignTo(interval.sizeInBytes, kArenaAlignment);
    int64_t terminator = position[block.getTerminator()];
    int64_t to = end + 1;
    while (to < terminator && (!withinPeak || live[to] + extra <= peak))
      ++to;
    if (to == end + 1)
      continue;
    // Right after the last operation that runs before there (allocations
    // stay by their users).
    Operation *before = &*std::next(block.begin(), to);
    while (before->getPrevNode() &&
           ExecDependences::namesOnly(before->getPrevNode()))
      before = before->getPrevNode();
    for (Operation *op : group)
      op->moveBefore(before);
  }
}

/// Turns each wait whose dependents are optimizer updates of globals, with
/// nothing depending on them, into an exec.carried of the next step, just
/// before the first operation that touches a global those updates write.
void carryIntoNextStep(Block &block) {
  SmallVector<exec::WaitOp> waits(block.getOps<exec::WaitOp>());
  for (exec::WaitOp wait : waits) {
    auto start = wait.getToken().getDefiningOp<exec::AllReduceStartOp>();
    if (!start)
      continue;
    ExecDependences dependences(block);
    ArrayRef<Operation *> ops = dependences.getOperations();
    SmallVector<SmallVector<unsigned>> successors = successorsOf(dependences);
    unsigned w = llvm::find(ops, wait.getOperation()) - ops.begin();
    // The updates: kernels on nothing but the gradient and globals, which
    // nothing later in the step depends on.
    SmallVector<Operation *> updates;
    DenseSet<const void *> written;
    bool carriable = !successors[w].empty();
    for (unsigned s : successors[w]) {
      auto kernel = dyn_cast<exec::KernelOp>(ops[s]);
      carriable &= kernel && successors[s].empty();
      if (!carriable)
        break;
      for (Value buffer : kernel.getBuffers()) {
        bool global =
            exec::storageOf(buffer).getDefiningOp<exec::GlobalRefOp>() !=
            nullptr;
        carriable &= global || exec::storageOf(buffer) ==
                                   exec::storageOf(start.getBuffer());
      }
      for (Value output : kernel.getOutputs())
        written.insert(storageKey(output));
      updates.push_back(kernel);
    }
    if (!carriable)
      continue;
    llvm::sort(updates, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    // Where the next step first touches what the updates write.
    Operation *point = nullptr;
    for (Operation *op : ops) {
      if (op == wait || llvm::is_contained(updates, op))
        continue;
      SmallVector<Value> reads, writes;
      bufferAccesses(op, reads, writes);
      if (llvm::any_of(llvm::concat<Value>(reads, writes), [&](Value buffer) {
            return written.contains(storageKey(buffer));
          })) {
        point = op;
        break;
      }
    }
    if (!point)
      point = ops.front();
    OpBuilder builder(point);
    auto carried =
        exec::CarriedOp::create(builder, wait.getLoc(), start.getBuffer());
    Block *body = builder.createBlock(&carried.getBody());
    exec::defineBefore(start.getBuffer(), carried);
    for (Operation *update : updates) {
      for (Value operand : update->getOperands())
        exec::defineBefore(operand, carried);
      update->moveBefore(body, body->end());
    }
    wait.erase();
  }
}

/// With overlap=next-forward, after carrying: the peak of live bytes is in
/// the forward pass, where the averages carried from the step before are
/// still held, and the backward pass runs below it. The memory schedule
/// defers a large weight gradient, which takes more than it frees, to the
/// end of the backward pass, where its average has least time on the link
/// before the next step needs it. Here each gradient's last producer, with
/// the start after it, moves up to just after what it depends on, where
/// the step's memory (its peak of live bytes with the parameters and
/// optimizer state) grows by at most `growth`, a fraction, in all
/// (ResNet-18: its three 9.4 MB gradients from the backward pass's end to
/// its start, the peak unchanged; AlexNet: fc6's 151 MB from the end to
/// the start, 0.6% more).
void hoistGradients(Block &block, int64_t globals, double growth) {
  int64_t before = BufferLiveness(block).getPeakBytes(kArenaAlignment);
  int64_t peak =
      static_cast<int64_t>((1.0 + growth) * double(globals + before)) -
      globals;
  auto nextRunning = [](Operation *op) {
    do
      op = op->getNextNode();
    while (ExecDependences::namesOnly(op));
    return op;
  };
  auto writes = [](exec::KernelOp kernel, Value storage) {
    return llvm::any_of(kernel.getOutputs(), [&](Value output) {
      return exec::storageOf(output) == storage;
    });
  };
  SmallVector<exec::AllReduceStartOp> starts(
      block.getOps<exec::AllReduceStartOp>());
  DenseSet<Operation *> hoisted;
  for (exec::AllReduceStartOp start : starts) {
    if (hoisted.contains(start))
      continue;
    Value gradient = exec::storageOf(start.getBuffer());
    exec::KernelOp producer;
    for (Operation *op = start->getPrevNode(); op && !producer;
         op = op->getPrevNode())
      if (auto kernel = dyn_cast<exec::KernelOp>(op);
          kernel && writes(kernel, gradient))
        producer = kernel;
    if (!producer)
      continue;
    // The producer and the starts right after it of what it writes (batch
    // norm's two parameter gradients): they move together.
    SmallVector<Operation *> group = {producer};
    for (Operation *op = nextRunning(producer);; op = nextRunning(op)) {
      auto next = dyn_cast<exec::AllReduceStartOp>(op);
      if (!next || !writes(producer, exec::storageOf(next.getBuffer())))
        break;
      group.push_back(next);
    }
    if (!llvm::is_contained(group, start.getOperation()))
      continue;
    ExecDependences dependences(block);
    ArrayRef<Operation *> ops = dependences.getOperations();
    unsigned at = llvm::find(ops, producer.getOperation()) - ops.begin();
    Operation *after = nullptr;
    for (unsigned p : dependences.getPredecessors(at))
      if (!after || after->isBeforeInBlock(ops[p]))
        after = ops[p];
    if (!after)
      continue;
    // Behind what moved up to the same place before it: independent
    // gradients keep their order.
    while (hoisted.contains(after->getNextNode()) ||
           ExecDependences::namesOnly(after->getNextNode()))
      after = after->getNextNode();
    if (after->getNextNode() == producer) {
      hoisted.insert(group.begin(), group.end());
      continue;
    }
    // Where to put them back (moving the producer's operands' definitions
    // up moves only names).
    Operation *back = nextRunning(group.back());
    for (Operation *op : llvm::reverse(group))
      op->moveAfter(after);
    for (Value operand : producer->getOperands())
      exec::defineBefore(operand, producer);
    if (BufferLiveness(block).getPeakBytes(kArenaAlignment) <= peak) {
      hoisted.insert(group.begin(), group.end());
      continue;
    }
    for (Operation *op : group)
      op->moveBefore(back);
  }
}

/// With overlap=next-forward, after carrying: the runs of gradients whose
/// collectives start one after another (each carried into the next step,
/// of one element type), closed before they would pass `closeAt` bytes; a
/// larger gradient makes a run of its own.
SmallVector<SmallVector<exec::AllReduceStartOp>>
runsOfStarts(Block &block, int64_t closeAt,
             const DenseMap<Value, exec::CarriedOp> &carriedOf) {
  SmallVector<SmallVector<exec::AllReduceStartOp>> runs(1);
  int64_t bytes = 0;
  auto elementOf = [](Value v) {
    return cast<exec::BufferType>(v.getType()).getElementType();
  };
  for (auto start : block.getOps<exec::AllReduceStartOp>()) {
    Value buffer = start.getBuffer();
    bool member =
        buffer.getDefiningOp<exec::AllocOp>() && start.getToken().use_empty() &&
        carriedOf.count(buffer) &&
        (runs.back().empty() ||
         elementOf(runs.back().front().getBuffer()) == elementOf(buffer));
    int64_t size = alignedBytes(buffer);
    if (!member || (!runs.back().empty() && bytes + size > closeAt)) {
      runs.emplace_back();
      bytes = 0;
    }
    if (!member)
      continue;
    runs.back().push_back(start);
    bytes += size;
  }
  llvm::erase_if(runs, [](auto &run) { return run.size() < 2; });
  return runs;
}

/// Gives `run`'s gradients one allocation, in the order their collectives
/// start: each becomes a view into it at a 64-byte aligned offset (the
/// kernels' vectors), so that any consecutive members are averaged in place
/// without a copy. Returns the allocation.
Value placeContiguously(Block &block, ArrayRef<exec::AllReduceStartOp> run) {
  MLIRContext *ctx = block.getParentOp()->getContext();
  exec::AllReduceStartOp first = run.front();
  Type element =
      cast<exec::BufferType>(first.getBuffer().getType()).getElementType();
  int64_t total = 0;
  for (exec::AllReduceStartOp start : run)
    total += alignedBytes(start.getBuffer());
  OpBuilder builder(ctx);
  builder.setInsertionPointToStart(&block);
  Location loc = first.getLoc();
  int64_t elementBytes = element.getIntOrFloatBitWidth() / 8;
  Value storage = exec::AllocOp::create(
      builder, loc, exec::BufferType::get(ctx, {total / elementBytes}, element),
      /*alignment=*/kArenaAlignment, /*offset=*/nullptr);
  int64_t offset = 0;
  for (exec::AllReduceStartOp start : run) {
    Value member = start.getBuffer();
    Value view = exec::ViewOp::create(builder, loc, member.getType(), storage,
                                      builder.getI64IntegerAttr(offset));
    offset += alignedBytes(member);
    Operation *alloc = member.getDefiningOp();
    member.replaceAllUsesWith(view);
    alloc->erase();
  }
  return storage;
}

/// Makes `run` (placed contiguously in `storage`) one bucket: one collective
/// where its last member's started, and one exec.carried, where the first
/// of its members' `carried` was, that updates them all.
void mergeCollectives(MutableArrayRef<exec::AllReduceStartOp> run,
                      Value storage, SmallVector<exec::CarriedOp> carried) {
  Location loc = run.front().getLoc();
  OpBuilder builder(run.back());
  exec::AllReduceStartOp::create(
      builder, loc, exec::TokenType::get(builder.getContext()), storage);
  for (exec::AllReduceStartOp start : run)
    start.erase();
  llvm::sort(carried, [](exec::CarriedOp a, exec::CarriedOp b) {
    return a->isBeforeInBlock(b);
  });
  builder.setInsertionPoint(carried.front());
  auto merged = exec::CarriedOp::create(builder, loc, storage);
  Block *body = builder.createBlock(&merged.getBody());
  for (exec::CarriedOp old : carried) {
    for (Operation &update :
         llvm::make_early_inc_range(old.getBody().front())) {
      for (Value operand : update.getOperands())
        exec::defineBefore(operand, merged);
      update.moveBefore(body, body->end());
    }
    old.erase();
  }
}

/// Buckets the gradients whose collectives start one after another. By
/// the alpha-beta model, a collective of n bytes costs alpha + n / beta: a
/// bucket takes further gradients while alpha stays over a tenth of its
/// cost (up to 9 alpha beta bytes); a larger gradient gains too little from
/// sharing to wait for others, and is averaged alone. Without a link
/// (`bytesPerSecond` 0), the runs go up to `regionBytes` and the runtime
/// buckets them by the same rule with the link it measures: each member
/// keeps its start, marked joins_next but a run's last.
void bucketCollectives(Block &block, double alphaSeconds, double bytesPerSecond,
                       int64_t regionBytes) {
  bool atRuntime = bytesPerSecond <= 0;
  int64_t closeAt =
      atRuntime ? regionBytes
                : static_cast<int64_t>(9.0 * alphaSeconds * bytesPerSecond);
  DenseMap<Value, exec::CarriedOp> carriedOf;
  for (auto carried : block.getOps<exec::CarriedOp>())
    carriedOf[carried.getBuffer()] = carried;
  for (MutableArrayRef<exec::AllReduceStartOp> run :
       runsOfStarts(block, closeAt, carriedOf)) {
    SmallVector<exec::CarriedOp> carried;
    for (exec::AllReduceStartOp start : run)
      carried.push_back(carriedOf.lookup(start.getBuffer()));
    Value storage = placeContiguously(block, run);
    if (!atRuntime) {
      mergeCollectives(run, storage, std::move(carried));
      continue;
    }
    for (exec::AllReduceStartOp start : run.drop_back())
      start.setJoinsNext(true);
  }
}

struct ScheduleCollectives
    : dlc::impl::ScheduleCollectivesBase<ScheduleCollectives> {
  using ScheduleCollectivesBase::ScheduleCollectivesBase;

  void runOnOperation() override {
    if (overlap != "next-forward" && overlap != "backward" &&
        overlap != "backward-late" && overlap != "none") {
      getOperation().emitError("dlc-schedule-collectives: overlap=")
          << overlap
          << " is not 'next-forward', 'backward', 'backward-late' or 'none'";
      return signalPassFailure();
    }
    globals = globalBytes(getOperation());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (overlap != "next-forward" || nextForwardPeakLimit <= 0) {
        schedule(func.front(), overlap);
        continue;
      }
      // Pipelining keeps every gradient from its production to the next
      // step's forward: where that raises the step's peak of live bytes
      // past the limit (large fully connected layers, whose gradients are
      // made early in the backward pass), the step waits within itself.
      auto pipelined = cast<func::FuncOp>(func->clone());
      schedule(pipelined.front(), "next-forward");
      schedule(func.front(), "backward");
      int64_t peak = BufferLiveness(func.front()).getPeakBytes(kArenaAlignment);
      int64_t pipelinedPeak =
          BufferLiveness(pipelined.front()).getPeakBytes(kArenaAlignment);
      bool pipeline = pipelinedPeak <= nextForwardPeakLimit * peak;
      if (pipeline)
        func.getBody().takeBody(pipelined.getBody());
      pipelined->erase();
      if (llvm::any_of(func.front(), [](Operation &op) {
            return isa<exec::AllReduceStartOp>(op);
          }))
        func->setAttr("dlc.overlap",
                      StringAttr::get(&getContext(),
                                      pipeline ? "next-forward" : "backward"));
    }
  }

  /// The arena bytes of the module's parameters and optimizer state.
  int64_t globals = 0;

  void schedule(Block &block, StringRef overlap) {
    ExecDependences dependences(block);
    ArrayRef<Operation *> ops = dependences.getOperations();
    auto isStart = [&](unsigned i) {
      return isa<exec::AllReduceStartOp>(ops[i]);
    };
    auto isWait = [&](unsigned i) { return isa<exec::WaitOp>(ops[i]); };
    if (llvm::none_of(llvm::seq<unsigned>(0, ops.size()), isStart))
      return;
    SmallVector<SmallVector<unsigned>> successors = successorsOf(dependences);
    SmallVector<unsigned> order(ops.size());
    std::iota(order.begin(), order.end(), 0);

    if (overlap == "none") {
      // Each wait just after the start whose token it waits for.
      order = rekey(order, isWait, [&](unsigned i, ArrayRef<unsigned> at) {
        Operation *start =
            cast<exec::WaitOp>(ops[i]).getToken().getDefiningOp();
        unsigned s = llvm::find(ops, start) - ops.begin();
        return at[s] + 0.5;
      });
    } else {
      // Waits first, as late as their successors allow (before the
      // terminator when nothing depends on them), then starts as early as
      // their predecessors allow.
      order = rekey(order, isWait, [&](unsigned i, ArrayRef<unsigned> at) {
        double first = double(ops.size());
        for (unsigned s : successors[i])
          first = std::min(first, double(at[s]));
        return first - 0.5;
      });
      order = rekey(order, isStart, [&](unsigned i, ArrayRef<unsigned> at) {
        double last = -1.0;
        for (unsigned p : dependences.getPredecessors(i))
          last = std::max(last, double(at[p]));
        return last + 0.5;
      });
    }
    dependences.reorder(block, order);
    if (overlap == "next-forward") {
      carryIntoNextStep(block);
      if (hoist)
        hoistGradients(block, globals, hoistPeakGrowth);
      if (runtimeBuckets)
        bucketCollectives(block, 0.0, 0.0, regionBytes);
      else if (commAlphaUs > 0 && commGbit > 0)
        bucketCollectives(block, commAlphaUs * 1e-6, commGbit * 1e9 / 8, 0);
    } else if (overlap != "none" && defer)
      deferWaits(block, /*withinPeak=*/overlap == "backward");
  }
};
} // namespace
