//===- AssignPrecision.cpp - a number format for each tensor that matters -===//
//
// One format for all (--precision), or each tensor's own from a plan
// (--precision-plan): the choice itself, from statistics, is the trainer's
// (lib/Runtime/Precision/Choice.h), which writes the plans this reads.
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/PrecisionTensors.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Runtime/Precision/Formats.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <optional>

namespace dlc {
#define GEN_PASS_DEF_ASSIGNPRECISION
#include "dlc/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;
namespace precision = dlc::rt::precision;

namespace {
struct Assignment {
  std::string format;
  int64_t exponent = 0;
};

/// A precision plan: each named tensor's format, and the one for the
/// tensors it leaves out (if it gives one).
struct Plan {
  llvm::StringMap<Assignment> tensors;
  std::optional<Assignment> fallback;
};

bool isFormat(StringRef name) {
  return precision::parseFormat(std::string_view(name.data(), name.size()))
      .has_value();
}

std::string formatNames() {
  return "fp32, bf16, fp16, fp8e4m3, fp8e5m2, int8, int16";
}

struct AssignPrecision : dlc::impl::AssignPrecisionBase<AssignPrecision> {
  using AssignPrecisionBase::AssignPrecisionBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>("train_step");
    SmallVector<PrecisionTensor> tensors = findPrecisionTensors(step);
    if (tensors.empty())
      return;
    std::optional<Plan> given;
    if (!plan.empty()) {
      given = readPlan(module);
      if (!given)
        return signalPassFailure();
    } else if (!isFormat(format)) {
      module.emitError() << "unknown number format '" << format
                         << "' (the formats: " << formatNames() << ")";
      return signalPassFailure();
    }

    Builder builder(module.getContext());
    SmallVector<Attribute> slots;
    SmallVector<std::string> missing;
    llvm::StringSet<> known;
    for (const PrecisionTensor &tensor : tensors) {
      known.insert(tensor.name);
      Assignment assignment{format, 0};
      if (given) {
        auto it = given->tensors.find(tensor.name);
        if (it != given->tensors.end())
          assignment = it->second;
        else if (given->fallback)
          assignment = *given->fallback;
        else
          missing.push_back(tensor.name);
      }
      slots.push_back(describeSlot(
          builder, tensor,
          {builder.getNamedAttr("format",
                                builder.getStringAttr(assignment.format)),
           builder.getNamedAttr("exponent",
                                builder.getI64IntegerAttr(assignment.exponent))}));
    }
    if (given && !checkCoverage(module, *given, known, missing))
      return signalPassFailure();
    module->setAttr("dlc.precision", builder.getArrayAttr(slots));
  }

  /// Whether the plan names the model's tensors, all of them (or has a
  /// default), and no others; an error naming them where not.
  bool checkCoverage(ModuleOp module, const Plan &given,
                     const llvm::StringSet<> &known,
                     ArrayRef<std::string> missing) {
    SmallVector<StringRef> unknown;
    for (const auto &entry : given.tensors)
      if (!known.contains(entry.getKey()))
        unknown.push_back(entry.getKey());
    llvm::sort(unknown);
    // The first few names, and how many more.
    auto list = [](auto names) {
      constexpr size_t kShown = 4;
      std::string text;
      for (auto [i, name] : llvm::enumerate(names)) {
        if (i == kShown) {
          text += " and " + std::to_string(names.size() - kShown) + " more";
          break;
        }
        text += (i ? ", '" : "'") + std::string(name) + "'";
      }
      return text;
    };
    if (!unknown.empty()) {
      module.emitError() << "precision plan " << plan << " names "
                         << list(unknown)
                         << ", which this model's training step does not "
                            "have (a plan written for another model, batch or "
                            "set of flags?)";
      return false;
    }
    if (!missing.empty()) {
      module.emitError() << "precision plan " << plan << " leaves out "
                         << list(missing)
                         << ", and gives no \"default\" format for them";
      return false;
    }
    return true;
  }

  /// One plan entry's format and exponent, or an error naming the entry.
  std::optional<Assignment> readAssignment(ModuleOp module,
                                           const llvm::json::Object &entry,
                                           StringRef what) {
    std::optional<StringRef> name = entry.getString("format");
    if (!name || !isFormat(*name)) {
      module.emitError() << "precision plan " << plan << ": " << what
                         << " has "
                         << (name ? "the unknown format '" + name->str() + "'"
                                  : std::string("no \"format\""))
                         << " (the formats: " << formatNames() << ")";
      return std::nullopt;
    }
    Assignment assignment{name->str(), 0};
    if (const llvm::json::Value *exponent = entry.get("exponent")) {
      precision::Format format =
          *precision::parseFormat(std::string_view(name->data(), name->size()));
      int lowest = precision::lowestExponent(format),
          highest = precision::highestExponent(format);
      std::optional<int64_t> value = exponent->getAsInteger();
      if (!value || *value < lowest || *value > highest) {
        module.emitError() << "precision plan " << plan << ": " << what
                           << " has an exponent that is not an integer in ["
                           << lowest << ", " << highest << "], the exponents "
                           << *name << " may be scaled by";
        return std::nullopt;
      }
      assignment.exponent = *value;
    }
    return assignment;
  }

  std::optional<Plan> readPlan(ModuleOp module) {
    auto file = llvm::MemoryBuffer::getFile(plan, /*IsText=*/true);
    if (!file) {
      module.emitError() << "cannot read the precision plan " << plan << ": "
                         << file.getError().message();
      return std::nullopt;
    }
    llvm::Expected<llvm::json::Value> json =
        llvm::json::parse((*file)->getBuffer());
    if (!json) {
      module.emitError() << "precision plan " << plan << " is not JSON: "
                         << llvm::toString(json.takeError());
      return std::nullopt;
    }
    const llvm::json::Object *root = json->getAsObject();
    const llvm::json::Array *entries = root ? root->getArray("tensors") : nullptr;
    if (!entries) {
      module.emitError() << "precision plan " << plan
                         << " has no \"tensors\" array";
      return std::nullopt;
    }
    Plan result;
    if (std::optional<StringRef> fallback = root->getString("default")) {
      llvm::json::Object entry{{"format", *fallback}};
      result.fallback = readAssignment(module, entry, "\"default\"");
      if (!result.fallback)
        return std::nullopt;
    }
    for (auto [index, value] : llvm::enumerate(*entries)) {
      const llvm::json::Object *entry = value.getAsObject();
      std::optional<StringRef> name =
          entry ? entry->getString("name") : std::nullopt;
      if (!name) {
        module.emitError() << "precision plan " << plan << ": tensors[" << index
                           << "] has no \"name\"";
        return std::nullopt;
      }
      std::optional<Assignment> assignment =
          readAssignment(module, *entry, "'" + name->str() + "'");
      if (!assignment)
        return std::nullopt;
      if (!result.tensors.try_emplace(*name, *assignment).second) {
        module.emitError() << "precision plan " << plan << " names '" << *name
                           << "' twice";
        return std::nullopt;
      }
    }
    return result;
  }
};
} // namespace
