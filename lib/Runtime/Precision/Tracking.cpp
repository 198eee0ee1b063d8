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
  // An overflow's exponent holds while the interval it fell in is still in
  // the history.
  for (Floor &floor : floors)
    ++floor.age;
  floors.erase(std::remove_if(floors.begin(), floors.end(),
                              [&](const Floor &floor) {
                                return floor.age > history;
                              }),
               floors.end());
  if (choice.format == Format::F32)
    return Change::None;

  Statistics window;
  for (const Statistics &interval : recentIntervals)
    window.merge(interval);
  if (window.nonFinite == 0) {
    Choice placed = placeOnHistory(choice.format, window);
    if (fits(placed, tolerances)) {
      Change change =
          placed.exponent == choice.exponent ? Change::None : Change::Exponent;
      choice = placed;
      return change;
    }
  }
  // Only the formats after it in the order of preference (more range, or
  // more bits): a tensor never narrows while training.
  const std::vector<Format> &order = formatsByPreference();
  std::vector<Format> wider(
      std::find(order.begin(), order.end(), choice.format) + 1, order.end());
  for (Format format : wider) {
    if (format == Format::F32 || window.nonFinite > 0)
      break;
    Choice placed = placeOnHistory(format, window);
    if (fits(placed, tolerances)) {
      choice = placed;
      floors.clear();
      return Change::Widened;
    }
  }
  choice = choose(window, tolerances, {});
  floors.clear();
  return Change::Widened;
}

Choice FormatTracker::placeOnHistory(Format format,
                                     const Statistics &window) const {
  // The exponent the most demanding interval asks for, and at least any
  // recent overflow's: a spike in one interval is not averaged away by the
  // others (Transformer Engine takes the largest amax of its history).
  int exponent = place(format, window, tolerances).exponent;
  for (const Statistics &interval : recentIntervals)
    if (interval.placed() > 0)
      exponent = std::max(exponent, place(format, interval, tolerances).exponent);
  // The floors are exponents of the tensor's own format.
  if (format == choice.format)
    for (const Floor &floor : floors)
      exponent = std::max(exponent, floor.exponent);
  // Overflow is judged interval by interval, underflow over the window.
  Choice placed = placeAt(format, window, exponent);
  placed.overflowShare = 0.0;
  for (const Statistics &interval : recentIntervals)
    if (interval.placed() > 0)
      placed.overflowShare =
          std::max(placed.overflowShare,
                   placeAt(format, interval, exponent).overflowShare);
  return placed;
}

void FormatTracker::overflowed() {
  ++overflowCount;
  if (choice.format == Format::F32)
    return;
  choice.exponent = std::min(choice.exponent + 1, highestExponent(choice.format));
  floors.push_back({choice.exponent, 0});
}
