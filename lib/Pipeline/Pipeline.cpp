//===- Pipeline.cpp - dlc's pass pipeline, built in one place -------------===//

#include "dlc/Pipeline/Pipeline.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Target/Passes.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace dlc;

Stage dlc::stageOf(ModuleOp module) {
  if (!module.getOps<emitc::FuncOp>().empty())
    return Stage::Lowered;
  if (module->hasAttr(kArenaSizeAttr))
    return Stage::Planned;
  bool exec = false;
  module.walk([&](Operation *op) {
    exec |= isa<exec::ExecDialect>(op->getDialect());
    return exec ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (exec)
    return Stage::Exec;
  if (module.lookupSymbol("train_step"))
    return Stage::Training;
  return Stage::Imported;
}

void dlc::buildPipeline(OpPassManager &pm, const PipelineOptions &options,
                        Stage from, Stage to) {
  const TargetInfo &target = TargetInfo::get(options.target);
  if (from == Stage::Imported)
    buildGraphCleanupPipeline(pm);
  if (from < Stage::Training && to >= Stage::Training && !options.inference) {
    BuildTrainingGraphOptions training = options.training;
    training.fusedBatchNorm = target.fusedBatchNorm;
    pm.addPass(createBuildTrainingGraph(training));
    pm.addPass(createExpandInferenceForms());
    buildGraphCleanupPipeline(pm);
  }
  if (from < Stage::Exec && to >= Stage::Exec) {
    // What is left of batch norm and dropout (in @forward, or in a module
    // written before its training step) takes its inference form.
    pm.addPass(createExpandInferenceForms());
    ConvertGraphToExecOptions toExec;
    toExec.target = target.name.str();
    pm.addPass(createConvertGraphToExec(toExec));
    // Layouts first: oneDNN's workspaces depend on them (fewer reorders,
    // fewer layout copies).
    if (options.target == Target::Cpu) {
      AssignCpuLayoutsOptions layouts;
      layouts.block = options.cpuLayoutBlock;
      pm.addPass(createAssignCpuLayouts(layouts));
      // oneDNN says how much workspace each of its calls needs here.
      pm.addPass(createSizeCpuWorkspaces());
    }
  }
  if (from < Stage::Planned && to >= Stage::Planned) {
    // Under a budget, convolutions' layout copies shrink to their share.
    if (options.target == Target::Cpu && options.memoryBudget > 0) {
      SizeCpuWorkspacesOptions sizing;
      sizing.budget = options.memoryBudget;
      pm.addPass(createSizeCpuWorkspaces(sizing));
    }
    pm.addPass(createScheduleMemory());
    ScheduleCollectivesOptions collectives;
    collectives.overlap = options.overlap;
    collectives.commAlphaUs = options.commAlphaUs;
    collectives.commGbit = options.commGbit;
    collectives.runtimeBuckets = options.runtimeBuckets;
    collectives.nextForwardPeakLimit = options.nextForwardPeakLimit;
    // The rematerializer recomputes within one step only.
    if (options.memoryBudget > 0 && options.overlap == "next-forward")
      collectives.overlap = "backward";
    // Under a budget the rematerializer needs the bytes deferring takes.
    collectives.defer = options.memoryBudget == 0;
    pm.addPass(createScheduleCollectives(collectives));
    // Before in-place reuse: what writes over a tensor comes after it is
    // rounded and its statistics are read; rounding first, so that the
    // statistics are of the values the step keeps.
    bool adjustable = options.precision == "auto";
    if (options.precision != "fp32" || !options.precisionPlan.empty()) {
      AssignPrecisionOptions assign;
      assign.format = adjustable ? "fp32" : options.precision;
      assign.plan = options.precisionPlan;
      pm.addPass(createAssignPrecision(assign));
      LowerPrecisionOptions lower;
      lower.adjustable = adjustable;
      pm.addPass(createLowerPrecision(lower));
      // Convolutions on bf16 values take bf16 kernels, and their workspaces
      // change with them.
      if (options.target == Target::Cpu && !adjustable) {
        pm.addPass(createUseBf16Kernels());
        pm.addPass(createSizeCpuWorkspaces());
      }
    }
    // The trainer of an adjustable program calibrates on statistics.
    if (options.statistics || adjustable)
      pm.addPass(createInstrumentStatistics());
    if (options.memoryBudget > 0) {
      // The rematerializer measures peaks as the planner will see them:
      // with in-place reuse done (and done again for its copies).
      pm.addPass(createReuseInPlace());
      RematerializeOptions remat;
      remat.budget = options.memoryBudget;
      pm.addPass(createRematerialize(remat));
    }
    pm.addPass(createReuseInPlace());
    if (options.poisonFreed)
      pm.addPass(createPoisonFreed());
    PlanMemoryOptions plan;
    plan.budget = options.memoryBudget;
    pm.addPass(createPlanMemory(plan));
  }
  if (from < Stage::Lowered && to >= Stage::Lowered) {
    ConvertExecToEmitCOptions lowering;
    lowering.target = target.name.str();
    lowering.trainingConfig = options.trainingConfig;
    lowering.externalWeights = options.externalWeights;
    pm.addPass(createConvertExecToEmitC(lowering));
  }
}

namespace {
struct PipelineCLOptions : public PassPipelineOptions<PipelineCLOptions> {
  Option<Target> target{
      *this, "target", llvm::cl::desc("Code generation target"),
      llvm::cl::init(Target::Cpu),
      llvm::cl::values(clEnumValN(Target::Cpu, "cpu", "C++ on oneDNN"),
                       clEnumValN(Target::Cuda, "cuda", "CUDA C++"))};
  Option<Stage> stop{
      *this, "stop", llvm::cl::desc("Stage to stop at"),
      llvm::cl::init(Stage::Lowered),
      llvm::cl::values(
          clEnumValN(Stage::Training, "training", "the training step built"),
          clEnumValN(Stage::Exec, "exec", "in exec buffers and kernels"),
          clEnumValN(Stage::Planned, "planned",
                     "in exec, the memory planned"),
          clEnumValN(Stage::Lowered, "lowered", "lowered to EmitC"))};
  Option<bool> inference{*this, "inference",
                         llvm::cl::desc("Forward pass only (dlc run)"),
                         llvm::cl::init(false)};
  Option<Loss> loss{*this, "loss", llvm::cl::desc("Loss"),
                    llvm::cl::init(Loss::CrossEntropy), DLC_LOSS_VALUES};
  Option<Optimizer> optimizer{*this, "optimizer", llvm::cl::desc("Optimizer"),
                              llvm::cl::init(Optimizer::Sgd),
                              DLC_OPTIMIZER_VALUES};
  Option<float> lr{*this, "lr", llvm::cl::desc("Learning rate default"),
                   llvm::cl::init(0.01f)};
  Option<float> momentum{*this, "momentum",
                         llvm::cl::desc("SGD momentum default"),
                         llvm::cl::init(0.0f)};
};
} // namespace

void dlc::registerPipelines() {
  PassPipelineRegistration<PipelineCLOptions>(
      "dlc-pipeline",
      "dlc's whole pipeline, from a module's stage to the one asked for "
      "(what `dlc` runs)",
      [](OpPassManager &pm, const PipelineCLOptions &cl) {
        PipelineOptions options;
        options.target = cl.target;
        options.inference = cl.inference;
        options.training.loss = cl.loss;
        options.training.optimizer = cl.optimizer;
        options.training.learningRate = cl.lr;
        options.training.momentum = cl.momentum;
        // dlc-opt hands over an imported module.
        buildPipeline(pm, options, Stage::Imported, cl.stop);
      });
}
