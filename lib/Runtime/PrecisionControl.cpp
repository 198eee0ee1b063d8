//===- PrecisionControl.cpp - choosing and keeping tensors' formats -------===//

#include "PrecisionControl.h"

#include "JsonText.h"
#include "PrecisionPlan.h"

#include <cstdio>
#include <map>

using namespace dlc::rt;
using namespace dlc::rt::precision;

namespace {
std::string describe(const TensorFormat &format) {
  std::string text = info(format.format).name;
  if (format.exponent)
    text += " exponent " + std::to_string(format.exponent);
  return text;
}

/// A choice's statistic, as the plan records what decided it.
std::string decidedByJson(const Choice &choice, int64_t calibrationSteps) {
  char text[256];
  std::snprintf(text, sizeof text,
                "{\"calibration_steps\": %lld, \"top_leading_bit\": %d, "
                "\"overflow_share\": %.3g, \"underflow_share\": %.3g",
                static_cast<long long>(calibrationSteps), choice.top,
                choice.overflowShare, choice.underflowShare);
  std::string json = text;
  if (!choice.reason.empty())
    json += ", \"reason\": \"" + jsonEscaped(choice.reason.c_str()) + "\"";
  return json + "}";
}
} // namespace

PrecisionControl::PrecisionControl(const ModelInfo &model,
                                   const PrecisionSettings &settings)
    : model(model), settings(settings), current(compiledFormats(model)) {
  if (adjustable())
    gathered.assign(model.numPrecision, Statistics());
}

bool PrecisionControl::gathers() const {
  if (!adjustable())
    return false;
  if (stepsSeen < settings.calibrationSteps)
    return true;
  return settings.every > 0 &&
         (stepsSeen - settings.calibrationSteps) % settings.every ==
             settings.every - 1;
}

void PrecisionControl::calibrate(std::vector<std::string> &log) {
  std::map<std::string, int> census;
  for (int i = 0; i < model.numPrecision; ++i) {
    Choice choice = choose(gathered[i], settings.tolerances);
    trackers.emplace_back(choice, settings.tolerances, settings.history);
    current[i] = {choice.format, choice.exponent};
    ++census[info(choice.format).name];
  }
  std::string line = "precision: calibrated on " +
                     std::to_string(settings.calibrationSteps) +
                     " steps in fp32, now:";
  for (const auto &[name, count] : census)
    line += " " + std::to_string(count) + " " + name;
  log.push_back(line);
}

bool PrecisionControl::afterStep(int64_t stepsDone, bool gatheredNow,
                                 const std::vector<int64_t> &overflows,
                                 std::vector<std::string> &log) {
  if (!adjustable())
    return false;
  ++stepsSeen;
  bool changed = false;
  if (!calibrated()) {
    if (stepsSeen < settings.calibrationSteps)
      return false;
    calibrate(log);
    changed = true;
  } else if (gatheredNow) {
    for (int i = 0; i < model.numPrecision; ++i) {
      TensorFormat before = current[i];
      FormatTracker::Change change = trackers[i].update(gathered[i]);
      const Choice &now = trackers[i].current();
      current[i] = {now.format, now.exponent};
      if (change == FormatTracker::Change::None)
        continue;
      ++changeCount;
      changed = true;
      log.push_back("precision: step " + std::to_string(stepsDone) + ": " +
                    model.precision[i].name + " " + describe(before) + " -> " +
                    describe(current[i]) +
                    (change == FormatTracker::Change::Widened
                         ? " (widened: its values left the format's range)"
                         : ""));
    }
  }
  // Saturation past the tolerance: a step of range more at once.
  bool overflowed = false;
  for (int i = 0; calibrated() && i < model.numPrecision; ++i) {
    int64_t count = i < static_cast<int64_t>(overflows.size()) ? overflows[i] : 0;
    if (count == 0 ||
        count <= settings.tolerances.overflow * model.precision[i].numElements)
      continue;
    TensorFormat before = current[i];
    trackers[i].overflowed();
    current[i] = {trackers[i].current().format, trackers[i].current().exponent};
    overflowed = changed = true;
    log.push_back("precision: step " + std::to_string(stepsDone) + ": " +
                  model.precision[i].name + " overflowed (" +
                  std::to_string(count) + " values saturated): " +
                  describe(before) + " -> " + describe(current[i]));
  }
  overflowStepCount += overflowed;
  lastStepOverflowed = overflowed;
  if (gatheredNow)
    gathered.assign(model.numPrecision, Statistics());
  return changed;
}

void PrecisionControl::adopt(const std::vector<TensorFormat> &formats) {
  current = formats;
}

std::string PrecisionControl::planJson() const {
  std::vector<std::string> decidedBy;
  for (int i = 0; i < model.numPrecision; ++i)
    decidedBy.push_back(calibrated()
                            ? decidedByJson(trackers[i].current(),
                                            settings.calibrationSteps)
                            : std::string("\"compiled\""));
  return precisionPlanJson(model, current, decidedBy);
}
