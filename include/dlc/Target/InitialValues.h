//===- InitialValues.h - the variables' initial values, packed --*- C++ -*-===//
//
// The executable embeds every variable's initial value once, packed in the
// layout `dlc_model`'s variable table points into. The lowering packs them
// and keeps them on the module, so that a lowered module still carries
// them.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_INITIALVALUES_H
#define DLC_TARGET_INITIALVALUES_H

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <vector>

namespace dlc {

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

#endif // DLC_TARGET_INITIALVALUES_H
