//===- ArenaPlacement.h - offsets for buffers with live ranges --*- C++ -*-===//
//
// The offline dynamic-storage-allocation problem of a static arena: give
// each buffer (size, alignment, live range) an offset so that buffers live
// at the same time never overlap, in as few bytes as possible. It is
// NP-hard; the heuristics here are the ones production planners use
// (TFLite's ArenaPlanner, XLA's heap simulator), and the planner keeps the
// better of them. No placement can need less than the largest total of
// bytes live at one moment (BufferLiveness::getPeakBytes).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_ANALYSIS_ARENAPLACEMENT_H
#define DLC_ANALYSIS_ARENAPLACEMENT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <limits>

namespace dlc {

/// What PlacementRequest::carriedUntil holds for a buffer that is not
/// carried across steps.
constexpr int64_t kNotCarried = std::numeric_limits<int64_t>::min();

/// A buffer to place: `size` bytes aligned to `alignment`, live from
/// position `first` to position `last` (inclusive). A buffer carried into
/// the next step (exec.carried) is live again from the step's start
/// (position -1) to `carriedUntil`.
struct PlacementRequest {
  int64_t size, alignment, first, last;
  int64_t carriedUntil = kNotCarried;
  bool carried() const { return carriedUntil != kNotCarried; }
};

struct Placement {
  /// One offset per request, in the requests' order.
  llvm::SmallVector<int64_t> offsets;
  /// The bytes the placement spans.
  int64_t size = 0;
  /// The heuristic that produced it.
  const char *strategy = "";
};

/// Each buffer in order of its first position at the lowest offset that
/// fits between the buffers live with it.
Placement placeFirstFitByStart(llvm::ArrayRef<PlacementRequest> requests);
/// The largest buffers first, each into the smallest gap that fits it
/// among the buffers already placed that overlap it in time, or above
/// them all (TFLite's greedy-by-size).
Placement placeBestFitBySize(llvm::ArrayRef<PlacementRequest> requests);
/// The smallest of the placements above and of best fit ordered by the
/// buffers' duration and by their area (bytes x duration), as XLA's heap
/// simulator tries, each compacted (every buffer let fall to the lowest
/// offset where it fits), and of best fit in orders searched around the
/// order by size (random factors from a fixed seed: the result is
/// deterministic), more of them for fewer requests.
Placement placeBest(llvm::ArrayRef<PlacementRequest> requests);

/// The largest total size of the requests live at one position: no
/// placement needs less.
int64_t peakBytes(llvm::ArrayRef<PlacementRequest> requests);

} // namespace dlc

#endif // DLC_ANALYSIS_ARENAPLACEMENT_H
