//===- PrecisionTensors.cpp - the tensors a format is chosen for ----------===//
//
// A buffer's kind comes from where its values come from (the labels: a
// gradient) and who reads it (a kernel computed from the labels: kept for
// the backward pass; an optimizer update: a weight gradient). The kernels
// the precision passes add (statistics, rounding) are not the model's: they
// neither make a tensor nor keep one alive.
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/PrecisionTensors.h"

#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace dlc;

bool dlc::isOptimizerUpdate(exec::KernelOp kernel) {
  return kernel.getCallee() == "sgdUpdate" || kernel.getCallee() == "adamUpdate";
}

DictionaryAttr dlc::describeSlot(Builder &builder, const PrecisionTensor &tensor,
                                 ArrayRef<NamedAttribute> extra) {
  auto type = cast<exec::BufferType>(tensor.buffer.getType());
  SmallVector<NamedAttribute> members = {
      builder.getNamedAttr("name", builder.getStringAttr(tensor.name)),
      builder.getNamedAttr("kind", builder.getStringAttr(tensor.kind)),
      builder.getNamedAttr("elements",
                           builder.getI64IntegerAttr(type.getNumElements()))};
  members.append(extra.begin(), extra.end());
  return builder.getDictionaryAttr(members);
}

namespace {
/// Kernels the precision passes insert.
bool isInstrumentation(exec::KernelOp kernel) {
  return kernel.getCallee() == kRoundKernel ||
         kernel.getCallee() == kPackKernel ||
         kernel.getCallee() == kUnpackKernel ||
         kernel.getCallee() == "recordStatistics";
}

/// The buffer behind a kernel's `index`th call argument, a pointer.
Value pointerOperand(exec::KernelOp kernel, unsigned index) {
  auto args = kernel.getArgs();
  if (!args || args->size() <= index)
    return Value();
  auto ptr = dyn_cast<exec::PointerAttr>((*args)[index]);
  return ptr ? kernel.getBuffers()[ptr.getOperand()] : Value();
}

/// Where a buffer's bytes are: its storage and the offset in it (a bucket
/// of gradients is one storage, each gradient a view at its own offset).
std::pair<Value, int64_t> placeOf(Value buffer) {
  return {exec::storageOf(buffer), exec::byteOffsetInStorage(buffer)};
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

/// Whether a model kernel after `writer` reads `buffer`.
bool isReadLater(exec::KernelOp writer, Value buffer) {
  for (Operation *op = writer->getNextNode(); op; op = op->getNextNode())
    if (auto kernel = dyn_cast<exec::KernelOp>(op))
      if (!isInstrumentation(kernel) &&
          llvm::is_contained(kernel.getInputs(), buffer))
        return true;
  return false;
}

/// Whether a model kernel computed from the labels reads `buffer`: the
/// backward pass keeps it (packed into its format, if so).
bool readByBackward(Block &body, Value buffer,
                    const DenseSet<Value> &gradients) {
  for (auto kernel : body.getOps<exec::KernelOp>())
    if (kernel.getCallee() == kPackKernel &&
        llvm::is_contained(kernel.getInputs(), buffer))
      return true;
    else if (!isInstrumentation(kernel) &&
        llvm::is_contained(kernel.getInputs(), buffer) &&
        llvm::any_of(kernel.getOutputs(), [&](Value output) {
          return gradients.contains(exec::storageOf(output));
        }))
      return true;
  return false;
}
} // namespace

SmallVector<PrecisionTensor> dlc::findPrecisionTensors(func::FuncOp step) {
  if (!step || step.isExternal() || step.getNumArguments() < 2)
    return {};
  Block &body = step.front();
  Value input = body.getArgument(0), labels = body.getArgument(1);
  DenseSet<Value> gradients = storageComputedFrom(body, labels);
  // The last model kernel that writes each transient storage (its final
  // value).
  DenseMap<Value, exec::KernelOp> lastWriter;
  for (auto kernel : body.getOps<exec::KernelOp>())
    if (!isInstrumentation(kernel))
      for (Value output : kernel.getOutputs())
        lastWriter[output] = kernel;
  auto transient = [](Value buffer) {
    return !exec::storageOf(buffer).getDefiningOp<exec::GlobalRefOp>();
  };

  // Weight gradients and their parameters, from the optimizer updates
  // (also those carried into the next step).
  DenseMap<std::pair<Value, int64_t>, std::string> weightGradients;
  llvm::SetVector<Attribute> parameters;
  SmallVector<std::pair<Value, std::string>> weights;
  step->walk([&](exec::KernelOp kernel) {
    if (!isOptimizerUpdate(kernel))
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
    weightGradients.insert({placeOf(gradient), name + ":grad"});
    if (parameters.insert(ref.getGlobalAttr()))
      weights.push_back({param, name});
  });

  SmallVector<PrecisionTensor> tensors;
  llvm::StringMap<int> uses;
  auto unique = [&](std::string name) {
    int n = uses[name]++;
    return n ? name + "#" + std::to_string(n) : name;
  };
  for (auto &[param, name] : weights)
    tensors.push_back({param, "weight", name, nullptr});
  // The data input: read by the first layer's weight gradient.
  tensors.push_back({input, "activation", "input", nullptr});
  DenseSet<Value> seen{input};
  for (auto kernel : body.getOps<exec::KernelOp>()) {
    // Constants (the loss's seed gradient) say nothing about the model.
    if (isOptimizerUpdate(kernel) || isInstrumentation(kernel) ||
        kernel.getCallee() == "fill")
      continue;
    bool isLoss = llvm::is_contained(kernel.getInputs(), labels);
    for (Value output : kernel.getOutputs()) {
      auto type = cast<exec::BufferType>(output.getType());
      if (!type.getElementType().isF32() || !transient(output) ||
          lastWriter.lookup(output) != kernel || !seen.insert(output).second)
        continue;
      std::string name = isLoss ? "loss" : onnxName(kernel.getLoc());
      if (name.empty())
        name = kernel.getCallee().str();
      if (auto it = weightGradients.find(placeOf(output));
          it != weightGradients.end()) {
        tensors.push_back({output, "weight_gradient", it->second, kernel});
        continue;
      }
      if (gradients.contains(exec::storageOf(output))) {
        if (isReadLater(kernel, output)) // not the loss, which nothing reads
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
