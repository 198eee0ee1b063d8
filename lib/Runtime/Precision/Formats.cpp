//===- Formats.cpp - fp32 to and from the narrower formats ----------------===//
//
// One rounding routine serves every minifloat: a finite fp32 value is an
// integer significand times a power of two, the target's grid at that
// magnitude is a coarser power of two, and the code of the rounded value is
// (the target exponent above its smallest) * 2^mantissa bits + the rounded
// significand, continuous across the subnormal-normal boundary and into
// overflow. What differs between formats is their widths and how they spell
// NaN and infinity.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Precision/Formats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dlc::rt::precision;

namespace {
struct Minifloat {
  int exponentBits, mantissaBits;
  /// IEEE-like (an exponent of all ones is infinity or NaN), or "fn" as
  /// float8_e4m3fn: no infinities, NaN only at all ones.
  bool infinities;

  int bias() const { return (1 << (exponentBits - 1)) - 1; }
  int minExponent() const { return 1 - bias(); }
  uint32_t signBit() const { return 1u << (exponentBits + mantissaBits); }
  uint32_t allOnesExponent() const {
    return ((1u << exponentBits) - 1) << mantissaBits;
  }
  uint32_t largestFinite() const {
    uint32_t mantissa = (1u << mantissaBits) - 1;
    return infinities ? (allOnesExponent() - (1u << mantissaBits)) | mantissa
                      : allOnesExponent() | (mantissa - 1);
  }
  uint32_t overflowCode() const {
    return infinities ? allOnesExponent() : allOnesExponent() | ((1u << mantissaBits) - 1);
  }
};

constexpr Minifloat kBF16{8, 7, true}, kF16{5, 10, true}, kE4M3{4, 3, false},
    kE5M2{5, 2, true};

const Minifloat &minifloat(Format format) {
  switch (format) {
  case Format::BF16:
    return kBF16;
  case Format::F16:
    return kF16;
  case Format::F8E4M3:
    return kE4M3;
  default:
    return kE5M2;
  }
}

uint32_t bitsOf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}
float floatOf(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

/// NaN as each reference spells it: numpy's float16 keeps the payload's top
/// bits (and stays a NaN); ml_dtypes returns the quiet NaN with the sign.
uint32_t nanCode(const Minifloat &f, uint32_t absBits, uint32_t sign) {
  if (&f == &kF16) {
    uint32_t code = 0x7c00u + ((absBits & 0x7fffffu) >> 13);
    return sign | (code == 0x7c00u ? code + 1 : code);
  }
  if (!f.infinities)
    return sign | f.overflowCode();
  return sign | f.allOnesExponent() | (1u << (f.mantissaBits - 1));
}

/// Rounds finite fp32 bits (sign cleared) to the code of `f`. `random`:
/// null for round-to-nearest-even, else 32 uniform bits.
uint32_t roundMagnitude(const Minifloat &f, uint32_t absBits,
                        const uint32_t *random) {
  int biased = static_cast<int>(absBits >> 23);
  uint32_t fraction = absBits & 0x7fffffu;
  if (biased == 0 && fraction == 0)
    return 0;
  uint64_t significand = biased ? (fraction | 0x800000u) : fraction;
  int significandExponent = (biased ? biased : 1) - 150;
  int leading = biased ? biased - 127
                       : (31 - __builtin_clz(fraction)) - 149;
  int exponent = std::max(leading, f.minExponent());
  int shift = exponent - f.mantissaBits - significandExponent;
  uint64_t kept = shift >= 64 ? 0 : significand >> shift;
  uint64_t rest = shift >= 64 ? significand
                              : significand & ((uint64_t(1) << shift) - 1);
  bool up;
  if (random) {
    // Up with probability rest / 2^shift.
    uint64_t threshold = shift > 56 ? 0 : (rest << 32) >> shift;
    up = *random < threshold;
  } else {
    uint64_t half = shift > 64 ? ~uint64_t(0) : uint64_t(1) << (shift - 1);
    up = rest > half || (rest == half && (kept & 1));
  }
  uint64_t code = (uint64_t(exponent - f.minExponent()) << f.mantissaBits) +
                  kept + (up ? 1 : 0);
  return code > f.largestFinite() ? f.overflowCode()
                                  : static_cast<uint32_t>(code);
}

uint32_t encodeMinifloat(const Minifloat &f, float x, const uint32_t *random) {
  uint32_t bits = bitsOf(x);
  uint32_t sign = (bits >> 31) ? f.signBit() : 0;
  uint32_t absBits = bits & 0x7fffffffu;
  if (absBits > 0x7f800000u)
    return nanCode(f, absBits, sign);
  if (absBits == 0x7f800000u)
    return sign | f.overflowCode();
  return sign | roundMagnitude(f, absBits, random);
}

float decodeMinifloat(const Minifloat &f, uint32_t code) {
  uint32_t sign = (code & f.signBit()) ? 0x80000000u : 0;
  uint32_t exponent = (code >> f.mantissaBits) & ((1u << f.exponentBits) - 1);
  uint32_t mantissa = code & ((1u << f.mantissaBits) - 1);
  bool special = f.infinities ? exponent == (1u << f.exponentBits) - 1
                              : (code & ~f.signBit()) == f.overflowCode();
  if (special) {
    // Infinity, or NaN: with its payload from the 16-bit formats (as
    // ml_dtypes' bfloat16 and numpy's float16 decode), fp32's quiet NaN from
    // the 8-bit ones (as ml_dtypes' float8 types do).
    uint32_t payload = f.exponentBits + f.mantissaBits == 15
                           ? mantissa << (23 - f.mantissaBits)
                           : (mantissa ? 0x400000u : 0);
    return floatOf(sign | 0x7f800000u | payload);
  }
  float magnitude =
      exponent == 0
          ? std::ldexp(float(mantissa), f.minExponent() - f.mantissaBits)
          : std::ldexp(float((1u << f.mantissaBits) | mantissa),
                       int(exponent) - f.bias() - f.mantissaBits);
  return sign ? -magnitude : magnitude;
}

/// Dynamic fixed point: round(x / 2^exponent) saturated to the integer's
/// two's complement range; NaN to 0 (the statistics count it apart).
int32_t encodeFixed(int bits, float x, int exponent, const uint32_t *random) {
  if (std::isnan(x))
    return 0;
  double lowest = -std::ldexp(1.0, bits - 1), highest = -lowest - 1;
  double scaled = std::clamp(std::ldexp(double(x), -exponent), lowest, highest);
  if (!random)
    return static_cast<int32_t>(std::nearbyint(scaled));
  double below = std::floor(scaled);
  double threshold = std::ldexp(scaled - below, 32);
  return static_cast<int32_t>(below + (double(*random) < threshold ? 1 : 0));
}

uint32_t encodeAny(Format format, float x, int exponent,
                   const uint32_t *random) {
  switch (format) {
  case Format::F32:
    return bitsOf(x);
  case Format::I8:
    return static_cast<uint8_t>(encodeFixed(8, x, exponent, random));
  case Format::I16:
    return static_cast<uint16_t>(encodeFixed(16, x, exponent, random));
  default:
    return encodeMinifloat(minifloat(format),
                           exponent ? std::ldexp(x, -exponent) : x, random);
  }
}

template <typename Storage>
void quantizeAs(Format format, int exponent, const float *in, void *out,
                int64_t count) {
  auto *storage = static_cast<Storage *>(out);
  for (int64_t i = 0; i < count; ++i)
    storage[i] = static_cast<Storage>(encode(format, in[i], exponent));
}

template <typename Storage>
void dequantizeAs(Format format, int exponent, const void *in, float *out,
                  int64_t count) {
  auto *storage = static_cast<const Storage *>(in);
  for (int64_t i = 0; i < count; ++i)
    out[i] = decode(format, storage[i], exponent);
}
} // namespace

