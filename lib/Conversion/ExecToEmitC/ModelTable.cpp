//===- ModelTable.cpp - dlc_model, the table the trainer reads ------------===//
//
// Every field is written by name (C++20 designated initializers), so the
// compiler checks the table against dlc/Runtime/Model.h.
//
//===----------------------------------------------------------------------===//

#include "ProgramBuilder.h"
#include "dlc/Target/InitialValues.h"
#include "dlc/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace dlc;

namespace {
std::string cString(StringRef text) {
  std::string escaped;
  llvm::raw_string_ostream os(escaped);
  os << '"';
  os.write_escaped(text);
  os << '"';
  return escaped;
}

/// The runtime's ElementType enumerator for a buffer's element type.
std::string elementType(exec::BufferType type) {
  Type element = type.getElementType();
  StringRef name = element.isF32()            ? "F32"
                   : element.isF16()          ? "F16"
                   : element.isBF16()         ? "BF16"
                   : element.isInteger(32)    ? "I32"
                                              : "I8";
  return ("dlc::rt::ElementType::" + name).str();
}

/// A Hyperparameters initializer from the module's optimizer defaults.
std::string hyperparameterDefaults(ModuleOp module) {
  auto hyper = module->getAttrOfType<DictionaryAttr>(kHyperparametersAttr);
  if (!hyper)
    return "{}";
  auto number = [&](StringRef key) {
    auto value = hyper.getAs<FloatAttr>(key);
    return llvm::formatv("{0:e9}f", value ? value.getValueAsDouble() : 0.0)
        .str();
  };
  auto name = hyper.getAs<StringAttr>("optimizer");
  StringRef optimizer = name ? name.getValue() : "sgd";
  return llvm::formatv(
             "{{.optimizer = dlc::rt::Optimizer::{0}, .lr = {1}, "
             ".momentum = {2}, .weightDecay = {3}, .beta1 = {4}, "
             ".beta2 = {5}, .eps = {6}, .step = 1}",
             optimizer == "adam"    ? "Adam"
             : optimizer == "adamw" ? "AdamW"
                                    : "Sgd",
             number("lr"), number("momentum"), number("weight_decay"),
             number("beta1"), number("beta2"), number("eps"))
      .str();
}

/// A table of the tensors a module attribute lists (dlc.statistics,
/// dlc.precision: name, kind, elements, and what `extra` adds), as the
/// C array `global` of `type`; how many it has (0: no table).
int tensorTable(ModuleOp module, OpBuilder &tables, StringRef attribute,
                StringRef global, StringRef type,
                llvm::function_ref<std::string(DictionaryAttr)> extra) {
  auto slots = module->getAttrOfType<ArrayAttr>(attribute);
  if (!slots || slots.empty())
    return 0;
  std::string table;
  llvm::raw_string_ostream text(table);
  int count = 0;
  for (auto slot : slots.getAsRange<DictionaryAttr>())
    text << (count++ ? ", " : "") << "{.name = "
         << cString(slot.getAs<StringAttr>("name").getValue())
         << ", .kind = " << cString(slot.getAs<StringAttr>("kind").getValue())
         << ", .numElements = " << slot.getAs<IntegerAttr>("elements").getInt()
         << extra(slot) << "}";
  MLIRContext *ctx = module.getContext();
  emitc::GlobalOp::create(
      tables, module.getLoc(), global,
      emitc::ArrayType::get({count}, emitc::OpaqueType::get(ctx, type)),
      emitc::OpaqueAttr::get(ctx, "{" + table + "}"), false, true, true);
  return count;
}
} // namespace

