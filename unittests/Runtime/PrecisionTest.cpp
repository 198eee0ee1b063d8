//===- PrecisionTest.cpp - format choice and tracking on known histograms -===//
//
// Histograms made by hand, where the right format, exponent and shares can
// be worked out from the ranges in Formats.h.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Precision/Choice.h"
#include "dlc/Runtime/Precision/Formats.h"
#include "dlc/Runtime/Precision/Tracking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace dlc::rt::precision;

namespace {
/// `perPosition` values at each leading-bit position from `low` to `high`,
/// the largest magnitude just under 2^(high + 1) times `topFraction`.
Statistics spread(int low, int high, int64_t perPosition = 1000,
                  double topFraction = 0.9) {
  Statistics s;
  for (int p = low; p <= high; ++p)
    s.counts[p - Statistics::kLowest] = perPosition;
  s.values = (high - low + 1) * perPosition;
  s.absMax = static_cast<float>(std::ldexp(2.0 * topFraction, high));
  return s;
}

/// The placement without headroom, whose arithmetic the tests below work
/// out; the margin's own tests follow them.
Tolerances tight() {
  Tolerances tolerances;
  tolerances.margin = 0;
  return tolerances;
}

TEST(PrecisionChoice, SixOctavesFitInt8WithTheTopAtItsTop) {
  // Positions -3..2: int8's range [e, e + 6] with e = 2 - 6.
  Choice choice = choose(spread(-3, 2), tight());
  EXPECT_EQ(choice.format, Format::I8);
  EXPECT_EQ(choice.exponent, -4);
  EXPECT_EQ(choice.overflowShare, 0.0);
  EXPECT_EQ(choice.underflowShare, 0.0);
  EXPECT_EQ(choice.top, 2);
}

TEST(PrecisionChoice, ALargestPastTheFormatsLargestRaisesTheExponent) {
  // 7.99 > 127 * 2^-4 = 7.9375: one more.
  Choice choice = choose(spread(-3, 2, 1000, 7.99 / 8.0), tight());
  EXPECT_EQ(choice.format, Format::I8);
  EXPECT_EQ(choice.exponent, -3);
  // 500 > 448: E4M3 with exponent 0 would overflow its 2^8.
  Statistics wide = spread(-8, 8, 1000, 500.0 / 512.0);
  choice = choose(wide, tight());
  EXPECT_EQ(choice.format, Format::F8E4M3);
  EXPECT_EQ(choice.exponent, 1);
}

TEST(PrecisionChoice, TwelveOctavesTakeE4M3Unscaled) {
  // Int8 with e = -3 loses positions -8..-4, 5 of 12: too much underflow.
  Choice choice = choose(spread(-8, 3), tight());
  EXPECT_EQ(choice.format, Format::F8E4M3);
  EXPECT_EQ(choice.exponent, 0);
  EXPECT_EQ(place(Format::I8, spread(-8, 3), tight()).underflowShare,
            5.0 / 12.0);
}

TEST(PrecisionChoice, WiderSpreadsTakeWiderFormats) {
  // 25 octaves: past E4M3's 18, within E5M2's 32 (scaled: -30..-6 sits
  // below its unscaled range).
  Choice e5m2 = choose(spread(-30, -6, 1000, 0.8), tight());
  EXPECT_EQ(e5m2.format, Format::F8E5M2);
  EXPECT_EQ(e5m2.exponent, -6 - 15);
  // 35 octaves: past int16's 15, within fp16's 40.
  EXPECT_EQ(choose(spread(-20, 14), tight()).format, Format::F16);
  // 60: only bf16, unscaled.
  Choice bf16 = choose(spread(-40, 19), tight());
  EXPECT_EQ(bf16.format, Format::BF16);
  EXPECT_EQ(bf16.exponent, 0);
  // fp32's whole range: nothing narrower, and it says why.
  Choice f32 = choose(spread(-149, 127), tight());
  EXPECT_EQ(f32.format, Format::F32);
  EXPECT_EQ(f32.reason, "bf16 and narrower underflow");
}

TEST(PrecisionChoice, RareOutliersSaturateWithinTheOverflowTolerance) {
  Statistics s = spread(0, 5, 100000);
  s.counts[20 - Statistics::kLowest] = 10;
  s.values += 10;
  s.absMax = 1.5e6f;
  // 10 of 600010 above: under 1e-4, so the range's top stays at 5.
  Choice choice = choose(s, tight());
  EXPECT_EQ(choice.format, Format::I8);
  EXPECT_EQ(choice.top, 5);
  EXPECT_EQ(choice.exponent, -1);
  EXPECT_DOUBLE_EQ(choice.overflowShare, 10.0 / 600010.0);
  // Allowed none: the range must reach them, 21 octaves: past int8's 7
  // and E4M3's 18, within E5M2's 32, scaled up to reach 2^20.
  Tolerances strict = tight();
  strict.overflow = 0.0;
  Choice wide = choose(s, strict);
  EXPECT_EQ(wide.format, Format::F8E5M2);
  EXPECT_EQ(wide.exponent, 20 - 15);
}

TEST(PrecisionChoice, UnderflowExactlyAtTheToleranceFits) {
  // int8 with e = 6 - 6: position -1 (7 of 7000 values) below.
  Statistics s = spread(0, 6, 999);
  s.counts[-1 - Statistics::kLowest] = 7;
  s.values += 7;
  Tolerances tolerances = tight();
  tolerances.underflow = 7.0 / double(s.placed());
  EXPECT_EQ(choose(s, tolerances).format, Format::I8);
  tolerances.underflow = 6.0 / double(s.placed());
  EXPECT_NE(choose(s, tolerances).format, Format::I8);
}

TEST(PrecisionChoice, NonFiniteValuesKeepFp32) {
  Statistics s = spread(-3, 2);
  s.nonFinite = 1;
  s.values += 1;
  Choice choice = choose(s, tight());
  EXPECT_EQ(choice.format, Format::F32);
  EXPECT_EQ(choice.reason, "non-finite values");
}

TEST(PrecisionChoice, OnlyAllowedFormatsAreChosen) {
  Choice choice = choose(spread(-3, 2), tight(), {Format::BF16});
  EXPECT_EQ(choice.format, Format::BF16);
  EXPECT_EQ(choice.exponent, 0);
  EXPECT_EQ(choose(spread(-3, 2), tight(), {}).reason,
            "no narrower format allowed");
}

TEST(PrecisionChoice, TheMarginLeavesHeadroomAboveTheTop) {
  // The default margin, 1: positions -3..2 with the top one below int8's.
  Choice choice = choose(spread(-3, 2), Tolerances());
  EXPECT_EQ(choice.format, Format::I8);
  EXPECT_EQ(choice.exponent, -3);
  // Seven octaves fill int8 without headroom; with it, -4 underflows
  // (1/7 > 1e-3) and E4M3 at exponent 0 holds -4..2 with 6 to spare.
  EXPECT_EQ(choose(spread(-4, 2), tight()).format, Format::I8);
  choice = choose(spread(-4, 2), Tolerances());
  EXPECT_EQ(choice.format, Format::F8E4M3);
  EXPECT_EQ(choice.exponent, 0);
  // A minifloat is scaled where its top lacks the headroom: positions up
  // to 8 take E4M3 at 2^1 with a margin, at 2^0 without.
  EXPECT_EQ(choose(spread(-6, 7), tight()).exponent, 0);
  choice = choose(spread(-6, 7), Tolerances());
  EXPECT_EQ(choice.format, Format::F8E4M3);
  EXPECT_EQ(choice.exponent, 1);
  Tolerances two;
  two.margin = 2;
  choice = choose(spread(-2, 2), two);
  EXPECT_EQ(choice.format, Format::I8);
  EXPECT_EQ(choice.exponent, -2);
}

TEST(PrecisionChoice, TheExponentStaysWhereFp32CanScale) {
  // 143 octaves, 17 of them below bf16's smallest subnormal: bf16 would
  // need 2^-135 to hold them, a scale fp32 cannot multiply by; 2^-126
  // holds them all.
  Choice choice = choose(spread(-150, -8), tight());
  EXPECT_EQ(choice.format, Format::BF16);
  EXPECT_EQ(choice.exponent, -126);
  EXPECT_EQ(choice.underflowShare, 0.0);
  EXPECT_EQ(highestExponent(Format::BF16), 0);
  EXPECT_EQ(highestExponent(Format::I8), 121);
  EXPECT_EQ(highestExponent(Format::F32), 0);
  EXPECT_EQ(lowestExponent(Format::F8E5M2), -126);
}

TEST(PrecisionChoice, ZerosFitTheNarrowest) {
  Statistics s;
  s.values = s.zeros = 100;
  Choice choice = choose(s, tight());
  EXPECT_EQ(choice.format, Format::I8);
  EXPECT_EQ(choice.exponent, 0);
}

TEST(PrecisionStatistics, MergingAddsCountsAndKeepsTheLargest) {
  Statistics a, b;
  float x[] = {1.0f, -3.0f, 0.0f};
  float y[] = {0.25f, INFINITY, -5.0f};
  a.add(x, 3);
  b.add(y, 3);
  a.merge(b);
  EXPECT_EQ(a.values, 6);
  EXPECT_EQ(a.zeros, 1);
  EXPECT_EQ(a.nonFinite, 1);
  EXPECT_EQ(a.absMax, 5.0f);
  EXPECT_EQ(a.count(0), 1);
  EXPECT_EQ(a.count(1), 1);
  EXPECT_EQ(a.count(2), 1);
  EXPECT_EQ(a.count(-2), 1);
  EXPECT_EQ(a.highestPosition(), 2);
  EXPECT_EQ(a.lowestPosition(), -2);
}
} // namespace

