//===- InstrumentStatistics.cpp - statistics of the tensors that matter ---===//
//
// Which tensors: the kinds the precision choice formats (Passes.td). An
// exec buffer's kind comes from where its values come from (the labels:
// a gradient) and who reads it (a kernel computed from the labels: kept
// for the backward pass; an optimizer update: a weight gradient).
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

namespace dlc {
#define GEN_PASS_DEF_INSTRUMENTSTATISTICS
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {
bool isUpdate(exec::KernelOp kernel) {
  return kernel.getCallee() == "sgdUpdate" || kernel.getCallee() == "adamUpdate";
}

/// The buffer behind a kernel's `index`th call argument, a pointer.
Value pointerOperand(exec::KernelOp kernel, unsigned index) {
  auto args = kernel.getArgs();
  if (!args || args->size() <= index)
    return Value();
  auto ptr = dyn_cast<exec::PointerAttr>((*args)[index]);
  return ptr ? kernel.getBuffers()[ptr.getOperand()] : Value();
}

/// The ONNX name a location carries (the importer's NameLoc), or "".
std::string onnxName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (std::string name = onnxName(inner); !name.empty())
        return name;
  return "";
}

struct Tensor {
  Value buffer;
  StringRef kind;
  std::string name;
  /// The kernel after which it is read; null: at the step's start.
  Operation *after = nullptr;
};

struct InstrumentStatistics
    : dlc::impl::InstrumentStatisticsBase<InstrumentStatistics> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>("train_step");
    if (!step || step.isExternal() || step.getNumArguments() < 2)
      return;
    SmallVector<Tensor> tensors = collect(step.front());
    instrument(step.front(), tensors);
    Builder builder(module.getContext());
    SmallVector<Attribute> slots;
    for (const Tensor &tensor : tensors) {
      auto type = cast<exec::BufferType>(tensor.buffer.getType());
      slots.push_back(builder.getDictionaryAttr(
          {builder.getNamedAttr("name", builder.getStringAttr(tensor.name)),
           builder.getNamedAttr("kind", builder.getStringAttr(tensor.kind)),
           builder.getNamedAttr("elements", builder.getI64IntegerAttr(
                                                type.getNumElements()))}));
    }
    module->setAttr("dlc.statistics", builder.getArrayAttr(slots));
  }

  SmallVector<Tensor> collect(Block &body) {
    DenseSet<Value> gradients = storageComputedFrom(body, body.getArgument(1));
    // The last kernel that writes each transient storage (its final value).
    DenseMap<Value, exec::KernelOp> lastWriter;
    for (auto kernel : body.getOps<exec::KernelOp>())
      for (Value output : kernel.getOutputs())
        lastWriter[output] = kernel;
    auto transient = [](Value buffer) {
      return !exec::storageOf(buffer).getDefiningOp<exec::GlobalRefOp>();
    };

    // Weight gradients and their parameters, from the optimizer updates
    // (also those carried into the next step).
    llvm::MapVector<Value, std::string> weightGradients;
    llvm::SetVector<Attribute> parameters;
    SmallVector<std::pair<Value, StringAttr>> weights;
    body.getParentOp()->walk([&](exec::KernelOp kernel) {
      if (!isUpdate(kernel))
        return;
      Value param = pointerOperand(kernel, 0), gradient = pointerOperand(kernel, 1);
      auto ref = param ? exec::storageOf(param).getDefiningOp<exec::GlobalRefOp>()
                       : nullptr;
      if (!ref || !gradient)
        return;
      auto global = SymbolTable::lookupNearestSymbolFrom<exec::GlobalOp>(
          kernel, ref.getGlobalAttr());
      std::string name = global && global.getOnnxName()
                             ? global.getOnnxName()->str()
                             : ref.getGlobal().str();
      weightGradients.insert({gradient, name + ":grad"});
      if (parameters.insert(ref.getGlobalAttr()))
        weights.push_back({param, StringAttr::get(&getContext(), name)});
    });

    SmallVector<Tensor> tensors;
    llvm::StringMap<int> uses;
    auto unique = [&](std::string name) {
      int n = uses[name]++;
      return n ? name + "#" + std::to_string(n) : name;
    };
    for (auto [param, name] : weights)
      tensors.push_back({param, "weight", name.str(), nullptr});
    // The data input: read by the first layer's weight gradient.
    tensors.push_back({body.getArgument(0), "activation", "input", nullptr});
    DenseSet<Value> seen;
    for (auto kernel : body.getOps<exec::KernelOp>()) {
      // Constants (the loss's seed gradient) say nothing about the model.
      if (isUpdate(kernel) || kernel.getCallee() == "fill")
        continue;
      for (Value output : kernel.getOutputs()) {
        auto type = cast<exec::BufferType>(output.getType());
        if (!type.getElementType().isF32() || !transient(output) ||
            lastWriter.lookup(output) != kernel || !seen.insert(output).second)
          continue;
        std::string name = onnxName(kernel.getLoc());
        if (name.empty())
          name = kernel.getCallee().str();
        if (auto it = weightGradients.find(output); it != weightGradients.end()) {
          tensors.push_back({output, "weight_gradient", it->second, kernel});
          continue;
        }
        bool gradient = gradients.contains(exec::storageOf(output));
        if (gradient) {
          if (!isReadLater(body, kernel, output))
            continue; // the loss, or nothing reads it
          tensors.push_back(
              {output, "activation_gradient", unique(name + ":grad"), kernel});
          continue;
        }
        if (readByBackward(body, output, gradients))
          tensors.push_back({output, "activation", unique(name), kernel});
      }
    }
    return tensors;
  }

  /// Whether a kernel after `writer` reads `buffer`.
  static bool isReadLater(Block &body, exec::KernelOp writer, Value buffer) {
    for (Operation *op = writer->getNextNode(); op; op = op->getNextNode())
      if (auto kernel = dyn_cast<exec::KernelOp>(op))
        if (llvm::is_contained(kernel.getInputs(), buffer))
          return true;
    return false;
  }

  /// Whether a kernel computed from the labels reads `buffer`: the
  /// backward pass keeps it.
  static bool readByBackward(Block &body, Value buffer,
                             const DenseSet<Value> &gradients) {
    for (auto kernel : body.getOps<exec::KernelOp>())
      if (llvm::is_contained(kernel.getInputs(), buffer) &&
          llvm::any_of(kernel.getOutputs(), [&](Value output) {
            return gradients.contains(exec::storageOf(output));
          }))
        return true;
    return false;
  }

  void instrument(Block &body, ArrayRef<Tensor> tensors) {
    MLIRContext *ctx = &getContext();
    Operation *first = &body.front();
    while (first && ExecDependences::namesOnly(first))
      first = first->getNextNode();
    for (auto [slot, tensor] : llvm::enumerate(tensors)) {
      OpBuilder builder(ctx);
      Value buffer = tensor.buffer;
      if (tensor.after) {
        builder.setInsertionPointAfter(tensor.after);
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
