//===- Choice.h - the narrowest format a tensor's values fit ----*- C++ -*-===//
//
// The rule --precision=auto applies to each tensor's calibration statistics,
// in one place:
//
// - A format with its exponent e holds the leading-bit positions
//   [lowest + e, highest + e] (Formats.h). Values above overflow (saturate or
//   become infinite), values below underflow (to zero).
// - Overflow: the share of the finite nonzero values above the range must be
//   at most `overflow`; underflow: the share below it at most `underflow`.
//   Zeros fit every format; any non-finite value keeps the tensor in fp32.
// - The exponent: the smallest that keeps overflow within bounds (the
//   range's top at the position `overflow` allows, checked against the
//   largest magnitude where that is the histogram's top), plus `margin`
//   positions of headroom (Transformer Engine's margin: values may grow
//   2^margin times before they saturate, since the statistics come from
//   steps past); the minifloats keep exponent 0 where that has at least
//   the headroom and is within both bounds (no scaling to apply). The
//   shares are those at the exponent chosen, headroom included. The
//   exponent stays within the format's (Formats.h: lowestExponent and
//   highestExponent, where fp32 can do the scaling).
// - The format: the narrowest allowed one that is within both bounds;
//   among formats of one width, the one with the most fraction bits (int8,
//   then fp8 E4M3, then E5M2; int16, then fp16, then bf16). fp32 always
//   fits.
//
// No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_PRECISION_CHOICE_H
#define DLC_RUNTIME_PRECISION_CHOICE_H

#include "dlc/Runtime/Precision/Formats.h"
#include "dlc/Runtime/Precision/Statistics.h"

#include <string>
#include <vector>

namespace dlc::rt::precision {

struct Tolerances {
  /// The share of a tensor's finite nonzero values allowed above its
  /// format's range, and below it.
  double overflow = 1e-4;
  double underflow = 1e-3;
  /// Positions of headroom above the values' top.
  int margin = 1;
};

/// A format for one tensor and what decided it.
struct Choice {
  Format format = Format::F32;
  int exponent = 0;
  double overflowShare = 0.0, underflowShare = 0.0;
  /// The highest leading-bit position the range had to hold.
  int top = 0;
  /// Why fp32, where it is fp32.
  std::string reason;
};

/// Every format, in the order the choice tries them.
const std::vector<Format> &formatsByPreference();

/// How `format` would hold `statistics`: its exponent and shares, whether
/// or not they are within `tolerances` (fits() says).
Choice place(Format format, const Statistics &statistics,
             const Tolerances &tolerances);
/// How `format` at `exponent` would hold `statistics`: the shares only.
Choice placeAt(Format format, const Statistics &statistics, int exponent);
bool fits(const Choice &choice, const Tolerances &tolerances);

/// The choice for `statistics` among `allowed` (fp32 is always allowed).
Choice choose(const Statistics &statistics, const Tolerances &tolerances,
              const std::vector<Format> &allowed = formatsByPreference());

} // namespace dlc::rt::precision

#endif // DLC_RUNTIME_PRECISION_CHOICE_H