namespace {
using Change = FormatTracker::Change;

TEST(PrecisionTracking, TheExponentFollowsTheRecentHistograms) {
  Tolerances tolerances = tight();
  FormatTracker tracker(choose(spread(-3, 2), tolerances), tolerances, 2);
  ASSERT_EQ(tracker.current().format, Format::I8);
  ASSERT_EQ(tracker.current().exponent, -4);
  // The values grow by two octaves: with a window of one interval, the
  // exponent follows.
  FormatTracker single(choose(spread(-3, 2), tolerances), tolerances, 1);
  EXPECT_EQ(single.update(spread(-1, 4)), Change::Exponent);
  EXPECT_EQ(single.current().exponent, -2);
  EXPECT_EQ(single.update(spread(-1, 4)), Change::None);
  // With a history of two, the old interval still counts: -3..4 is 8
  // octaves, past int8's 7; E4M3, next in the order, holds 18.
  EXPECT_EQ(tracker.update(spread(-3, 2)), Change::None);
  EXPECT_EQ(tracker.update(spread(-1, 4)), Change::Widened);
  EXPECT_EQ(tracker.current().format, Format::F8E4M3);
}

TEST(PrecisionTracking, ATensorThatOutgrowsItsFormatWidens) {
  Tolerances tolerances = tight();
  FormatTracker tracker(choose(spread(-8, 3), tolerances), tolerances, 4);
  ASSERT_EQ(tracker.current().format, Format::F8E4M3);
  // 30 octaves: past E4M3's 18, within E5M2's 32, scaled so that the top
  // (14.4 > 57344 * 2^-12) fits.
  EXPECT_EQ(tracker.update(spread(-26, 3)), Change::Widened);
  EXPECT_EQ(tracker.current().format, Format::F8E5M2);
  EXPECT_EQ(tracker.current().exponent, -11);
}

TEST(PrecisionTracking, AnOverflowRaisesTheExponentAtOnce) {
  Tolerances tolerances = tight();
  FormatTracker tracker(choose(spread(-3, 2), tolerances), tolerances);
  tracker.overflowed();
  EXPECT_EQ(tracker.current().exponent, -3);
  EXPECT_EQ(tracker.overflows(), 1);
}

TEST(PrecisionTracking, ASpikeInOneIntervalIsNotAveragedAway) {
  Tolerances tolerances = tight();
  FormatTracker tracker(choose(spread(-3, 2), tolerances), tolerances, 4);
  ASSERT_EQ(tracker.current().exponent, -4);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(tracker.update(spread(-3, 2)), Change::None);
  // One value an octave up: 1 in 6001 of its interval, past the 1e-4
  // overflow tolerance, though 1 in 24001 of the four merged is within it.
  Statistics spike = spread(-3, 2);
  spike.counts[3 - Statistics::kLowest] = 1;
  spike.values += 1;
  spike.absMax = 9.0f;
  EXPECT_EQ(tracker.update(spike), Change::Exponent);
  EXPECT_EQ(tracker.current().exponent, -3);
  EXPECT_EQ(tracker.current().overflowShare, 0.0);
}

TEST(PrecisionTracking, AnOverflowHoldsItsExponentForTheHistory) {
  Tolerances tolerances = tight();
  FormatTracker tracker(choose(spread(-3, 2), tolerances), tolerances, 2);
  tracker.overflowed();
  // The overflowed step's interval and the next are the history of two.
  EXPECT_EQ(tracker.update(spread(-3, 2)), Change::None);
  EXPECT_EQ(tracker.update(spread(-3, 2)), Change::None);
  EXPECT_EQ(tracker.current().exponent, -3);
  EXPECT_EQ(tracker.update(spread(-3, 2)), Change::Exponent);
  EXPECT_EQ(tracker.current().exponent, -4);
}

TEST(PrecisionTracking, NonFiniteStatisticsMoveToFp32) {
  Tolerances tolerances = tight();
  FormatTracker tracker(choose(spread(-3, 2), tolerances), tolerances);
  Statistics bad = spread(-3, 2);
  bad.nonFinite = 1;
  bad.values += 1;
  EXPECT_EQ(tracker.update(bad), Change::Widened);
  EXPECT_EQ(tracker.current().format, Format::F32);
}
} // namespace

