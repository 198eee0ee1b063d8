//===- PlanMemory.cpp - static arena placement of exec buffers ------------===//
//
// Gives every buffer a byte offset in one arena: globals first, for the
// whole run, then each function's transient buffers (allocations and
// arguments) packed over their live ranges (BufferLiveness) by the better
// of two heuristics (ArenaPlacement.h).
// Functions run one at a time, so they share the scratch region.
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/ArenaPlacement.h"
#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Support/CheckedMath.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/MathExtras.h"

namespace dlc {
#define GEN_PASS_DEF_PLANMEMORY
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
/// Places `intervals` by the better of the heuristics of ArenaPlacement.h;
/// returns the region's size and fills `offsets`.
int64_t place(ArrayRef<BufferLiveness::Interval> intervals,
              DenseMap<Value, int64_t> &offsets) {
  Placement placement = placeBest(placementRequests(intervals));
  for (auto [interval, offset] : llvm::zip(intervals, placement.offsets))
    offsets[interval.root] = offset;
  return placement.size;
}

struct PlanMemory : dlc::impl::PlanMemoryBase<PlanMemory> {
  using PlanMemoryBase::PlanMemoryBase;
  void runOnOperation() override;
};

/// Places `func`'s transient buffers from `scratchBase` on; returns the
/// bytes they need.
int64_t planFunction(func::FuncOp func, int64_t scratchBase) {
  Block &body = func.front();
  Builder builder(func.getContext());
  BufferLiveness liveness(body);
  DenseMap<Value, int64_t> offsets;
  int64_t scratchSize = place(liveness.getIntervals(), offsets);

  SmallVector<Attribute> argOffsets;
  for (BlockArgument arg : body.getArguments())
    argOffsets.push_back(
        builder.getI64IntegerAttr(scratchBase + offsets.lookup(arg)));
  func->setAttr(kArgOffsetsAttr, builder.getArrayAttr(argOffsets));
  for (auto alloc : body.getOps<exec::AllocOp>())
    alloc.setOffset(scratchBase + offsets.lookup(alloc.getResult()));
  return scratchSize;
}
} // namespace

void PlanMemory::runOnOperation() {
  ModuleOp module = getOperation();
  Builder builder(module.getContext());
  auto tooLarge = [&](int64_t bytes) {
    emitError(module.getLoc(), "the arena would need ")
        << bytes << " bytes, more than dlc's limit of " << kMaxTensorBytes
        << " bytes (1 TiB); lower --batch";
    signalPassFailure();
  };

  // Each buffer is at most kMaxTensorBytes (the buffer type's limit), so
  // one more cannot wrap a sum that is still under it.
  int64_t cursor = 0;
  for (auto global : module.getOps<exec::GlobalOp>()) {
    cursor = llvm::alignTo(cursor, std::max<int64_t>(kArenaAlignment,
                                                     global.getAlignment()));
    global.setOffset(cursor);
    cursor += llvm::alignTo(global.getBufferType().getSizeInBytes(),
                            kArenaAlignment);
    if (cursor > kMaxTensorBytes)
      return tooLarge(cursor);
  }

  int64_t scratchSize = 0;
  for (auto func : module.getOps<func::FuncOp>())
    scratchSize = std::max(scratchSize, planFunction(func, cursor));
  int64_t arenaSize = cursor + scratchSize;
  if (arenaSize > kMaxTensorBytes)
    return tooLarge(arenaSize);
  if (budget > 0 && arenaSize > budget) {
    InFlightDiagnostic error = emitError(module.getLoc(), "--memory-budget=")
                               << budget.getValue()
                               << ": the smallest arena dlc reaches is "
                               << arenaSize << " bytes (" << cursor
                               << " of them parameters and optimizer state";
    if (auto flops = module->getAttrOfType<IntegerAttr>(kRecomputedFlopsAttr))
      error << ", recomputing " << flops.getInt() << " operations a step";
    error << "); raise the budget or lower --batch";
    return signalPassFailure();
  }
  module->setAttr(kArenaSizeAttr, builder.getI64IntegerAttr(arenaSize));
}

void dlc::buildGraphCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}
