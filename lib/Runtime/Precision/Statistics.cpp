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
  // Counts by fp32 exponent field (0: zeros and subnormals, 255: non-finite),
  // in four tables so that runs of one exponent do not wait on one counter;
  // zeros counted apart without a branch, subnormals placed in a second
  // pass only when there are any.
  std::array<std::array<int64_t, 256>, 4> byField{};
  int64_t zeroCount = 0;
  uint32_t largest = 0;
  int64_t i = 0;
  auto one = [&](int table, float x) {
    uint32_t bits = magnitudeBits(x);
    ++byField[table][bits >> 23];
    zeroCount += bits == 0;
    largest = std::max(largest, bits < 0x7f800000u ? bits : 0u);
  };
  for (; i + 4 <= count; i += 4) {
    one(0, data[i]);
    one(1, data[i + 1]);
    one(2, data[i + 2]);
    one(3, data[i + 3]);
  }
  for (; i < count; ++i)
    one(0, data[i]);
  int64_t field[256] = {};
  for (const auto &table : byField)
    for (int f = 0; f < 256; ++f)
      field[f] += table[f];
  zeros += zeroCount;
  nonFinite += field[255];
  for (int f = 1; f < 255; ++f)
    counts[f - 127 - kLowest] += field[f];
  if (field[0] > zeroCount)
    for (int64_t k = 0; k < count; ++k) {
      uint32_t bits = magnitudeBits(data[k]);
      if (bits && bits < 0x800000u)
        ++counts[leadingBit(data[k]) - kLowest];
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
