//===- Formats.h - the number formats a tensor may be kept in ---*- C++ -*-===//
//
// The formats --precision chooses among, and the conversions between them and
// fp32: round to nearest, ties to even (or stochastic rounding), as the
// hardware that has them converts. The minifloats follow ml_dtypes (bfloat16,
// float8_e4m3fn, float8_e5m2) and numpy's float16 bit for bit, NaN payloads
// included; the fixed-point formats are the DLU's dynamic fixed point: an
// integer times a power of two shared by the tensor (its exponent). No MLIR or
// LLVM here: trainers link it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_PRECISION_FORMATS_H
#define DLC_RUNTIME_PRECISION_FORMATS_H

#include "dlc/Runtime/Random.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace dlc::rt::precision {

enum class Format : int32_t { F32, BF16, F16, F8E4M3, F8E5M2, I8, I16 };

/// What a format can hold, in the positions of a value's leading bit (a
/// value x with 2^p <= |x| < 2^(p+1) has its leading bit at p): the values
/// from 2^lowest (the smallest nonzero magnitude, a subnormal in the
/// minifloats) to below 2^(highest + 1), scaled by 2^exponent for the
/// fixed-point formats (whose exponent is the tensor's) and, where a plan
/// gives one, for the minifloats too.
struct FormatInfo {
  Format format;
  const char *name;
  int bits;
  /// Bits of precision below the leading bit (the minifloats' mantissa).
  int fractionBits;
  int lowest, highest;
  /// The largest finite magnitude, unscaled.
  double largest;
  bool fixedPoint;
};

const FormatInfo &info(Format format);

/// A tensor's format while a step trains: what `roundToFormat` rounds it to.
struct TensorFormat {
  Format format = Format::F32;
  int exponent = 0;
};
std::optional<Format> parseFormat(std::string_view name);

/// The exponents a format may be scaled by: the scale factors 2^-exponent
/// and 2^exponent both normal fp32 numbers (the rounding scales in fp32, and
/// 2^135 is no float), and the scaled range inside fp32's. bf16, whose
/// range is fp32's, takes exponents up to 0; fp32 itself only 0.
constexpr int kLowestExponent = -126;
int highestExponent(Format format);
int lowestExponent(Format format);

/// Whether bf16 holds every value `format` holds at `exponent`: then a
/// kernel that multiplies in bf16 and sums in fp32 computes on them exactly
/// what an fp32 kernel does (fp8 and int8 yes, fp16 and int16 no).
bool bf16HoldsExactly(Format format, int exponent);

/// One value converted to `format` (its bits in the low bits of the result)
/// and back. `exponent`: the power of two the encoding is scaled by (the
/// value stored is x / 2^exponent). Fixed point saturates at the integer's
/// range, as the DLU does; the minifloats overflow as ml_dtypes converts
/// (to infinity, or NaN where the format has none, float8_e4m3fn).
/// `random`, where given, rounds stochastically: up with probability the
/// distance from the value below over the step (32 uniform bits).
uint32_t encode(Format format, float x, int exponent = 0);
uint32_t encodeStochastic(Format format, float x, uint32_t random,
                          int exponent = 0);
float decode(Format format, uint32_t bits, int exponent = 0);

/// Arrays: `out` holds info(format).bits / 8 bytes an element.
void quantize(Format format, int exponent, const float *in, void *out,
              int64_t count);
void dequantize(Format format, int exponent, const void *in, float *out,
                int64_t count);
/// Quantize and dequantize in place: how a kernel that keeps fp32 in
/// registers sees a tensor stored in `format` (exact emulation).
void roundTrip(Format format, int exponent, float *values, int64_t count);
/// roundTrip, but a finite value past the format's largest becomes the
/// largest (with its sign), as the DLU's fixed point and FP8 training's
/// casts saturate, rather than infinity or NaN: a step that overflows goes
/// on with its values clipped. Returns how many did.
int64_t roundTripSaturating(Format format, int exponent, float *values,
                            int64_t count);
/// roundTripSaturating rounding stochastically: values[i] as
/// encodeStochastic rounds it with randomBits(key, first + i), bit for bit,
/// then saturated. The bits are a function of the key and the element's
/// index alone, so a tensor rounds the same in any order of chunks.
int64_t roundTripSaturatingStochastic(Format format, int exponent,
                                      float *values, int64_t count,
                                      uint64_t key, int64_t first = 0);
/// 32 uniform random bits for element `index` under `key` (splitmix64's
/// finaliser, as dropout masks).
inline uint32_t randomBits(uint64_t key, int64_t index) {
  return static_cast<uint32_t>(mix64(key + static_cast<uint64_t>(index)) >> 32);
}

} // namespace dlc::rt::precision

#endif // DLC_RUNTIME_PRECISION_FORMATS_H