namespace {
/// Adding and taking away 1.5 * 2^23 rounds a float of magnitude below
/// 2^22 to an integer, to nearest even, in the default rounding mode (the
/// sum lies where fp32's spacing is 1): an rint that vectorises without
/// SSE4.1.
constexpr float kRoundingShift = 12582912.0f;

/// A rounded magnitude past the format's largest becomes the largest
/// (counted in `clipped`); then its sign and scale go back on. Both
/// minifloat loops end so.
inline float saturatedBack(float rounded, float largest, uint32_t finite,
                           uint32_t sign, float scaleUp, uint32_t &clipped) {
  uint32_t saturated = finite & uint32_t(rounded > largest);
  clipped += saturated;
  rounded = saturated ? largest : rounded;
  return floatOf(bitsOf(rounded) | sign) * scaleUp;
}

/// A minifloat's grid in fp32 arithmetic, branch-free so that the loop
/// vectorises: above the smallest normal, rounding drops fp32's low
/// mantissa bits (to nearest even; a carry moves the exponent); below it
/// the grid is evenly spaced (the subnormals). Past the largest value it
/// saturates, counted. Values that are not finite are left to encode() and
/// decode().
/// Each of these two is compiled for AVX-512, AVX2 and the baseline; the
/// loader picks the CPU's (GCC's target_clones).
#define DLC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

DLC_VECTOR_CLONES
int64_t roundBlockToMinifloat(const Minifloat &m, float largest,
                              float scaleDown, float scaleUp, float *values,
                              int64_t count) {
  int dropped = 23 - m.mantissaBits;
  uint32_t half = (1u << (dropped - 1)) - 1, mask = ~((1u << dropped) - 1);
  float minNormal = std::ldexp(1.0f, m.minExponent());
  // To the subnormal grid's units and back, in steps fp32 can hold.
  float toUnits = std::ldexp(1.0f, -m.minExponent());
  float unitsUp = std::ldexp(1.0f, m.mantissaBits);
  float fromUnits = std::ldexp(1.0f, m.minExponent() - m.mantissaBits);
  // Counters of 32 bits (a block is short), so that the loop vectorises.
  uint32_t clipped = 0, special = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t x = bitsOf(values[i] * scaleDown);
    uint32_t sign = x & 0x80000000u, magnitudeBits = x & 0x7fffffffu;
    uint32_t finite = magnitudeBits < 0x7f800000u;
    special |= finite ^ 1u;
    float magnitude = floatOf(magnitudeBits);
    float normal =
        floatOf((magnitudeBits + half + ((magnitudeBits >> dropped) & 1u)) & mask);
    float subnormal =
        ((magnitude * toUnits * unitsUp + kRoundingShift) - kRoundingShift) *
        fromUnits;
    float rounded = magnitude < minNormal ? subnormal : normal;
    values[i] = saturatedBack(rounded, largest, finite, sign, scaleUp, clipped);
  }
  return special ? -int64_t(clipped) - 1 : int64_t(clipped);
}

