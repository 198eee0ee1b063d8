//===- Choice.cpp - the narrowest format a tensor's values fit -----------===//
//
// The rule is documented in Choice.h; here, its arithmetic on the histogram.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Precision/Choice.h"

#include <algorithm>
#include <cmath>

using namespace dlc::rt::precision;

namespace {
/// The share of the placed values at positions above `position`.
double shareAbove(const Statistics &s, int position) {
  int64_t above = 0;
  for (int p = std::max(position + 1, Statistics::kLowest);
       p <= Statistics::kHighest; ++p)
    above += s.count(p);
  return double(above) / double(s.placed());
}

/// The share of the placed values at positions below `position`.
double shareBelow(const Statistics &s, int position) {
  int64_t below = 0;
  for (int p = Statistics::kLowest;
       p < std::min(position, Statistics::kHighest + 1); ++p)
    below += s.count(p);
  return double(below) / double(s.placed());
}

/// The lowest position a range's top may have with at most `overflow` of
/// the values above it.
int lowestTop(const Statistics &s, double overflow) {
  int top = s.highestPosition();
  while (top > Statistics::kLowest && shareAbove(s, top - 1) <= overflow)
    --top;
  return top;
}
} // namespace

const std::vector<Format> &dlc::rt::precision::formatsByPreference() {
  static const std::vector<Format> order = {
      Format::I8,  Format::F8E4M3, Format::F8E5M2, Format::I16,
      Format::F16, Format::BF16,   Format::F32};
  return order;
}

Choice dlc::rt::precision::place(Format format, const Statistics &s,
                                 const Tolerances &tolerances) {
  Choice choice;
  choice.format = format;
  if (format == Format::F32 || s.placed() == 0)
    return choice;
  const FormatInfo &f = info(format);
  choice.top = lowestTop(s, tolerances.overflow);
  // A histogram's top position may hold values past the format's largest
  // (E4M3's 2^8 holds 256 to 448, not to 512): where the range must hold
  // the top, check the largest itself.
  auto holdsTop = [&](int e) {
    return choice.top != s.highestPosition() ||
           double(s.absMax) <= std::ldexp(f.largest, e);
  };
  auto at = [&](int e) {
    Choice placed = placeAt(format, s, e);
    placed.top = choice.top;
    return placed;
  };
  int exponent = choice.top - f.highest;
  if (!holdsTop(exponent))
    ++exponent;
  exponent += tolerances.margin;
  if (!f.fixedPoint && exponent <= 0 && holdsTop(0) && fits(at(0), tolerances))
    exponent = 0;
  return at(std::clamp(exponent, lowestExponent(format), highestExponent(format)));
}

Choice dlc::rt::precision::placeAt(Format format, const Statistics &s,
                                   int exponent) {
  Choice placed;
  placed.format = format;
  placed.exponent = exponent;
  if (format == Format::F32 || s.placed() == 0)
    return placed;
  const FormatInfo &f = info(format);
  placed.top = s.highestPosition();
  placed.overflowShare = shareAbove(s, f.highest + exponent);
  placed.underflowShare = shareBelow(s, f.lowest + exponent);
  return placed;
}

bool dlc::rt::precision::fits(const Choice &choice,
                              const Tolerances &tolerances) {
  return choice.overflowShare <= tolerances.overflow &&
         choice.underflowShare <= tolerances.underflow;
}

Choice dlc::rt::precision::choose(const Statistics &s,
                                  const Tolerances &tolerances,
                                  const std::vector<Format> &allowed) {
  Choice widest;
  if (s.nonFinite > 0) {
    widest.reason = "non-finite values";
    return widest;
  }
  widest.reason = "no narrower format allowed";
  for (Format format : formatsByPreference()) {
    if (format == Format::F32 ||
        std::find(allowed.begin(), allowed.end(), format) == allowed.end())
      continue;
    Choice choice = place(format, s, tolerances);
    if (fits(choice, tolerances))
      return choice;
    // The last one tried is the widest narrower format: it says why.
    widest.reason = std::string(info(format).name) +
                    (choice.overflowShare > tolerances.overflow
                         ? " and narrower overflow"
                         : " and narrower underflow");
  }
  return widest;
}
