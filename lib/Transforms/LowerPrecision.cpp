//===- LowerPrecision.cpp - round each tensor to its format ---------------===//
//
// The step computes as before, in fp32 kernels, on values its tensors'
// formats hold exactly: rounding after the write is what storing in the
// format and loading back does, so the result is the one narrower storage
// gives (and what kernels in that format compute, up to the order of their
// sums). Where the rounding goes keeps the step's dependences: in place
// right after the writer (before a collective the schedule started on the
// buffer), a weight's copy before its first reader.
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Analysis/PrecisionTensors.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace dlc {
#define GEN_PASS_DEF_LOWERPRECISION
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
bool isUpdate(exec::KernelOp kernel) {
  return kernel.getCallee() == "sgdUpdate" || kernel.getCallee() == "adamUpdate";
}

/// The global a buffer's bytes belong to, if any.
FlatSymbolRefAttr globalOf(Value buffer) {
  auto ref = exec::storageOf(buffer).getDefiningOp<exec::GlobalRefOp>();
  return ref ? ref.getGlobalAttr() : nullptr;
}

/// `buffer` seen through the same views over `storage` instead of its own
/// storage (created before `point`).
Value rebase(Value buffer, Value storage, Operation *point) {
  auto view = buffer.getDefiningOp<exec::ViewOp>();
  if (!view)
    return storage;
  Value source = rebase(view.getSource(), storage, point);
  OpBuilder builder(point);
  IRMapping mapping;
  mapping.map(view.getSource(), source);
  return builder.clone(*view, mapping)->getResult(0);
}

struct LowerPrecision : dlc::impl::LowerPrecisionBase<LowerPrecision> {
  using LowerPrecisionBase::LowerPrecisionBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto slots = module->getAttrOfType<ArrayAttr>("dlc.precision");
    if (!slots)
      return;
    auto step = module.lookupSymbol<func::FuncOp>("train_step");
    SmallVector<PrecisionTensor> tensors = findPrecisionTensors(step);
    // The plan must be of this step, slot by slot.
    for (auto [slot, tensor] : llvm::enumerate(tensors)) {
      auto entry = slot < slots.size() ? dyn_cast<DictionaryAttr>(slots[slot])
                                       : DictionaryAttr();
      auto name = entry ? entry.getAs<StringAttr>("name") : StringAttr();
      if (!name || name.getValue() != tensor.name) {
        module.emitError() << "dlc.precision's slot " << slot << " names '"
                           << (name ? name.getValue() : "") << "', the step's '"
                           << tensor.name << "'";
        return signalPassFailure();
      }
    }
    if (tensors.size() != slots.size()) {
      module.emitError() << "dlc.precision lists " << slots.size()
                         << " tensors, the training step has "
                         << tensors.size();
      return signalPassFailure();
    }
    for (auto [slot, tensor] : llvm::enumerate(tensors)) {
      auto entry = cast<DictionaryAttr>(slots[slot]);
      auto format = entry.getAs<StringAttr>("format");
      if (!adjustable && (!format || format.getValue() == "fp32"))
        continue;
      if (tensor.kind == "weight")
        roundWeight(step.front(), tensor.buffer, slot);
      else
        roundInPlace(step.front(), tensor, slot);
    }
    if (adjustable)
      module->setAttr("dlc.precision_adjustable", UnitAttr::get(&getContext()));
  }

  exec::KernelOp createRound(OpBuilder &builder, Location loc, Value source,
                             Value destination, int64_t slot) {
    MLIRContext *ctx = builder.getContext();
    auto type = cast<exec::BufferType>(source.getType());
    bool inPlace = source == destination;
    return exec::KernelOp::create(
        builder, loc, kRoundKernel, Value(), ValueRange(source),
        ValueRange(destination), ValueRange(),
        inPlace ? builder.getDenseI64ArrayAttr({0}) : nullptr,
        builder.getArrayAttr({exec::PointerAttr::get(ctx, 0, 0),
                              exec::PointerAttr::get(ctx, 1, 0),
                              builder.getI64IntegerAttr(type.getNumElements()),
                              builder.getI64IntegerAttr(slot)}),
        /*reusable=*/nullptr);
  }

  /// The data input before the first kernel, any other tensor right after
  /// the kernel that writes its final value.
  void roundInPlace(Block &body, const PrecisionTensor &tensor, int64_t slot) {
    OpBuilder builder(&getContext());
    if (tensor.writer) {
      builder.setInsertionPointAfter(tensor.writer);
    } else {
      Operation *first = &body.front();
      while (first && ExecDependences::namesOnly(first))
        first = first->getNextNode();
      builder.setInsertionPoint(first);
    }
    createRound(builder, tensor.buffer.getLoc(), tensor.buffer, tensor.buffer,
                slot);
  }

  /// A copy of the weight in its format, made before the first kernel that
  /// reads it (after an update carried over from the step before), which
  /// every kernel but the update reads instead.
  void roundWeight(Block &body, Value weight, int64_t slot) {
    FlatSymbolRefAttr global = globalOf(weight);
    auto readsWeight = [&](exec::KernelOp kernel) {
      return !isUpdate(kernel) && kernel.getCallee() != kRoundKernel &&
             llvm::any_of(kernel.getInputs(),
                          [&](Value in) { return globalOf(in) == global; });
    };
    SmallVector<exec::KernelOp> readers;
    body.walk([&](exec::KernelOp kernel) {
      if (readsWeight(kernel))
        readers.push_back(kernel);
    });
    if (readers.empty())
      return;
    // The top-level operation the first reader is in.
    Operation *first = readers.front();
    while (first->getBlock() != &body)
      first = first->getParentOp();
    OpBuilder builder(first);
    auto ref = exec::GlobalRefOp::create(builder, weight.getLoc(),
                                         weight.getType(), global);
    Value copy = exec::AllocOp::create(
        builder, weight.getLoc(), cast<exec::BufferType>(weight.getType()),
        /*alignment=*/64, /*offset=*/nullptr);
    createRound(builder, weight.getLoc(), ref, copy, slot);
    for (exec::KernelOp reader : readers)
      for (OpOperand &operand : reader.getInputsMutable())
        if (Value old = operand.get(); globalOf(old) == global) {
          operand.set(rebase(old, copy, reader));
          eraseUnusedViews(old);
        }
  }

  /// The views that led to a weight's reader and lead nowhere now.
  static void eraseUnusedViews(Value buffer) {
    auto view = buffer.getDefiningOp<exec::ViewOp>();
    if (!view || !view->use_empty())
      return;
    Value source = view.getSource();
    view->erase();
    eraseUnusedViews(source);
  }
};
} // namespace
