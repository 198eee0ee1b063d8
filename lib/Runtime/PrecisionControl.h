//===- PrecisionControl.h - choosing and keeping tensors' formats -*- C++ -*-===//
//
// The trainer's side of dlc --precision=auto: the first --calibration-steps
// steps run in fp32 and gather statistics of every tensor; then each gets
// the narrowest format they fit (Choice.h). From there, the statistics of
// every --stats-every N-th step move each tensor's exponent, or its format
// when the exponent cannot make the range fit (Tracking.h), and a step in
// which a tensor's rounding saturated more than the overflow tolerance
// allows raises its exponent at once, and the trainer redoes or skips that
// step (--on-overflow). Decisions are rank 0's, on its own statistics, and
// every rank takes them (broadcast), so that all run the same step.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_PRECISIONCONTROL_H
#define DLC_LIB_RUNTIME_PRECISIONCONTROL_H

#include "dlc/Runtime/Model.h"
#include "dlc/Runtime/Precision/Tracking.h"

#include <string>
#include <vector>

namespace dlc::rt {

/// What the trainer does with a step that overflowed a tensor's format,
/// once the exponents are raised: run it again from the variables it found
/// (redo), go on to the next batch from them (skip), or keep its updates.
enum class OverflowAction { Redo, Skip, Keep };

struct PrecisionSettings {
  int64_t calibrationSteps = 10;
  precision::Tolerances tolerances;
  /// Intervals of statistics a tensor's exponent follows (the amax history).
  int history = 16;
  /// After calibration, gather statistics every `every` steps.
  int64_t every = 10;
  OverflowAction onOverflow = OverflowAction::Redo;
  /// Attempts of one step under Redo; the last one's updates stay.
  int attempts = 16;
};

class PrecisionControl {
public:
  PrecisionControl(const ModelInfo &model, const PrecisionSettings &settings);

  /// Whether formats change while training (dlc --precision=auto).
  bool adjustable() const { return model.adjustableFormats; }
  const std::vector<precision::TensorFormat> &formats() const {
    return current;
  }
  /// Whether the next step gathers statistics into interval() for the
  /// formats: the first calibrationSteps steps of this run (a resumed run
  /// calibrates again), then every `every`-th.
  bool gathers() const;
  std::vector<precision::Statistics> &interval() { return gathered; }

  /// After each step (`stepsDone`, for the log): `gatheredNow`, whether it
  /// gathered into interval(); `overflows`, per slot, the values its
  /// rounding saturated (summed over ranks). Updates formats() (on rank 0:
  /// the caller shares them) and appends what changed to `log`. Returns
  /// whether the formats may have changed.
  bool afterStep(int64_t stepsDone, bool gatheredNow,
                 const std::vector<int64_t> &overflows,
                 std::vector<std::string> &log);
  /// Takes formats() decided elsewhere (rank 0's).
  void adopt(const std::vector<precision::TensorFormat> &formats);

  /// The plan: each tensor's format now and the statistics that decided it.
  std::string planJson() const;
  bool calibrated() const { return !trackers.empty(); }
  /// Whether the last afterStep found a tensor saturated past the overflow
  /// tolerance (and raised its exponent).
  bool overflowed() const { return lastStepOverflowed; }
  /// Whether the step about to run may be undone: its formats are narrow
  /// ones and --on-overflow is not keep.
  bool undoable() const {
    return adjustable() && calibrated() &&
           settings.onOverflow != OverflowAction::Keep;
  }
  const PrecisionSettings &precisionSettings() const { return settings; }
  int64_t overflowSteps() const { return overflowStepCount; }
  int64_t changes() const { return changeCount; }

private:
  void calibrate(std::vector<std::string> &log);

  const ModelInfo &model;
  PrecisionSettings settings;
  std::vector<precision::TensorFormat> current;
  std::vector<precision::Statistics> gathered;
  std::vector<precision::FormatTracker> trackers;
  int64_t stepsSeen = 0, overflowStepCount = 0, changeCount = 0;
  bool lastStepOverflowed = false;
};

} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_PRECISIONCONTROL_H
