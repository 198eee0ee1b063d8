//===- MemoryReport.cpp - where a planned step's bytes go -----------------===//

#include "dlc/Transforms/MemoryReport.h"
#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Analysis/ExecDependences.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace dlc;

namespace {

/// The op's name in the timeline: a kernel's callee, else the op's name.
std::string describe(Operation &op) {
  if (auto kernel = dyn_cast<exec::KernelOp>(op))
    return kernel.getCallee().str();
  return op.getName().stripDialect().str();
}

/// Operations that run (the rest only name buffers).
bool runs(Operation &op) {
  return isa<exec::KernelOp, exec::AllReduceStartOp, exec::WaitOp,
             exec::CarriedOp>(op);
}

void addTimeline(func::FuncOp step, MemoryReport &report) {
  Block &body = step.front();
  BufferLiveness liveness(body);
  // The step takes (data, labels): what is computed from the labels is
  // the loss and its gradients; the labels themselves count as input,
  // with the activations.
  llvm::DenseSet<Value> gradients;
  if (body.getNumArguments() >= 2)
    gradients = storageComputedFrom(body, body.getArgument(1));
  llvm::DenseSet<Value> scratch;
  for (auto kernel : body.getOps<exec::KernelOp>())
    for (Value buffer : kernel.getScratch())
      scratch.insert(exec::storageOf(buffer));

  for (auto [position, op] : llvm::enumerate(body)) {
    if (!runs(op))
      continue;
    MemoryReport::Point point;
    point.op = describe(op);
    for (const BufferLiveness::Interval &interval : liveness.getIntervals()) {
      if (!interval.isLiveAt(position))
        continue;
      int64_t &kind = scratch.contains(interval.root)     ? point.scratch
                      : gradients.contains(interval.root) ? point.gradients
                                                          : point.activations;
      kind += llvm::alignTo(interval.sizeInBytes, kArenaAlignment);
    }
    report.timeline.push_back(std::move(point));
  }
  // Naive: every buffer its own bytes, including the outputs that
  // dlc-reuse-in-place wrote over a transient input.
  for (const BufferLiveness::Interval &interval : liveness.getIntervals())
    report.naiveBytes += llvm::alignTo(interval.sizeInBytes, kArenaAlignment);
  for (auto kernel : body.getOps<exec::KernelOp>()) {
    std::optional<ArrayRef<int64_t>> inPlace = kernel.getInPlace();
    if (!inPlace)
      continue;
    for (auto [output, input] : llvm::zip(kernel.getOutputs(), *inPlace))
      if (input >= 0 && !exec::storageOf(output).getDefiningOp<exec::GlobalRefOp>())
        report.naiveBytes += llvm::alignTo(
            cast<exec::BufferType>(output.getType()).getSizeInBytes(),
            kArenaAlignment);
  }
}
} // namespace

FailureOr<MemoryReport> dlc::computeMemoryReport(ModuleOp module) {
  auto arena = module->getAttrOfType<IntegerAttr>(kArenaSizeAttr);
  if (!arena)
    return module.emitError("the memory report needs a planned module "
                            "(after dlc-plan-memory)");
  MemoryReport report;
  report.arenaBytes = arena.getInt();
  if (auto flops = module->getAttrOfType<IntegerAttr>(kRecomputedFlopsAttr))
    report.recomputedFlops = flops.getInt();
  int64_t globals = 0;
  for (auto global : module.getOps<exec::GlobalOp>()) {
    int64_t bytes =
        llvm::alignTo(global.getBufferType().getSizeInBytes(), kArenaAlignment);
    (global.getOnnxName() ? report.parameterBytes
                          : report.optimizerStateBytes) += bytes;
    globals += bytes;
  }
  int64_t peak = 0;
  for (auto func : module.getOps<func::FuncOp>())
    peak = std::max(peak, BufferLiveness(func.front()).getPeakBytes(kArenaAlignment));
  report.lowerBoundBytes = globals + peak;
  report.naiveBytes = globals;
  if (auto step = module.lookupSymbol<func::FuncOp>("train_step"))
    addTimeline(step, report);
  return report;
}

llvm::json::Value MemoryReport::toJSON() const {
  llvm::json::Array points;
  for (const Point &point : timeline)
    points.push_back(llvm::json::Object{{"op", point.op},
                                        {"activations", point.activations},
                                        {"gradients", point.gradients},
                                        {"scratch", point.scratch}});
  return llvm::json::Object{
      {"naive_bytes", naiveBytes},
      {"arena_bytes", arenaBytes},
      {"lower_bound_bytes", lowerBoundBytes},
      {"parameter_bytes", parameterBytes},
      {"optimizer_state_bytes", optimizerStateBytes},
      {"recomputed_flops", recomputedFlops},
      {"timeline", std::move(points)},
  };
}