/// Dynamic fixed point: round(x / 2^exponent) saturated to the integer's
/// range (counted), NaN to 0, as encode() does.
DLC_VECTOR_CLONES
int64_t roundBlockToFixed(float largest, float scaleDown, float scaleUp,
                          float *values, int64_t count) {
  float lowest = -largest - 1.0f;
  int64_t clipped = 0;
  for (int64_t i = 0; i < count; ++i) {
    float scaled = values[i] * scaleDown;
    scaled = scaled == scaled ? scaled : 0.0f;
    // Bounded first, so that the rounding shift holds it.
    float bounded = std::min(std::max(scaled, lowest - 1.0f), largest + 1.0f);
    float integer = (bounded + kRoundingShift) - kRoundingShift;
    clipped += integer > largest || integer < lowest;
    values[i] = std::min(std::max(integer, lowest), largest) * scaleUp;
  }
  return clipped;
}

/// roundBlockToMinifloat rounding stochastically, as encodeStochastic does
/// with the bits randomBits(key, first + i): on the normal grid up where
/// the random bits' top `dropped` bits are below the value's dropped bits;
/// on the subnormal grid up where random + 1 <= the remainder in units of
/// 2^-32 (exact in double).
DLC_VECTOR_CLONES
int64_t roundBlockToMinifloatStochastic(const Minifloat &m, float largest,
                                        float scaleDown, float scaleUp,
                                        float *values, int64_t count,
                                        uint64_t key, int64_t first) {
  int dropped = 23 - m.mantissaBits;
  uint32_t low = (1u << dropped) - 1;
  float minNormal = std::ldexp(1.0f, m.minExponent());
  // In double: bf16's 2^133 is no float.
  double toUnits = std::ldexp(1.0, m.mantissaBits - m.minExponent());
  double fromUnits = std::ldexp(1.0, m.minExponent() - m.mantissaBits);
  uint32_t clipped = 0, special = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t random = randomBits(key, first + i);
    uint32_t x = bitsOf(values[i] * scaleDown);
    uint32_t sign = x & 0x80000000u, magnitudeBits = x & 0x7fffffffu;
    uint32_t finite = magnitudeBits < 0x7f800000u;
    special |= finite ^ 1u;
    float magnitude = floatOf(magnitudeBits);
    uint32_t up = (random >> (32 - dropped)) < (magnitudeBits & low);
    float normal = floatOf((magnitudeBits & ~low) + (up << dropped));
    double units = std::min(double(magnitude) * toUnits, 1e9);
    double whole = double(int32_t(units));
    double threshold = (units - whole) * 4294967296.0;
    float subnormal = float(
        (whole + (double(random) + 1.0 <= threshold ? 1.0 : 0.0)) * fromUnits);
    float rounded = magnitude < minNormal ? subnormal : normal;
    values[i] = saturatedBack(rounded, largest, finite, sign, scaleUp, clipped);
  }
  return special ? -int64_t(clipped) - 1 : int64_t(clipped);
}

