//===- Tracking.cpp - keeping a tensor's format right while training -----===//

#include "dlc/Runtime/Precision/Tracking.h"

#include <algorithm>

using namespace dlc::rt::precision;

FormatTracker::FormatTracker(const Choice &initial,
                             const Tolerances &tolerances, int history)
    : choice(initial), tolerances(tolerances),
      history(static_cast<size_t>(std::max(history, 1))) {}

FormatTracker::Change FormatTracker::update(const Statistics &recent) {
  recentIntervals.push_back(recent);
  if (recentIntervals.size() > history)
    recentIntervals.pop_front();
  Statistics window;
  for (const Statistics &interval : recentIntervals)
    window.merge(interval);
  if (choice.format == Format::F32)
    return Change::None;
  Choice placed = place(choice.format, window, tolerances);
  if (window.nonFinite == 0 && fits(placed, tolerances)) {
    Change change =
        placed.exponent == choice.exponent ? Change::None : Change::Exponent;
    choice = placed;
    return change;
  }
  // Only the formats after it in the order of preference (more range, or
  // more bits): a tensor never narrows while training.
  const std::vector<Format> &order = formatsByPreference();
  std::vector<Format> wider(
      std::find(order.begin(), order.end(), choice.format) + 1, order.end());
  choice = choose(window, tolerances, wider);
  return Change::Widened;
}

void FormatTracker::overflowed() {
  ++overflowCount;
  if (choice.format != Format::F32)
    ++choice.exponent;
}
