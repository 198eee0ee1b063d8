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
#include "llvm/ADT/DenseSet.h"

#include <optional>
#include <vector>

namespace dlc {

/// The initial values of a module's exec.globals, packed as the executable
/// embeds them: `offsets` has one entry per global in module order, the
/// byte offset of its value in `bytes` (64-byte aligned), -1 for a global
/// that starts at zero, or -2 for one whose value the trainer reads at run
/// time (dlc::rt::kZeroInit and kInitAtRunTime).
struct PackedInitialValues {
  std::vector<int64_t> offsets;
  std::vector<char> bytes;
};
/// With `external`, the trained globals that come from an ONNX initializer
/// (parameters, running statistics: written by a kernel) are left out: -2.
mlir::FailureOr<PackedInitialValues> packInitialValues(mlir::ModuleOp module,
                                                       bool external = false);

/// The globals some kernel writes: parameters, running statistics and
/// optimizer state.
llvm::DenseSet<mlir::StringAttr> writtenGlobals(mlir::ModuleOp module);

/// dlc-convert-exec-to-emitc keeps the packed initial values on the module
/// (a resource blob), so that a lowered module still carries them.
constexpr llvm::StringLiteral kInitialDataAttr = "dlc.initial_data";

/// The packed initial values a lowered module carries; none if it has none.
std::optional<llvm::ArrayRef<char>> initialData(mlir::ModuleOp module);

} // namespace dlc

#endif // DLC_TARGET_INITIALVALUES_H