/// roundBlockToFixed rounding stochastically, as encodeStochastic does:
/// the value clamped to the integer's range, then up from the integer below
/// where random < the remainder times 2^32 (in double, where scaling is
/// exact). A value past the range counts as saturated.
DLC_VECTOR_CLONES
int64_t roundBlockToFixedStochastic(float largest, double scaleDown,
                                    float scaleUp, float *values,
                                    int64_t count, uint64_t key,
                                    int64_t first) {
  double highest = largest, lowest = -highest - 1.0;
  int64_t clipped = 0;
  for (int64_t i = 0; i < count; ++i) {
    double scaled = double(values[i]) * scaleDown;
    scaled = scaled == scaled ? scaled : 0.0;
    clipped += scaled > highest || scaled < lowest;
    double bounded = std::min(std::max(scaled, lowest), highest);
    double below = std::floor(bounded);
    double threshold = (bounded - below) * 4294967296.0;
    double integer =
        below + (double(randomBits(key, first + i)) < threshold ? 1.0 : 0.0);
    values[i] = float(integer) * scaleUp;
  }
  return clipped;
}

/// The values of a block that were not finite once scaled, from their
/// originals: a finite one (its scaling overflowed fp32) saturates,
/// counted; infinity and NaN convert as encode() converts them.
int64_t redoSpecials(Format format, int exponent, float largest,
                     float scaleDown, float scaleUp, const float *original,
                     float *block, int64_t n) {
  int64_t clipped = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(original[i] * scaleDown))
      continue;
    bool finite = std::isfinite(original[i]);
    clipped += finite;
    block[i] = finite ? std::copysign(largest, original[i]) * scaleUp
                      : decode(format, encode(format, original[i], exponent),
                               exponent);
  }
  return clipped;
}

