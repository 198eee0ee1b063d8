//===- InstrumentStatistics.cpp - statistics of the tensors that matter ---===//
//
// Which tensors: those a format is chosen for (PrecisionTensors.h), each
// read after the kernel that writes its final value, the weights and the
// data input before the first kernel that runs.
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Analysis/PrecisionTensors.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_INSTRUMENTSTATISTICS
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
struct InstrumentStatistics
    : dlc::impl::InstrumentStatisticsBase<InstrumentStatistics> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>("train_step");
    SmallVector<PrecisionTensor> tensors = findPrecisionTensors(step);
    if (tensors.empty())
      return;
    instrument(step.front(), tensors);
    Builder builder(module.getContext());
    SmallVector<Attribute> slots;
    for (const PrecisionTensor &tensor : tensors)
      slots.push_back(describeSlot(builder, tensor));
    module->setAttr("dlc.statistics", builder.getArrayAttr(slots));
  }

  void instrument(Block &body, ArrayRef<PrecisionTensor> tensors) {
    MLIRContext *ctx = &getContext();
    Operation *first = &body.front();
    while (first && ExecDependences::namesOnly(first))
      first = first->getNextNode();
    for (auto [slot, tensor] : llvm::enumerate(tensors)) {
      OpBuilder builder(ctx);
      Value buffer = tensor.buffer;
      if (tensor.writer) {
        builder.setInsertionPointAfter(tensor.writer);
      } else {
        builder.setInsertionPoint(first);
        // A parameter, named afresh here (its updates' own reference may
        // be inside an exec.carried).
        if (auto ref = buffer.getDefiningOp<exec::GlobalRefOp>())
          buffer = exec::GlobalRefOp::create(builder, ref.getLoc(),
                                             ref.getType(), ref.getGlobalAttr());
      }
      auto type = cast<exec::BufferType>(buffer.getType());
      exec::KernelOp::create(
          builder, buffer.getLoc(), "recordStatistics", Value(),
          ValueRange(buffer), ValueRange(), ValueRange(),
          /*in_place=*/nullptr,
          builder.getArrayAttr({exec::PointerAttr::get(ctx, 0, 0),
                                builder.getI64IntegerAttr(type.getNumElements()),
                                builder.getI64IntegerAttr(slot)}),
          /*reusable=*/nullptr);
    }
  }
};
} // namespace
