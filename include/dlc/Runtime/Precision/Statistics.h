//===- Statistics.h - where a tensor's values fall -------------*- C++ -*-===//
//
// What the format choice reads: per tensor, how many values were seen, the
// zeros and the non-finite ones apart, the largest magnitude, and a histogram
// of the other values' leading-bit positions (one count per power of two,
// as the DLU's statistics of where the values' leading bits fall). Gathered
// over several steps by adding to the same record. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_PRECISION_STATISTICS_H
#define DLC_RUNTIME_PRECISION_STATISTICS_H

#include <array>
#include <cstdint>
#include <string>

namespace dlc::rt::precision {

struct Statistics {
  /// Leading-bit positions an fp32 value can have: 2^-149 to 2^127.
  static constexpr int kLowest = -149, kHighest = 127;
  static constexpr int kPositions = kHighest - kLowest + 1;

  int64_t values = 0, zeros = 0, nonFinite = 0;
  float absMax = 0.0f;
  /// counts[p - kLowest]: the finite nonzero values x with 2^p <= |x| < 2^(p+1).
  std::array<int64_t, kPositions> counts{};

  int64_t count(int position) const {
    return position < kLowest || position > kHighest ? 0
                                                     : counts[position - kLowest];
  }
  /// Finite nonzero values: the ones a format must place.
  int64_t placed() const { return values - zeros - nonFinite; }
  /// The highest and lowest positions with a count (0 when none).
  int highestPosition() const;
  int lowestPosition() const;

  void add(const float *data, int64_t count);
  void merge(const Statistics &other);
};

/// The record as JSON object members (no braces): "values", "zeros",
/// "non_finite", "abs_max" and "histogram" (leading-bit position to count,
/// the positions with a count only).
std::string jsonMembers(const Statistics &statistics);

/// The leading-bit position of a finite nonzero value.
int leadingBit(float x);

} // namespace dlc::rt::precision

#endif // DLC_RUNTIME_PRECISION_STATISTICS_H