/// Rounds `values` in blocks with `roundBlock(block, n, firstIndex)`,
/// which returns the values it saturated, or -(that + 1) where the block
/// held values not finite once scaled (redone from their originals).
template <typename RoundBlock>
int64_t roundMinifloatBlocks(Format format, int exponent, float *values,
                             int64_t count, RoundBlock roundBlock) {
  float scaleDown = std::ldexp(1.0f, -exponent), scaleUp = std::ldexp(1.0f, exponent);
  float largest = static_cast<float>(info(format).largest);
  constexpr int64_t kBlock = 512;
  float original[kBlock];
  int64_t clipped = 0;
  for (int64_t begin = 0; begin < count; begin += kBlock) {
    int64_t n = std::min(kBlock, count - begin);
    float *block = values + begin;
    std::copy_n(block, n, original);
    int64_t result = roundBlock(block, n, begin);
    if (result >= 0) {
      clipped += result;
      continue;
    }
    clipped += -result - 1 + redoSpecials(format, exponent, largest, scaleDown,
                                          scaleUp, original, block, n);
  }
  return clipped;
}
} // namespace

int64_t dlc::rt::precision::roundTripSaturatingStochastic(
    Format format, int exponent, float *values, int64_t count, uint64_t key,
    int64_t first) {
  if (format == Format::F32)
    return 0;
  const FormatInfo &f = info(format);
  float scaleUp = std::ldexp(1.0f, exponent);
  float largest = static_cast<float>(f.largest);
  if (f.fixedPoint)
    return roundBlockToFixedStochastic(largest, std::ldexp(1.0, -exponent),
                                       scaleUp, values, count, key, first);
  float scaleDown = std::ldexp(1.0f, -exponent);
  return roundMinifloatBlocks(
      format, exponent, values, count,
      [&](float *block, int64_t n, int64_t begin) {
        return roundBlockToMinifloatStochastic(minifloat(format), largest,
                                               scaleDown, scaleUp, block, n,
                                               key, first + begin);
      });
}

int64_t dlc::rt::precision::roundTripSaturating(Format format, int exponent,
                                                float *values, int64_t count) {
  if (format == Format::F32)
    return 0;
  const FormatInfo &f = info(format);
  float scaleDown = std::ldexp(1.0f, -exponent), scaleUp = std::ldexp(1.0f, exponent);
  float largest = static_cast<float>(f.largest);
  if (f.fixedPoint)
    return roundBlockToFixed(largest, scaleDown, scaleUp, values, count);
  return roundMinifloatBlocks(
      format, exponent, values, count,
      [&](float *block, int64_t n, int64_t) {
        return roundBlockToMinifloat(minifloat(format), largest, scaleDown,
                                     scaleUp, block, n);
      });
}

int dlc::rt::precision::highestExponent(Format format) {
  return format == Format::F32 ? 0 : std::min(126, 127 - info(format).highest);
}

int dlc::rt::precision::lowestExponent(Format format) {
  return format == Format::F32 ? 0 : kLowestExponent;
}

const FormatInfo &dlc::rt::precision::info(Format format) {
  // lowest: the smallest subnormal's leading bit; highest: the largest
  // finite value's.
  static const FormatInfo table[] = {
      {Format::F32, "fp32", 32, 23, -149, 127, 3.4028234663852886e38, false},
      {Format::BF16, "bf16", 16, 7, -133, 127, 3.3895313892515355e38, false},
      {Format::F16, "fp16", 16, 10, -24, 15, 65504.0, false},
      {Format::F8E4M3, "fp8e4m3", 8, 3, -9, 8, 448.0, false},
      {Format::F8E5M2, "fp8e5m2", 8, 2, -16, 15, 57344.0, false},
      {Format::I8, "int8", 8, 7, 0, 6, 127.0, true},
      {Format::I16, "int16", 16, 15, 0, 14, 32767.0, true},
  };
  return table[static_cast<int>(format)];
}

