//===- DlcImportFuzzer.cpp - libFuzzer target: raw bytes into the importer ===//
//
// Every input is handed to the ONNX importer as a model file twice: as `dlc`
// imports it for training, then (when it imports) through the graph
// cleanup, training-graph and memory-planning passes; and as `dlc run`
// imports it for inference (every graph input an argument), then through
// cleanup, the inference forms and the plan. Any crash, sanitizer report or
// uncaught exception is a bug: bad input must end in a diagnostic.
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
  StringRef bytes(reinterpret_cast<const char *>(data), size);
  for (bool inference : {false, true}) {
    dlc::OnnxImportOptions options;
    options.batchSize = 2;
    options.inference = inference;
    OwningOpRef<ModuleOp> module =
        dlc::importOnnxModel(context, bytes, "fuzz.onnx", options);
    if (!module)
      continue;
    PassManager pm(context);
    dlc::buildGraphCleanupPipeline(pm);
    if (inference) {
      pm.addPass(dlc::createExpandInferenceForms());
      pm.addPass(dlc::createPlanMemory());
    } else {
      dlc::buildTrainingPipeline(pm, dlc::BuildTrainingGraphOptions());
    }
    (void)pm.run(*module);
  }
  return 0;
}
