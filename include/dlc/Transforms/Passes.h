//===- Passes.h - dlc cross-dialect passes ----------------------*- C++ -*-===//
//
// Pass declarations and the pipelines the driver runs.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TRANSFORMS_PASSES_H
#define DLC_TRANSFORMS_PASSES_H

#include "dlc/Transforms/TrainingOptions.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace dlc {

#define GEN_PASS_DECL
#include "dlc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dlc/Transforms/Passes.h.inc"

/// Why `options` cannot build a training step (a learning rate that is not
/// positive, a beta outside [0, 1), ...), naming the option as `dlc`'s flag
/// and the pass's option spell it; nothing when they can.
std::optional<std::string>
checkTrainingOptions(const BuildTrainingGraphOptions &options);

/// Graph clean-up run right after import: canonicalize and CSE.
void buildGraphCleanupPipeline(mlir::OpPassManager &pm);

/// Forward graph -> training step -> memory plan.
void buildTrainingPipeline(mlir::OpPassManager &pm,
                           const BuildTrainingGraphOptions &options);

/// What PlanMemory writes besides the buffers' own `offset`s: the byte
/// offset of each function argument, and the arena's size.
constexpr llvm::StringLiteral kArgOffsetsAttr = "dlc.arg_offsets";
constexpr llvm::StringLiteral kArenaSizeAttr = "dlc.arena_size";
/// Operations added by dlc-rematerialize, on the module.
constexpr llvm::StringLiteral kRecomputedFlopsAttr = "dlc.recomputed_flops";

/// The module's dictionary of optimizer defaults (BuildTrainingGraph): the
/// optimizer's name, lr, momentum, weight_decay, beta1, beta2, eps.
constexpr llvm::StringLiteral kHyperparametersAttr = "dlc.hyperparameters";

} // namespace dlc

#endif // DLC_TRANSFORMS_PASSES_H