bool dlc::rt::precision::bf16HoldsExactly(Format format, int exponent) {
  const FormatInfo &f = info(format), &bf16 = info(Format::BF16);
  // Every value is a multiple of the smallest (2^(lowest + exponent)) with
  // at most this many significant bits; an fp32 value like that is a bf16
  // value (the two share their exponent range).
  int significant = f.fixedPoint ? f.highest - f.lowest + 1 : f.fractionBits + 1;
  return significant <= bf16.fractionBits + 1 &&
         f.lowest + exponent >= bf16.lowest;
}

std::optional<Format> dlc::rt::precision::parseFormat(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Format::I16); ++i)
    if (name == info(static_cast<Format>(i)).name)
      return static_cast<Format>(i);
  return std::nullopt;
}

uint32_t dlc::rt::precision::encode(Format format, float x, int exponent) {
  return encodeAny(format, x, exponent, nullptr);
}

uint32_t dlc::rt::precision::encodeStochastic(Format format, float x,
                                              uint32_t random, int exponent) {
  return encodeAny(format, x, exponent, &random);
}

float dlc::rt::precision::decode(Format format, uint32_t bits, int exponent) {
  switch (format) {
  case Format::F32:
    return floatOf(bits);
  case Format::I8:
    return std::ldexp(float(static_cast<int8_t>(bits)), exponent);
  case Format::I16:
    return std::ldexp(float(static_cast<int16_t>(bits)), exponent);
  default: {
    float x = decodeMinifloat(minifloat(format), bits);
    return exponent ? std::ldexp(x, exponent) : x;
  }
  }
}

void dlc::rt::precision::quantize(Format format, int exponent, const float *in,
                                  void *out, int64_t count) {
  if (format == Format::BF16 && exponent == 0) {
    // As roundTrip's fast path, keeping the top half.
    auto *codes = static_cast<uint16_t *>(out);
    for (int64_t i = 0; i < count; ++i) {
      uint32_t x = bitsOf(in[i]);
      uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
      uint32_t nan = ((x & 0x80000000u) | 0x7fc00000u) >> 16;
      codes[i] = static_cast<uint16_t>((x & 0x7fffffffu) > 0x7f800000u ? nan
                                                                       : rounded);
    }
    return;
  }
  switch (info(format).bits) {
  case 8:
    return quantizeAs<uint8_t>(format, exponent, in, out, count);
  case 16:
    return quantizeAs<uint16_t>(format, exponent, in, out, count);
  default:
    std::memcpy(out, in, count * sizeof(float));
  }
}

void dlc::rt::precision::dequantize(Format format, int exponent, const void *in,
                                    float *out, int64_t count) {
  if (format == Format::BF16 && exponent == 0) {
    // A bfloat16 code is fp32's top half (NaN payloads too).
    const auto *codes = static_cast<const uint16_t *>(in);
    for (int64_t i = 0; i < count; ++i)
      out[i] = floatOf(uint32_t(codes[i]) << 16);
    return;
  }
  switch (info(format).bits) {
  case 8:
    return dequantizeAs<uint8_t>(format, exponent, in, out, count);
  case 16:
    return dequantizeAs<uint16_t>(format, exponent, in, out, count);
  default:
    std::memcpy(out, in, count * sizeof(float));
  }
}

void dlc::rt::precision::roundTrip(Format format, int exponent, float *values,
                                   int64_t count) {
  if (format == Format::F32)
    return;
  if (format == Format::BF16 && exponent == 0) {
    // bfloat16 is fp32's top half: round the low half away to nearest even
    // (which carries into infinity past the largest value); NaN becomes the
    // quiet NaN with its sign, as encode() spells it. Branch-free, so that
    // the loop vectorises.
    for (int64_t i = 0; i < count; ++i) {
      uint32_t x = bitsOf(values[i]);
      uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) & 0xffff0000u;
      uint32_t nan = (x & 0x80000000u) | 0x7fc00000u;
      values[i] = floatOf((x & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
    }
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    values[i] = decode(format, encode(format, values[i], exponent), exponent);
}
