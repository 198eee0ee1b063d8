//===- BufferLiveness.h - when each buffer of a step holds data -*- C++ -*-===//
//
// Over one block of exec operations, in their order (the schedule): which
// bytes each buffer value uses (views alias their source:
// exec::storageOf) and from which
// operation to which its contents must survive. The memory planner places
// buffers from this; the memory-minimising scheduler will compare orders
// by it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_ANALYSIS_BUFFERLIVENESS_H
#define DLC_ANALYSIS_BUFFERLIVENESS_H

#include "dlc/Analysis/ArenaPlacement.h"
#include "mlir/IR/Block.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

namespace dlc {

/// Every buffer of the arena starts at a multiple of this many bytes and
/// takes a multiple of it.
constexpr int64_t kArenaAlignment = 64;

/// `buffer`'s size in bytes, rounded up to kArenaAlignment.
int64_t alignedBytes(mlir::Value buffer);

/// The arena bytes of `module`'s globals (parameters, optimizer state), each
/// rounded up to kArenaAlignment: what a memory budget leaves the steps is
/// the budget less this.
int64_t globalBytes(mlir::ModuleOp module);

class BufferLiveness {
public:
  /// Bytes of `root` must survive from operation `first` to operation
  /// `last` (positions in the block; block arguments start at -1, an
  /// allocation at its first use, not at its `exec.alloc`). A buffer
  /// carried into the next step lives on to the end of the step (`last`)
  /// and, in the next, from its start (-1) to its exec.carried
  /// (`carriedUntil`).
  struct Interval {
    mlir::Value root;
    int64_t sizeInBytes;
    int64_t first, last;
    int64_t carriedUntil = kNotCarried;
    bool carried() const { return carriedUntil != kNotCarried; }
    bool isLiveAt(int64_t position) const {
      return (first <= position && position <= last) ||
             (carried() && position <= carriedUntil);
    }
  };

  explicit BufferLiveness(mlir::Block &block);

  /// The transient buffers (allocations and block arguments; globals live
  /// for the whole run), in order of their first position. A buffer that
  /// an asynchronous operation works on stays live until its wait (to the
  /// end of the step when the wait is in the next: exec.carried); a
  /// returned buffer until the terminator.
  llvm::ArrayRef<Interval> getIntervals() const { return intervals; }

  /// The largest total of transient bytes live at one position, each
  /// buffer's size rounded up to `alignment`: no placement of these
  /// intervals at offsets aligned so needs less.
  int64_t getPeakBytes(int64_t alignment = 1) const {
    return getPeak(alignment).bytes;
  }
  /// The first position where that many bytes are live, and the bytes.
  struct Peak {
    int64_t position, bytes;
  };
  Peak getPeak(int64_t alignment = 1) const;
  /// The bytes live at each position 0 .. `positions` - 1, each buffer's
  /// size rounded up to `alignment` (block arguments counted from 0).
  llvm::SmallVector<int64_t> getLiveBytes(int64_t positions,
                                          int64_t alignment = 1) const;

private:
  llvm::SmallVector<Interval> intervals;
};

/// What the arena placer (ArenaPlacement.h) is asked for `intervals`, in
/// their order: each size rounded up to kArenaAlignment, aligned as its
/// allocation asks (at least kArenaAlignment).
llvm::SmallVector<PlacementRequest>
placementRequests(llvm::ArrayRef<BufferLiveness::Interval> intervals);

} // namespace dlc

#endif // DLC_ANALYSIS_BUFFERLIVENESS_H
