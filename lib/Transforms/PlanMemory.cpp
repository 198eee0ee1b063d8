//===- PlanMemory.cpp - static arena placement ----------------------------===//
//
// Gives every tensor a byte offset in one arena: variables first, for the
// whole run, then each function's temporaries packed by first fit over their
// live intervals. Functions run one at a time, so they share the scratch
// region.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Support/CheckedMath.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/Passes.h"

namespace dlc {
#define GEN_PASS_DEF_PLANMEMORY
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

/// A tensor's aligned byte size; -1 when it overflows or passes
/// kMaxTensorBytes (an .mlir input has not been through the importer's
/// checks).
int64_t byteSize(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  std::optional<int64_t> bytes = checkedByteSize(
      tensor.getShape(), (tensor.getElementTypeBitWidth() + 7) / 8);
  return bytes ? alignUp(*bytes) : -1;
}

/// Every tensor of `root` has a plannable size; reports the first that does
/// not.
LogicalResult checkSizes(Operation *root) {
  WalkResult result = root->walk([](Operation *op) {
    auto tooLarge = [&](Type type, Location loc) {
      if (isa<RankedTensorType>(type) && byteSize(type) < 0) {
        emitError(loc) << "tensor " << type << " is larger than dlc's limit of "
                       << kMaxTensorBytes << " bytes";
        return true;
      }
      return false;
    };
    if (auto variable = dyn_cast<VariableOp>(op))
      if (tooLarge(variable.getType(), op->getLoc()))
        return WalkResult::interrupt();
    for (Type type : op->getResultTypes())
      if (tooLarge(type, op->getLoc()))
        return WalkResult::interrupt();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          if (tooLarge(arg.getType(), arg.getLoc()))
            return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// Ops whose result reuses its operand's bytes instead of new storage.
bool isAlias(Operation *op) { return isa<ReshapeOp, AllReduceMeanOp>(op); }

/// One tensor's storage request: bytes live from op `start` to op `end`.
struct Interval {
  Value root;
  int64_t size, start, end;
};

/// First-fit placement of intervals (sorted by start) into a region;
/// returns the region's size and fills `offsets`.
int64_t placeFirstFit(ArrayRef<Interval> intervals,
                      DenseMap<Value, int64_t> &offsets) {
  struct Placed {
    int64_t offset, size, end;
  };
  SmallVector<Placed> live;
  int64_t regionSize = 0;
  for (const Interval &interval : intervals) {
    llvm::erase_if(live, [&](const Placed &p) { return p.end < interval.start; });
    llvm::sort(live, [](const Placed &a, const Placed &b) {
      return a.offset < b.offset;
    });
    int64_t offset = 0;
    for (const Placed &p : live) {
      if (offset + interval.size <= p.offset)
        break;
      offset = std::max(offset, p.offset + p.size);
    }
    live.push_back({offset, interval.size, interval.end});
    offsets[interval.root] = offset;
    regionSize = std::max(regionSize, offset + interval.size);
  }
  return regionSize;
}

struct PlanMemory : dlc::impl::PlanMemoryBase<PlanMemory> {
  using PlanMemoryBase::PlanMemoryBase;
  void runOnOperation() override;

private:
  int64_t planFunction(func::FuncOp func, int64_t scratchBase,
                       const DenseMap<StringAttr, int64_t> &variableOffsets);
};
} // namespace

int64_t PlanMemory::planFunction(
    func::FuncOp func, int64_t scratchBase,
    const DenseMap<StringAttr, int64_t> &variableOffsets) {
  Block &body = func.front();
  Builder builder(func.getContext());

  // Number the ops; arguments are defined at -1, before the first op.
  DenseMap<Operation *, int64_t> position;
  for (auto [index, op] : llvm::enumerate(body))
    position[&op] = index;

  // Each value's storage root: itself, or what an alias op views.
  DenseMap<Value, Value> root;
  auto rootOf = [&](Value v) {
    auto it = root.find(v);
    return it == root.end() ? v : it->second;
  };
  SmallVector<Interval> intervals;
  DenseMap<Value, size_t> intervalOf;
  auto addInterval = [&](Value v, int64_t start) {
    intervalOf[v] = intervals.size();
    intervals.push_back({v, byteSize(v.getType()), start, start});
  };
  for (BlockArgument arg : body.getArguments())
    addInterval(arg, -1);
  for (Operation &op : body) {
    int64_t here = position[&op];
    for (Value operand : op.getOperands()) {
      auto it = intervalOf.find(rootOf(operand));
      if (it != intervalOf.end())
        intervals[it->second].end = std::max(intervals[it->second].end, here);
    }
    if (op.getNumResults() == 0 || isa<LoadOp>(op))
      continue;
    if (isAlias(&op)) {
      root[op.getResult(0)] = rootOf(op.getOperand(0));
      continue;
    }
    for (Value result : op.getResults())
      addInterval(result, here);
  }

  DenseMap<Value, int64_t> offsets;
  int64_t scratchSize = placeFirstFit(intervals, offsets);

  SmallVector<Attribute> argOffsets;
  for (BlockArgument arg : body.getArguments())
    argOffsets.push_back(
        builder.getI64IntegerAttr(scratchBase + offsets.lookup(arg)));
  func->setAttr(kArgOffsetsAttr, builder.getArrayAttr(argOffsets));
  for (Operation &op : body) {
    if (op.getNumResults() > 1) {
      SmallVector<int64_t> resultOffsets;
      for (Value result : op.getResults())
        resultOffsets.push_back(scratchBase + offsets.lookup(result));
      op.setAttr(kResultOffsetsAttr, builder.getI64ArrayAttr(resultOffsets));
      continue;
    }
    if (op.getNumResults() != 1)
      continue;
    int64_t offset =
        isa<LoadOp>(op)
            ? variableOffsets.lookup(
                  cast<LoadOp>(op).getVariableAttr().getAttr())
            : scratchBase + offsets.lookup(rootOf(op.getResult(0)));
    // A view of a variable (reshape of a load) lives where the variable is.
    if (Value r = rootOf(op.getResult(0)); r != op.getResult(0))
      if (auto load = r.getDefiningOp<LoadOp>())
        offset = variableOffsets.lookup(load.getVariableAttr().getAttr());
    op.setAttr(kOffsetAttr, builder.getI64IntegerAttr(offset));
  }
  return scratchSize;
}

void PlanMemory::runOnOperation() {
  ModuleOp module = getOperation();
  Builder builder(module.getContext());
  if (failed(checkSizes(module)))
    return signalPassFailure();

  DenseMap<StringAttr, int64_t> variableOffsets;
  int64_t cursor = 0;
  for (auto variable : module.getOps<VariableOp>()) {
    variable->setAttr(kOffsetAttr, builder.getI64IntegerAttr(cursor));
    variableOffsets[variable.getSymNameAttr()] = cursor;
    cursor += byteSize(variable.getType());
  }

  int64_t scratchSize = 0;
  for (auto func : module.getOps<func::FuncOp>())
    scratchSize =
        std::max(scratchSize, planFunction(func, cursor, variableOffsets));
  // Each tensor is at most kMaxTensorBytes, so these sums cannot wrap before
  // the check.
  int64_t arenaSize = cursor + scratchSize;
  if (arenaSize > kMaxTensorBytes) {
    emitError(module.getLoc(), "the arena would need ")
        << arenaSize << " bytes, more than dlc's limit of " << kMaxTensorBytes
        << " bytes (1 TiB); lower --batch";
    return signalPassFailure();
  }
  module->setAttr(kArenaSizeAttr, builder.getI64IntegerAttr(arenaSize));
}

void dlc::buildGraphCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}
