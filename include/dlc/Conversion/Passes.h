//===- Passes.h - dlc conversion passes -------------------------*- C++ -*-===//
//
// Lowerings out of the graph dialect, and the layout of the initial values
// they share with the driver.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_CONVERSION_PASSES_H
#define DLC_CONVERSION_PASSES_H

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <optional>
#include <vector>

namespace dlc {

#define GEN_PASS_DECL
#include "dlc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dlc/Conversion/Passes.h.inc"

/// Where each graph.variable's initial value sits in the data embedded in the
/// executable: one entry per variable in module order, a byte offset, or -1
/// for a variable that starts at zero. Values are float32, 64-byte aligned.
struct InitialValueLayout {
  std::vector<int64_t> offsets;
  int64_t size = 0;
};
mlir::FailureOr<InitialValueLayout> layoutInitialValues(mlir::ModuleOp module);

/// The bytes `layoutInitialValues` describes.
mlir::FailureOr<std::vector<char>> packInitialValues(mlir::ModuleOp module);

/// dlc-convert-graph-to-emitc keeps the packed initial values on the module
/// (a resource blob), so that a lowered module still carries them.
constexpr llvm::StringLiteral kInitialDataAttr = "dlc.initial_data";

/// The packed initial values a lowered module carries; none if it has none.
std::optional<llvm::ArrayRef<char>> initialData(mlir::ModuleOp module);

} // namespace dlc

#endif // DLC_CONVERSION_PASSES_H
