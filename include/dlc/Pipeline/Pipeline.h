//===- Pipeline.h - dlc's pass pipeline, built in one place -----*- C++ -*-===//
//
// `dlc`, `dlc run` and `dlc-opt -dlc-pipeline` all build their passes here:
// from whatever stage a module is at to the stage asked for, with the
// target's knowledge in one TargetInfo.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_PIPELINE_PIPELINE_H
#define DLC_PIPELINE_PIPELINE_H

#include "dlc/Target/TargetInfo.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace dlc {

/// Where a module stands: as imported (graph), with its training step
/// (graph), in buffers and kernels (exec), with its memory plan (exec),
/// lowered to EmitC.
enum class Stage { Imported, Training, Exec, Planned, Lowered };

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
  /// Debugging: NaNs over each buffer after its last use
  /// (dlc-poison-freed).
  bool poisonFreed = false;
  /// Kernels that record where the values of the tensors a precision
  /// choice needs fall (dlc-instrument-statistics; the trainer's
  /// --stats-every gathers them).
  bool statistics = false;
  /// The number format of every tensor that matters ("fp32": no rounding;
  /// "auto": the trainer chooses from calibration statistics), or, where
  /// `precisionPlan` names a file, each one's from that plan
  /// (dlc-assign-precision, dlc-lower-precision).
  std::string precision = "fp32";
  std::string precisionPlan;
  /// The CPU target's channel block for activations between oneDNN's
  /// kernels (dlc-assign-cpu-layouts): 16, 8, 0 (NCHW) or -1 (what oneDNN
  /// picks on this machine).
  int64_t cpuLayoutBlock = -1;
  /// Bytes the arena may take, recomputing values to fit (0: no budget).
  int64_t memoryBudget = 0;
  /// The executable leaves out the parameters' initial values; the trainer
  /// reads them from --init.
  bool externalWeights = false;
  /// Where gradients' allreduces go (dlc-schedule-collectives):
  /// "next-forward" (under a memory budget: "backward"), "backward",
  /// "backward-late" or "none".
  std::string overlap = "next-forward";
  /// The network the bucketing of next-forward's collectives assumes: the
  /// latency of one collective (microseconds; 0: no buckets) and the
  /// bandwidth (Gbit/s); with `runtimeBuckets`, neither: the trainer
  /// buckets by the link it measures at start-up.
  double commAlphaUs = 50.0, commGbit = 10.0;
  bool runtimeBuckets = false;
  /// With "next-forward": the most the step's peak of live bytes may grow
  /// over "backward"'s before the step waits within itself (0: no limit).
  double nextForwardPeakLimit = 0.0;
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
