//===- PoisonFreed.cpp - NaNs over every buffer after its last use --------===//

#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_POISONFREED
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
struct PoisonFreed : dlc::impl::PoisonFreedBase<PoisonFreed> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal())
        poison(func.front());
  }

  void poison(Block &block) {
    SmallVector<Operation *> ops =
        llvm::map_to_vector(block, [](Operation &op) { return &op; });
    BufferLiveness liveness(block);
    // Collected first: each insertion shifts the positions after it.
    SmallVector<std::pair<Operation *, Value>> afterLastUse;
    for (const BufferLiveness::Interval &interval : liveness.getIntervals()) {
      Operation *last = ops[interval.last];
      // Allocations only (the trainer refills the arguments), and not
      // what the function returns.
      if (interval.root.getDefiningOp<exec::AllocOp>() &&
          !last->hasTrait<OpTrait::IsTerminator>())
        afterLastUse.emplace_back(last, interval.root);
    }
    MLIRContext *ctx = &getContext();
    // On CUDA, the function's stream (wherever the schedule put it).
    Value stream;
    auto streams = block.getOps<exec::StreamOp>();
    if (!streams.empty())
      stream = (*streams.begin()).getResult();
    for (auto [last, buffer] : afterLastUse) {
      OpBuilder builder(ctx);
      builder.setInsertionPointAfter(last);
      int64_t bytes = cast<exec::BufferType>(buffer.getType()).getSizeInBytes();
      exec::KernelOp::create(
          builder, last->getLoc(), "poison", stream, ValueRange(),
          ValueRange(buffer), ValueRange(), /*in_place=*/nullptr,
          builder.getArrayAttr({exec::PointerAttr::get(ctx, 0, 0),
                                builder.getI64IntegerAttr(bytes)}),
          /*reusable=*/nullptr);
    }
  }
};
} // namespace
