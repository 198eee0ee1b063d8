//===- LrSchedule.h - the learning rate of each step ------------*- C++ -*-===//
//
// Closed forms of PyTorch's schedulers, indexed by the number of updates
// already made (PyTorch's `last_epoch` when `scheduler.step()` follows every
// `optimizer.step()`): StepLR, CosineAnnealingLR, and a LinearLR warm-up
// whose factor multiplies either (as ChainedScheduler combines them).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_LRSCHEDULE_H
#define DLC_RUNTIME_LRSCHEDULE_H

#include <cstdint>
#include <string>

namespace dlc::rt {

struct LrSchedule {
  enum class Kind { Constant, Step, Cosine } kind = Kind::Constant;
  /// StepLR: multiply by `gamma` every `stepSize` updates.
  int64_t stepSize = 0;
  double gamma = 0.1;
  /// CosineAnnealingLR: from the base to `minLr` over `cosineSteps` updates.
  int64_t cosineSteps = 0;
  double minLr = 0.0;
  /// LinearLR: the factor rises from `warmupStartFactor` to 1 over
  /// `warmupSteps` updates (0: no warm-up).
  int64_t warmupSteps = 0;
  double warmupStartFactor = 1.0 / 3.0;

  /// The learning rate of the update after `t` earlier ones.
  double at(double base, int64_t t) const;
};

/// Parses constant|step|cosine; throws Error otherwise.
LrSchedule::Kind parseScheduleKind(const std::string &name);

} // namespace dlc::rt

#endif // DLC_RUNTIME_LRSCHEDULE_H
