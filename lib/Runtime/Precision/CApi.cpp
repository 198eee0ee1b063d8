//===- CApi.cpp - the precision module's C entry points ------------------===//
//
// For callers outside C++: the tests that check the formats against
// ml_dtypes and numpy (through ctypes), and tools that read statistics.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Precision/Choice.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

using namespace dlc::rt::precision;

extern "C" {

/// The format's number, or -1 for a name that is none.
int dlc_precision_format(const char *name) {
  std::optional<Format> format = parseFormat(name);
  return format ? static_cast<int>(*format) : -1;
}

void dlc_precision_quantize(int format, int exponent, const float *in,
                            void *out, int64_t count) {
  quantize(static_cast<Format>(format), exponent, in, out, count);
}

void dlc_precision_dequantize(int format, int exponent, const void *in,
                              float *out, int64_t count) {
  dequantize(static_cast<Format>(format), exponent, in, out, count);
}

void dlc_precision_round_trip(int format, int exponent, float *values,
                              int64_t count) {
  roundTrip(static_cast<Format>(format), exponent, values, count);
}

/// How many values saturated.
int64_t dlc_precision_round_trip_saturating(int format, int exponent,
                                            float *values, int64_t count) {
  return roundTripSaturating(static_cast<Format>(format), exponent, values,
                             count);
}

/// quantize() rounding stochastically, random[i] for in[i].
void dlc_precision_quantize_stochastic(int format, int exponent,
                                       const float *in, const uint32_t *random,
                                       void *out, int64_t count) {
  Format f = static_cast<Format>(format);
  int bytes = info(f).bits / 8;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t code = encodeStochastic(f, in[i], random[i], exponent);
    auto *at = static_cast<uint8_t *>(out) + i * bytes;
    std::copy_n(reinterpret_cast<const uint8_t *>(&code), bytes, at);
  }
}

/// counts: Statistics::kPositions entries; totals: values, zeros,
/// non-finite.
void dlc_precision_statistics(const float *in, int64_t count, int64_t *counts,
                              int64_t *totals, float *absMax) {
  Statistics statistics;
  statistics.add(in, count);
  std::copy(statistics.counts.begin(), statistics.counts.end(), counts);
  totals[0] = statistics.values;
  totals[1] = statistics.zeros;
  totals[2] = statistics.nonFinite;
  *absMax = statistics.absMax;
}
}
