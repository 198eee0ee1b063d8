//===- MemoryReport.h - where a planned step's bytes go ---------*- C++ -*-===//
//
// What `dlc --report-memory FILE.json` writes: the arena the plan needs
// against two references (every buffer its own bytes, as Caffe allocated;
// the lower bound of any placement for this order of operations), what
// the globals hold, and a timeline of the live bytes of the training step,
// one point per operation, by kind.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TRANSFORMS_MEMORYREPORT_H
#define DLC_TRANSFORMS_MEMORYREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace dlc {

struct MemoryReport {
  /// Globals plus every buffer of @train_step in bytes of its own.
  int64_t naiveBytes = 0;
  /// The planned arena (`dlc.arena_size`).
  int64_t arenaBytes = 0;
  /// Globals plus the most bytes live at once in any function: no
  /// placement of this schedule needs less. Every size here is rounded up
  /// to the 64 bytes every buffer is aligned to.
  int64_t lowerBoundBytes = 0;
  /// The model's own globals (weights, biases, batch-norm statistics:
  /// those with an ONNX name) and the optimizer's (the rest).
  int64_t parameterBytes = 0;
  int64_t optimizerStateBytes = 0;
  /// Floating-point operations added by recomputation.
  int64_t recomputedFlops = 0;

  /// The transient bytes of @train_step live while one operation runs:
  /// activations (the inputs and what is computed from the data alone),
  /// gradients (what is computed from the labels: the loss and everything
  /// back-propagated from it) and kernels' scratch.
  struct Point {
    std::string op;
    int64_t activations = 0, gradients = 0, scratch = 0;
  };
  std::vector<Point> timeline;

  llvm::json::Value toJSON() const;
};

/// The report of a module the memory planner has placed; fails (with a
/// diagnostic) on one it has not.
mlir::FailureOr<MemoryReport> computeMemoryReport(mlir::ModuleOp module);

} // namespace dlc

#endif // DLC_TRANSFORMS_MEMORYREPORT_H
