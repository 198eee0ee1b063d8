//===- dlc-opt.cpp - dlc's optimizer driver -------------------------------===//
//
// mlir-opt with dlc's dialects and passes: runs any pass alone for tests.
//
//===----------------------------------------------------------------------===//

#include "dlc/InitAllDialects.h"
#include "dlc/InitAllPasses.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  dlc::registerAllDialects(registry);
  dlc::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "dlc optimizer driver\n", registry));
}
