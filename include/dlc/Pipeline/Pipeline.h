//===- Pipeline.h - dlc's pass pipeline, built in one place -----*- C++ -*-===//
//
// `dlc`, `dlc run` and `dlc-opt -dlc-pipeline` all build their passes here:
// from whatever stage a module is at to the stage asked for, with the
// target's knowledge in one TargetInfo.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_PIPELINE_PIPELINE_H
#define DLC_PIPELINE_PIPELINE_H

#include "dlc/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace dlc {

enum class Target { Cpu, Cuda };

/// What one code-generation target can do.
struct TargetInfo {
  Target target;
  /// The name `--target=` takes and the lowering's `target` option.
  llvm::StringRef name;
  /// Whether the runtime has fused batch-norm training kernels (otherwise
  /// the training step spells batch norm out in arithmetic).
  bool fusedBatchNorm;

  static const TargetInfo &get(Target target);
};

/// Where a module stands: as imported, with its training step, with its
/// memory plan, lowered to EmitC.
enum class Stage { Imported, Training, Planned, Lowered };

/// The stage `module` was written at.
Stage stageOf(mlir::ModuleOp module);

struct PipelineOptions {
  Target target = Target::Cpu;
  /// `dlc run`: the forward pass only, no training step.
  bool inference = false;
  /// Loss, optimizer and hyperparameter defaults, batch-norm and dropout
  /// modes (fused-batchnorm is the target's).
  BuildTrainingGraphOptions training;
  /// What the trainer prints about the compile options.
  std::string trainingConfig;
};

/// Adds to `pm` the passes that take a module at stage `from` to stage
/// `to` (nothing when it is there already).
void buildPipeline(mlir::OpPassManager &pm, const PipelineOptions &options,
                   Stage from, Stage to);

/// Registers `-dlc-pipeline` (the whole pipeline, with its options) for
/// dlc-opt.
void registerPipelines();

} // namespace dlc

#endif // DLC_PIPELINE_PIPELINE_H