TEST(PrecisionFormats, AValueWhoseScalingOverflowsFp32Saturates) {
  // 1e30 * 2^126 and 1e20 * 2^100 are past fp32's largest: the rounding
  // saturates them as any value past the format's largest, and counts them.
  float bf16[] = {1e30f, -1e30f, 0.0f, 1.0f, NAN};
  EXPECT_EQ(roundTripSaturating(Format::BF16, -126, bf16, 5), 2);
  EXPECT_EQ(bf16[0], std::ldexp(float(info(Format::BF16).largest), -126));
  EXPECT_EQ(bf16[1], -bf16[0]);
  EXPECT_EQ(bf16[2], 0.0f);
  EXPECT_EQ(bf16[3], 1.0f);
  EXPECT_TRUE(std::isnan(bf16[4]));
  float e5m2[] = {1e20f, 1e-30f};
  EXPECT_EQ(roundTripSaturating(Format::F8E5M2, -100, e5m2, 2), 1);
  EXPECT_EQ(e5m2[0], std::ldexp(57344.0f, -100));
  EXPECT_EQ(e5m2[1], std::ldexp(1.25f, -100)); // 1e-30 * 2^100 = 1.27
}

/// Values over `format`'s range at `exponent` and past it: random
/// significands at every leading-bit position from below its smallest
/// subnormal to above its largest, both signs, and the grid's midpoints.
std::vector<float> valuesAcross(Format format, int exponent) {
  const FormatInfo &f = info(format);
  std::vector<float> values;
  uint64_t state = 7;
  for (int p = f.lowest - 3; p <= f.highest + 2; ++p)
    for (int k = 0; k < 64; ++k) {
      state = dlc::rt::mix64(state);
      float significand = 1.0f + float(state >> 41) / float(1 << 23);
      if (k == 0) // a midpoint of the grid at this position
        significand = 1.0f + std::ldexp(1.0f, -std::max(f.fractionBits, 1) - 1);
      float x = std::ldexp(significand, p + exponent);
      if (std::isfinite(x))
        values.push_back(k % 2 ? -x : x);
    }
  return values;
}

