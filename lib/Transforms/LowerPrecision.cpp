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
#include "llvm/ADT/StringSwitch.h"

namespace dlc {
#define GEN_PASS_DEF_LOWERPRECISION
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
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
    gradients = storageComputedFrom(step.front(), step.getArgument(1));
    for (auto [slot, tensor] : llvm::enumerate(tensors)) {
      auto entry = cast<DictionaryAttr>(slots[slot]);
      auto format = entry.getAs<StringAttr>("format");
      if (!adjustable && (!format || format.getValue() == "fp32"))
        continue;
      if (tensor.kind == "weight") {
        roundWeight(step.front(), tensor.buffer, slot);
        continue;
      }
      roundInPlace(step.front(), tensor, slot);
      // Kept for the backward pass in fewer bytes: only where the format
      // cannot change while training (its width is the buffer's).
      if (Type stored = storageType(format.getValue());
          stored && !adjustable && tensor.kind == "activation" &&
          tensor.writer)
        storeNarrow(step.front(), tensor, slot, stored);
    }
    if (adjustable)
      module->setAttr("dlc.precision_adjustable", UnitAttr::get(&getContext()));
  }

  /// The storage of what the step computes from the labels.
  DenseSet<Value> gradients;

  /// The element type a format's values are kept in; null for fp32.
  Type storageType(StringRef format) {
    MLIRContext *ctx = &getContext();
    return llvm::StringSwitch<Type>(format)
        .Case("bf16", BFloat16Type::get(ctx))
        .Case("fp16", Float16Type::get(ctx))
        .Case("fp8e4m3", Float8E4M3FNType::get(ctx))
        .Case("fp8e5m2", Float8E5M2Type::get(ctx))
        .Case("int8", IntegerType::get(ctx, 8))
        .Case("int16", IntegerType::get(ctx, 16))
        .Default(Type());
  }

  /// A kernel of the precision passes that converts `source` into
  /// `destination` (the format's codes to or from fp32).
  exec::KernelOp createConversion(OpBuilder &builder, StringRef callee,
                                  Location loc, Value source,
                                  Value destination, int64_t slot) {
    MLIRContext *ctx = builder.getContext();
    auto type = cast<exec::BufferType>(source.getType());
    return exec::KernelOp::create(
        builder, loc, callee, Value(), ValueRange(source),
        ValueRange(destination), ValueRange(), /*in_place=*/nullptr,
        builder.getArrayAttr({exec::PointerAttr::get(ctx, 0, 0),
                              exec::PointerAttr::get(ctx, 1, 0),
                              builder.getI64IntegerAttr(type.getNumElements()),
                              builder.getI64IntegerAttr(slot)}),
        /*reusable=*/nullptr);
  }

  /// An activation that the backward pass reads is kept there in its
  /// format: packed once the forward pass has read it, unpacked into fp32
  /// just before the first backward kernel that reads it, which all read
  /// the unpacked copy. The fp32 buffer then lives through the forward
  /// pass's reads alone, and the backward pass's copy through its own.
  void storeNarrow(Block &body, const PrecisionTensor &tensor, int64_t slot,
                   Type stored) {
    Value buffer = tensor.buffer;
    if (exec::storageOf(buffer) != buffer)
      return; // a part of a larger buffer: it lives as long as the rest
    auto isBackward = [&](exec::KernelOp kernel) {
      return llvm::any_of(kernel.getOutputs(), [&](Value output) {
        return gradients.contains(exec::storageOf(output));
      });
    };
    SmallVector<exec::KernelOp> backward;
    // Packed after the forward pass's last read (or the rounding), so that
    // the fp32 buffer and its codes overlap for as short a time as they can.
    Operation *packAfter = tensor.writer->getNextNode();
    for (Operation *op = tensor.writer->getNextNode(); op;
         op = op->getNextNode()) {
      auto kernel = dyn_cast<exec::KernelOp>(op);
      if (!kernel || kernel.getCallee() == kRoundKernel ||
          !llvm::any_of(kernel.getInputs(), [&](Value in) {
            return exec::storageOf(in) == buffer;
          }))
        continue;
      // A kernel of the forward pass after one of the backward pass
      // would read the fp32 buffer late: leave this tensor as it is.
      if (!isBackward(kernel)) {
        if (!backward.empty())
          return;
        packAfter = kernel;
        continue;
      }
      backward.push_back(kernel);
    }
    if (backward.empty())
      return;
    auto type = cast<exec::BufferType>(buffer.getType());
    auto packedType = exec::BufferType::get(&getContext(), type.getShape(),
                                            stored);
    OpBuilder builder(packAfter->getContext());
    builder.setInsertionPointAfter(packAfter);
    Location loc = buffer.getLoc();
    Value packed = exec::AllocOp::create(builder, loc, packedType,
                                         /*alignment=*/64, /*offset=*/nullptr);
    createConversion(builder, kPackKernel, loc, buffer, packed, slot);
    builder.setInsertionPoint(backward.front());
    Value unpacked = exec::AllocOp::create(builder, loc, type,
                                           /*alignment=*/64, /*offset=*/nullptr);
    createConversion(builder, kUnpackKernel, loc, packed, unpacked, slot);
    for (exec::KernelOp reader : backward)
      for (OpOperand &operand : reader.getInputsMutable())
        if (Value old = operand.get(); exec::storageOf(old) == buffer) {
          operand.set(rebase(old, unpacked, reader));
          eraseUnusedViews(old);
        }
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

  /// Each kernel but the update reads a copy of the weight in its format,
  /// made from the master weight just before it: one copy per reader, so
  /// that each lives through its reader alone (a copy kept from the forward
  /// pass to the layer's backward would keep every weight twice). The
  /// master does not change between a layer's readers: its update waits
  /// for its data gradient.
  void roundWeight(Block &body, Value weight, int64_t slot) {
    FlatSymbolRefAttr global = globalOf(weight);
    auto readsWeight = [&](exec::KernelOp kernel) {
      return !isOptimizerUpdate(kernel) && kernel.getCallee() != kRoundKernel &&
             llvm::any_of(kernel.getInputs(),
                          [&](Value in) { return globalOf(in) == global; });
    };
    SmallVector<exec::KernelOp> readers;
    body.walk([&](exec::KernelOp kernel) {
      if (readsWeight(kernel))
        readers.push_back(kernel);
    });
    for (exec::KernelOp reader : readers) {
      OpBuilder builder(reader);
      auto ref = exec::GlobalRefOp::create(builder, weight.getLoc(),
                                           weight.getType(), global);
      Value copy = exec::AllocOp::create(
          builder, weight.getLoc(), cast<exec::BufferType>(weight.getType()),
          /*alignment=*/64, /*offset=*/nullptr);
      createRound(builder, weight.getLoc(), ref, copy, slot);
      for (OpOperand &operand : reader.getInputsMutable())
        if (Value old = operand.get(); globalOf(old) == global) {
          operand.set(rebase(old, copy, reader));
          eraseUnusedViews(old);
        }
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
