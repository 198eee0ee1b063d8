//===- Tracking.h - keeping a tensor's format right while training -*- C++ -*-===//
//
// After calibration, each tensor's exponent follows its recent statistics,
// the histograms of the last `history` intervals (every --stats-every N
// steps): the format's exponent is placed again on each of them (the top at
// the position the overflow tolerance allows, as Choice.h places it) and
// the largest is taken, so the interval with the largest values decides, as
// the largest amax of its history decides Transformer Engine's delayed
// scaling; the DLU's decimal-point update from leading-bit counts is the
// same placement. Overflow is judged interval by interval, underflow on the
// intervals merged. Where even that exponent leaves too much overflow or
// underflow, the tensor moves to the first format after its own in the
// order of preference (Choice.h: more range, then more bits) that fits. A
// step that overflowed raises the exponent at once (halves the scale), as
// loss scaling does, and the exponent stays at least that high for the
// length of the history. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_PRECISION_TRACKING_H
#define DLC_RUNTIME_PRECISION_TRACKING_H

#include "dlc/Runtime/Precision/Choice.h"

#include <deque>
#include <vector>

namespace dlc::rt::precision {

class FormatTracker {
public:
  enum class Change { None, Exponent, Widened };

  FormatTracker(const Choice &initial, const Tolerances &tolerances,
                int history = 16);

  /// The statistics of the interval just ended.
  Change update(const Statistics &recent);
  /// The step overflowed this tensor's format: one more in the exponent.
  void overflowed();

  const Choice &current() const { return choice; }
  int overflows() const { return overflowCount; }

private:
  /// An exponent an overflow raised the tensor to, and the intervals since.
  struct Floor {
    int exponent;
    size_t age;
  };
  Choice placeOnHistory(Format format, const Statistics &window) const;

  Choice choice;
  Tolerances tolerances;
  size_t history;
  std::deque<Statistics> recentIntervals;
  std::vector<Floor> floors;
  int overflowCount = 0;
};

} // namespace dlc::rt::precision

#endif // DLC_RUNTIME_PRECISION_TRACKING_H