TEST(PrecisionFormats, StochasticRoundingIsEncodeStochasticBitForBit) {
  const uint64_t key = 0x5eedf00dull;
  for (Format format : {Format::BF16, Format::F16, Format::F8E4M3,
                        Format::F8E5M2, Format::I8, Format::I16})
    for (int exponent : {0, -5, 3}) {
      if (exponent > highestExponent(format))
        continue;
      std::vector<float> values = valuesAcross(format, exponent);
      std::vector<float> rounded = values;
      // Two calls, as two threads' chunks: the bits follow the index.
      int64_t half = static_cast<int64_t>(values.size()) / 2;
      int64_t clipped =
          roundTripSaturatingStochastic(format, exponent, rounded.data(), half,
                                        key, 0) +
          roundTripSaturatingStochastic(format, exponent, rounded.data() + half,
                                        values.size() - half, key, half);
      float largest = std::ldexp(float(info(format).largest), exponent);
      int64_t expectedClipped = 0;
      for (size_t i = 0; i < values.size(); ++i) {
        float expected = decode(
            format,
            encodeStochastic(format, values[i], randomBits(key, i), exponent),
            exponent);
        // Fixed point: two's complement, one step more below than above.
        bool past = info(format).fixedPoint
                        ? values[i] > largest ||
                              values[i] < -largest - std::ldexp(1.0f, exponent)
                        : !std::isfinite(expected);
        expectedClipped += past;
        if (!std::isfinite(expected))
          expected = std::copysign(largest, values[i]);
        ASSERT_EQ(std::memcmp(&expected, &rounded[i], sizeof(float)), 0)
            << info(format).name << " at 2^" << exponent << ": " << values[i]
            << " -> " << rounded[i] << ", expected " << expected;
      }
      EXPECT_EQ(clipped, expectedClipped) << info(format).name;
    }
}

