//===- Statistics.cpp - histograms of leading-bit positions --------------===//
//
// The position comes straight from the fp32 exponent field (and, for the
// subnormals, from the fraction's leading one): no logarithms.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Precision/Statistics.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <cstdio>

using namespace dlc::rt::precision;

namespace {
uint32_t magnitudeBits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits & 0x7fffffffu;
}
} // namespace

int dlc::rt::precision::leadingBit(float x) {
  uint32_t bits = magnitudeBits(x);
  int biased = static_cast<int>(bits >> 23);
  if (biased)
    return biased - 127;
  return (31 - __builtin_clz(bits)) - 149;
}

void Statistics::add(const float *data, int64_t count) {
  values += count;
  uint32_t largest = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits = magnitudeBits(data[i]);
    if (bits == 0) {
      ++zeros;
      continue;
    }
    if (bits >= 0x7f800000u) {
      ++nonFinite;
      continue;
    }
    largest = std::max(largest, bits);
    ++counts[leadingBit(data[i]) - kLowest];
  }
  // Finite magnitudes order as their bits do.
  float largestValue;
  std::memcpy(&largestValue, &largest, sizeof largestValue);
  absMax = std::max(absMax, largestValue);
}

void Statistics::merge(const Statistics &other) {
  values += other.values;
  zeros += other.zeros;
  nonFinite += other.nonFinite;
  absMax = std::max(absMax, other.absMax);
  for (int i = 0; i < kPositions; ++i)
    counts[i] += other.counts[i];
}

std::string dlc::rt::precision::jsonMembers(const Statistics &s) {
  char number[64];
  std::snprintf(number, sizeof number, "%.9g", double(s.absMax));
  std::string json = "\"values\": " + std::to_string(s.values) +
                     ", \"zeros\": " + std::to_string(s.zeros) +
                     ", \"non_finite\": " + std::to_string(s.nonFinite) +
                     ", \"abs_max\": " + number + ", \"histogram\": {";
  bool first = true;
  for (int i = 0; i < Statistics::kPositions; ++i) {
    if (!s.counts[i])
      continue;
    json += (first ? "\"" : ", \"") + std::to_string(i + Statistics::kLowest) +
            "\": " + std::to_string(s.counts[i]);
    first = false;
  }
  return json + "}";
}

int Statistics::highestPosition() const {
  for (int i = kPositions - 1; i >= 0; --i)
    if (counts[i])
      return i + kLowest;
  return 0;
}

int Statistics::lowestPosition() const {
  for (int i = 0; i < kPositions; ++i)
    if (counts[i])
      return i + kLowest;
  return 0;
}
