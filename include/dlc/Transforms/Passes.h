//===- Passes.h - dlc cross-dialect passes ----------------------*- C++ -*-===//
//
// Pass declarations and the pipelines the driver runs.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TRANSFORMS_PASSES_H
#define DLC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace dlc {

#define GEN_PASS_DECL
#include "dlc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dlc/Transforms/Passes.h.inc"

/// Graph clean-up run right after import: canonicalize and CSE.
void buildGraphCleanupPipeline(mlir::OpPassManager &pm);

/// Forward graph -> training step -> memory plan.
void buildTrainingPipeline(mlir::OpPassManager &pm,
                           const BuildTrainingGraphOptions &options);

/// Names of the attributes PlanMemory writes: the byte offset of a
/// single-result op's result, of each result of a multi-result op, of each
/// function argument, and the arena's size.
constexpr llvm::StringLiteral kOffsetAttr = "dlc.offset";
constexpr llvm::StringLiteral kResultOffsetsAttr = "dlc.result_offsets";
constexpr llvm::StringLiteral kArgOffsetsAttr = "dlc.arg_offsets";
constexpr llvm::StringLiteral kArenaSizeAttr = "dlc.arena_size";

/// The module's dictionary of optimizer defaults (BuildTrainingGraph): the
/// optimizer's name, lr, momentum, weight_decay, beta1, beta2, eps.
constexpr llvm::StringLiteral kHyperparametersAttr = "dlc.hyperparameters";

} // namespace dlc

#endif // DLC_TRANSFORMS_PASSES_H