TEST(PrecisionFormats, StochasticRoundingIsUnbiased) {
  // 3.3 in int8 at 2^0: 3 or 4, 4 three times in ten.
  std::vector<float> values(100000, 3.3f);
  roundTripSaturatingStochastic(Format::I8, 0, values.data(), values.size(),
                                42);
  double sum = 0.0;
  for (float v : values) {
    ASSERT_TRUE(v == 3.0f || v == 4.0f);
    sum += v;
  }
  EXPECT_NEAR(sum / values.size(), 3.3, 0.01);
}

/// Whether every code of `format` at `exponent` decodes to a value that
/// survives rounding to bf16, found by decoding them all.
bool everyCodeIsBf16(Format format, int exponent) {
  uint32_t codes = 1u << info(format).bits;
  for (uint32_t code = 0; code < codes; ++code) {
    float value = decode(format, code, exponent);
    if (!std::isfinite(value))
      continue;
    float rounded = value;
    roundTrip(Format::BF16, 0, &rounded, 1);
    if (rounded != value)
      return false;
  }
  return true;
}

TEST(PrecisionFormats, Bf16HoldsExactlyWhatDecodingEveryCodeShows) {
  for (Format format : {Format::BF16, Format::F16, Format::F8E4M3,
                        Format::F8E5M2, Format::I8, Format::I16})
    for (int exponent : {-140, -125, -20, 0, 7})
      EXPECT_EQ(bf16HoldsExactly(format, exponent),
                everyCodeIsBf16(format, exponent))
          << info(format).name << " at 2^" << exponent;
  EXPECT_TRUE(bf16HoldsExactly(Format::F8E4M3, 0));
  EXPECT_TRUE(bf16HoldsExactly(Format::I8, -7));
  EXPECT_FALSE(bf16HoldsExactly(Format::F16, 0));
  EXPECT_FALSE(bf16HoldsExactly(Format::F32, 0));
}
