//===- Tracking.h - keeping a tensor's format right while training -*- C++ -*-===//
//
// After calibration, each tensor's exponent follows its recent statistics:
// the histograms of the last `history` intervals (every --stats-every N
// steps) are merged and the format's exponent is placed on them again (the
// top at the position the overflow tolerance allows: Transformer Engine's
// delayed scaling from an amax history, and the DLU's decimal-point update
// from leading-bit counts). Where even the best exponent leaves too much
// overflow or underflow, the tensor moves to the first format after its
// own in the order of preference (Choice.h: more range, then more bits)
// that fits. A step that overflowed raises the exponent at once (halves the
// scale), as loss scaling does. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_PRECISION_TRACKING_H
#define DLC_RUNTIME_PRECISION_TRACKING_H

#include "dlc/Runtime/Precision/Choice.h"

#include <deque>

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
  Choice choice;
  Tolerances tolerances;
  size_t history;
  std::deque<Statistics> recentIntervals;
  int overflowCount = 0;
};

} // namespace dlc::rt::precision

#endif // DLC_RUNTIME_PRECISION_TRACKING_H