LogicalResult dlc::buildModelTable(ModuleOp module, ProgramBuilder &program,
                                   ArrayRef<int64_t> initialOffsets,
                                   StringRef trainingConfig,
                                   uint64_t programHash) {
  MLIRContext *ctx = module.getContext();
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  auto train = module.lookupSymbol<func::FuncOp>("train_step");
  OpBuilder tables = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  auto shapeOf = [&](Value buffer) -> std::string {
    auto type = cast<exec::BufferType>(buffer.getType());
    return type.getShape().empty() ? "nullptr"
                                   : program.arrayGlobal(type.getShape()).str();
  };
  auto rankOf = [](Value buffer) {
    return cast<exec::BufferType>(buffer.getType()).getShape().size();
  };

  // Globals that training writes and that came from the ONNX model are what
  // --save puts back into it.
  DenseSet<StringAttr> written = writtenGlobals(module);
  std::string variables;
  llvm::raw_string_ostream os(variables);
  int numVariables = 0;
  for (auto [global, initOffset] :
       llvm::zip(module.getOps<exec::GlobalOp>(), initialOffsets)) {
    std::optional<StringRef> name = global.getOnnxName();
    exec::BufferType type = global.getBufferType();
    os << (numVariables++ ? ", " : "") << "{"
       << ".onnxName = " << (name ? cString(*name) : "nullptr")
       << ", .arenaOffset = " << *global.getOffset()
       << ", .numElements = " << type.getNumElements()
       << ", .elementType = " << elementType(type) << ", .shape = "
       << (type.getShape().empty() ? StringRef("nullptr")
                                   : program.arrayGlobal(type.getShape()))
       << ", .rank = " << type.getShape().size()
       << ", .initOffset = " << initOffset << ", .saved = "
       << (name && written.contains(global.getSymNameAttr()) ? "true"
                                                             : "false")
       << "}";
  }
  auto infoType = emitc::OpaqueType::get(ctx, "dlc::rt::VariableInfo");
  if (numVariables)
    emitc::GlobalOp::create(tables, loc, "dlc_variables",
                            emitc::ArrayType::get({numVariables}, infoType),
                            emitc::OpaqueAttr::get(ctx, "{" + variables + "}"),
                            /*extern_specifier=*/false,
                            /*static_specifier=*/true,
                            /*const_specifier=*/true);

  // Slots of @forward's inputs and outputs, named as the ONNX graph names
  // them (the importer records the names).
  auto slots = [&](StringRef global, ValueRange values, StringRef namesAttr) {
    auto names = forward->getAttrOfType<ArrayAttr>(namesAttr);
    std::string init;
    llvm::raw_string_ostream text(init);
    text << "{";
    for (auto [i, value] : llvm::enumerate(values)) {
      StringRef name = names && i < names.size()
                           ? cast<StringAttr>(names[i]).getValue()
                           : StringRef();
      text << (i ? ", " : "") << "{.name = " << cString(name)
           << ", .arenaOffset = " << program.offsetOf(value)
           << ", .elementType = "
           << elementType(cast<exec::BufferType>(value.getType()))
           << ", .shape = " << shapeOf(value) << ", .rank = " << rankOf(value)
           << "}";
    }
    text << "}";
    emitc::GlobalOp::create(
        tables, loc, global,
        emitc::ArrayType::get({(int64_t)values.size()},
                              emitc::OpaqueType::get(ctx, "dlc::rt::TensorSlot")),
        emitc::OpaqueAttr::get(ctx, init), false, true, true);
  };
  ValueRange outputs = forward.front().getTerminator()->getOperands();
  slots("dlc_forward_inputs", forward.getArguments(), "dlc.input_names");
  slots("dlc_forward_outputs", outputs, "dlc.output_names");

  // A model may have no input at all (`dlc run` on constants).
  bool hasInput = forward.getNumArguments() > 0;
  auto outputType = cast<exec::BufferType>(outputs.front().getType());
  auto source = module->getAttrOfType<StringAttr>("dlc.source");
  bool hasVelocity = false;
  module.walk([&](exec::KernelOp kernel) {
    hasVelocity |=
        kernel.getCallee() == "sgdUpdate" && kernel.getOutputs().size() == 2;
  });
  std::string trainFields =
      train ? llvm::formatv(".trainStep = trainStep, .trainInputOffset = {0}, "
                            ".trainLabelsOffset = {1}, .trainLossOffset = {2}",
                            program.offsetOf(train.getArgument(0)),
                            program.offsetOf(train.getArgument(1)),
                            program.offsetOf(
                                train.front().getTerminator()->getOperand(0)))
                  .str()
            : ".trainStep = nullptr";
  trainFields += train && !train.front().getOps<exec::CarriedOp>().empty()
                     ? ", .flushCarried = flushCarried"
                     : ", .flushCarried = nullptr";
  // dlc --tensor-stats: the tensors recordStatistics names by slot.
  int numStatistics = tensorTable(
      module, tables, "dlc.statistics", "dlc_statistics",
      "dlc::rt::StatisticsTensor", [](DictionaryAttr) { return ""; });
  // dlc --precision: the tensors roundToFormat names by slot.
  int numPrecision = tensorTable(
      module, tables, "dlc.precision", "dlc_precision",
      "dlc::rt::PrecisionSlot", [](DictionaryAttr slot) {
        return llvm::formatv(
                   ", .format = {0}, .exponent = {1}",
                   cString(slot.getAs<StringAttr>("format").getValue()),
                   slot.getAs<IntegerAttr>("exponent").getInt())
            .str();
      });
  std::string model = llvm::formatv(
      "{{.sourceFile = {0}, .trainingConfig = {1}, .arenaBytes = {2}, "
      ".inputShape = {3}, .inputRank = {4}, .numClasses = {5}, {6}, "
      ".forward = forward, .forwardInputOffset = {7}, "
      ".forwardOutputOffset = {8}, .variables = {9}, .numVariables = {10}, "
      ".forwardInputs = dlc_forward_inputs, .numForwardInputs = {11}, "
      ".forwardOutputs = dlc_forward_outputs, .numForwardOutputs = {12}, "
      ".defaults = {13}, .hasVelocity = {14}, .programHash = {15}ULL, "
      ".statistics = {16}, .numStatistics = {17}, .precision = {18}, "
      ".numPrecision = {19}, .adjustableFormats = {20}}",
      cString(source ? source.getValue() : ""), cString(trainingConfig),
      module->getAttrOfType<IntegerAttr>(kArenaSizeAttr).getInt(),
      hasInput ? shapeOf(forward.getArgument(0)) : "nullptr",
      hasInput ? rankOf(forward.getArgument(0)) : 0,
      outputType.getShape().size() == 2 ? outputType.getShape()[1] : 0,
      trainFields, hasInput ? program.offsetOf(forward.getArgument(0)) : 0,
      program.offsetOf(outputs.front()),
      numVariables ? "dlc_variables" : "nullptr", numVariables,
      forward.getNumArguments(), outputs.size(), hyperparameterDefaults(module),
      hasVelocity ? "true" : "false", programHash,
      numStatistics ? "dlc_statistics" : "nullptr", numStatistics,
      numPrecision ? "dlc_precision" : "nullptr", numPrecision,
      module->hasAttr("dlc.precision_adjustable") ? "true" : "false");
  emitc::GlobalOp::create(tables, loc, "dlc_model",
                          emitc::OpaqueType::get(ctx, "dlc::rt::ModelInfo"),
                          emitc::OpaqueAttr::get(ctx, model),
                          /*extern_specifier=*/false,
                          /*static_specifier=*/false,
                          /*const_specifier=*/true);
  return success();
}
