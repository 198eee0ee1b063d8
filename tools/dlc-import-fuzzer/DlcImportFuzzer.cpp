//===- DlcImportFuzzer.cpp - libFuzzer target: raw bytes into the importer ===//
//
// Every input is handed to the ONNX importer as a model file, then (when it
// imports) through the graph cleanup, training-graph and memory-planning
// passes, as `dlc` would. Any crash, sanitizer report or uncaught exception
// is a bug: bad input must end in a diagnostic.
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/OnnxImporter.h"
#include "dlc/InitAllDialects.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <cstddef>
#include <cstdint>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static MLIRContext *context = [] {
    DialectRegistry registry;
    dlc::registerAllDialects(registry);
    auto *created = new MLIRContext(registry);
    created->loadAllAvailableDialects();
    // Diagnostics are the expected outcome; keep them off the terminal.
    created->getDiagEngine().registerHandler([](Diagnostic &) {});
    created->disableMultithreading();
    return created;
  }();
  dlc::OnnxImportOptions options;
  options.batchSize = 2;
  OwningOpRef<ModuleOp> module = dlc::importOnnxModel(
      context,
      StringRef(reinterpret_cast<const char *>(data), size), "fuzz.onnx",
      options);
  if (!module)
    return 0;
  PassManager pm(context);
  dlc::buildGraphCleanupPipeline(pm);
  dlc::buildTrainingPipeline(pm, dlc::BuildTrainingGraphOptions());
  (void)pm.run(*module);
  return 0;
}
