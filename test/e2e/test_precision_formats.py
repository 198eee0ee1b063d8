"""The runtime's number formats (lib/Runtime/Precision) against references
nobody here wrote: ml_dtypes (bfloat16, float8_e4m3fn, float8_e5m2) and
numpy's float16, bit for bit, NaN payloads, infinities, subnormals and ties
included; dynamic fixed point against numpy's rint and clip; the statistics
against numpy's frexp. Through the C entry points of libdlc_precision.so.
ml_dtypes comes from PyPI into the test venv scripts/test.sh makes."""
import ctypes

import ml_dtypes
import numpy as np
import pytest

from conftest import BUILD

LIB = ctypes.CDLL(str(BUILD / "lib" / "libdlc_precision.so"))
FLOATS = np.ctypeslib.ndpointer(np.float32, flags="C_CONTIGUOUS")
LIB.dlc_precision_format.restype = ctypes.c_int
LIB.dlc_precision_format.argtypes = [ctypes.c_char_p]
for name in ("dlc_precision_quantize", "dlc_precision_dequantize"):
    getattr(LIB, name).argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                   ctypes.c_void_p, ctypes.c_int64]
LIB.dlc_precision_round_trip.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                         ctypes.c_int64]
LIB.dlc_precision_round_trip_saturating.argtypes = LIB.dlc_precision_round_trip.argtypes
LIB.dlc_precision_round_trip_saturating.restype = ctypes.c_int64
LIB.dlc_precision_quantize_stochastic.argtypes = [
    ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
    ctypes.c_int64]
LIB.dlc_precision_statistics.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                                         ctypes.c_void_p, ctypes.c_void_p]

# Each minifloat: its reference dtype and the unsigned integer of its width.
MINIFLOATS = {"bf16": (ml_dtypes.bfloat16, np.uint16), "fp16": (np.float16, np.uint16),
              "fp8e4m3": (ml_dtypes.float8_e4m3fn, np.uint8),
              "fp8e5m2": (ml_dtypes.float8_e5m2, np.uint8)}


def fmt(name):
    code = LIB.dlc_precision_format(name.encode())
    assert code >= 0, name
    return code


def quantize(name, x, exponent=0, storage=None):
    x = np.ascontiguousarray(x, np.float32)
    out = np.empty(x.shape, storage or MINIFLOATS[name][1])
    LIB.dlc_precision_quantize(fmt(name), exponent, x.ctypes.data, out.ctypes.data, x.size)
    return out


def dequantize(name, codes, exponent=0):
    codes = np.ascontiguousarray(codes)
    out = np.empty(codes.shape, np.float32)
    LIB.dlc_precision_dequantize(fmt(name), exponent, codes.ctypes.data, out.ctypes.data,
                                 codes.size)
    return out


def reference_codes(name, x):
    dtype, storage = MINIFLOATS[name]
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(x, np.float32).astype(dtype).view(storage)


def every_code(storage):
    return np.arange(np.iinfo(storage).max + 1, dtype=np.uint64).astype(storage)


def bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def inputs_around_every_value(name):
    """Each finite value of the format, its neighbours in fp32, and the
    midpoints to the next value (the ties) with theirs; then the specials,
    fp32's subnormals and random fp32 bit patterns."""
    dtype, storage = MINIFLOATS[name]
    with np.errstate(invalid="ignore"):
        values = every_code(storage).view(dtype).astype(np.float64)
    values = np.unique(values[np.isfinite(values)])
    middles = (values[:-1] + values[1:]) / 2
    points = np.concatenate([values, middles]).astype(np.float32)
    near = [points, np.nextafter(points, np.float32(np.inf)),
            np.nextafter(points, np.float32(-np.inf))]
    rng = np.random.default_rng(7)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e30, -1e30,
                         np.finfo(np.float32).max, np.finfo(np.float32).tiny,
                         np.float32(1e-45)], np.float32)
    nans = np.array([0x7f800001, 0x7fa00000, 0xffc00001, 0x7fffffff, 0xff800100],
                    np.uint32).view(np.float32)
    subnormals = rng.integers(1, 1 << 23, 20000, dtype=np.uint32).view(np.float32)
    random = rng.integers(0, 1 << 32, 1 << 20, dtype=np.uint64).astype(np.uint32)
    return np.concatenate(near + [specials, nans, subnormals, random.view(np.float32)])


@pytest.mark.parametrize("name", sorted(MINIFLOATS))
def test_every_code_decodes_as_the_reference_does(name):
    dtype, storage = MINIFLOATS[name]
    codes = every_code(storage)
    expected = codes.view(dtype).astype(np.float32)
    assert np.array_equal(bits(dequantize(name, codes)), bits(expected))


@pytest.mark.parametrize("name", sorted(MINIFLOATS))
def test_encoding_rounds_as_the_reference_does(name):
    x = inputs_around_every_value(name)
    ours, theirs = quantize(name, x), reference_codes(name, x)
    wrong = np.flatnonzero(ours != theirs)
    assert wrong.size == 0, "%d of %d differ, first: x bits %#x, ours %#x, theirs %#x" % (
        wrong.size, x.size, bits(x)[wrong[0]], ours[wrong[0]], theirs[wrong[0]])


@pytest.mark.parametrize("name", sorted(MINIFLOATS))
def test_rounding_in_place_is_the_references_round_trip(name):
    """What the step's roundToFormat computes (bfloat16 has a fast path of
    its own): the reference's conversion to the format and back."""
    x = inputs_around_every_value(name)
    ours = x.copy()
    LIB.dlc_precision_round_trip(fmt(name), 0, ours.ctypes.data, ours.size)
    with np.errstate(over="ignore", invalid="ignore"):
        expected = x.astype(MINIFLOATS[name][0]).astype(np.float32)
    wrong = np.flatnonzero(bits(ours) != bits(expected))
    assert wrong.size == 0, "%d of %d differ, first: x bits %#x, ours %#x, theirs %#x" % (
        wrong.size, x.size, bits(x)[wrong[0]], bits(ours)[wrong[0]], bits(expected)[wrong[0]])


LARGEST = {"bf16": 3.3895313892515355e38, "fp16": 65504.0, "fp8e4m3": 448.0,
           "fp8e5m2": 57344.0}


@pytest.mark.parametrize("name", sorted(MINIFLOATS))
@pytest.mark.parametrize("exponent", [0, -7, 4])
def test_the_training_round_trip_is_the_references_but_saturates(name, exponent):
    """What a step's roundToFormat computes (its own fast arithmetic): the
    reference's round trip of the scaled value, except that what the
    reference turns from finite to infinite or NaN is the largest value,
    with its sign, and counted."""
    x = inputs_around_every_value(name)
    x = x[np.abs(x) < 1e37]  # what scaling by 2^4 keeps finite
    x = np.ldexp(x, exponent).astype(np.float32)
    ours = x.copy()
    clipped = LIB.dlc_precision_round_trip_saturating(fmt(name), exponent, ours.ctypes.data,
                                                      ours.size)
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.ldexp(np.ldexp(x, -exponent).astype(MINIFLOATS[name][0])
                            .astype(np.float32), exponent).astype(np.float32)
    over = np.isfinite(x) & ~np.isfinite(expected)
    with np.errstate(over="ignore"):  # bf16 scaled up past fp32: infinity
        expected[over] = np.copysign(np.float32(np.ldexp(LARGEST[name], exponent)), x[over])
    assert clipped == over.sum()
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(ours), nan)
    wrong = np.flatnonzero(bits(ours[~nan]) != bits(expected[~nan]))
    assert wrong.size == 0, "%d differ, first: x %r ours %r theirs %r" % (
        wrong.size, x[~nan][wrong[0]], ours[~nan][wrong[0]], expected[~nan][wrong[0]])


@pytest.mark.parametrize("name,bits_,exponent", [("int8", 8, -5), ("int16", 16, -12),
                                                 ("int8", 8, 3)])
def test_the_training_round_trip_of_fixed_point_saturates_and_counts(name, bits_, exponent):
    rng = np.random.default_rng(bits_ + exponent)
    x = (rng.standard_normal(1 << 16) * 2.0 ** (exponent + bits_ - 3)).astype(np.float32)
    x[:3] = [np.nan, 0.5 * 2.0 ** exponent, 1.5 * 2.0 ** exponent]  # NaN and ties
    ours = x.copy()
    clipped = LIB.dlc_precision_round_trip_saturating(fmt(name), exponent, ours.ctypes.data,
                                                      ours.size)
    top = 2 ** (bits_ - 1)
    scaled = np.rint(np.nan_to_num(np.ldexp(x.astype(np.float64), -exponent), nan=0.0))
    assert clipped == int(((scaled > top - 1) | (scaled < -top)).sum())
    # An integer has no negative zero: + 0.0 makes numpy's -0.0 one.
    expected = np.ldexp(np.clip(scaled, -top, top - 1), exponent).astype(np.float32) + 0.0
    assert np.array_equal(bits(ours), bits(expected.astype(np.float32)))


@pytest.mark.parametrize("name", ["fp8e4m3", "fp8e5m2", "fp16"])
@pytest.mark.parametrize("exponent", [-12, 5])
def test_a_scaled_encoding_is_the_reference_on_the_scaled_value(name, exponent):
    rng = np.random.default_rng(exponent + 20)
    x = (rng.standard_normal(1 << 16) * 2.0 ** (exponent + 3)).astype(np.float32)
    assert np.array_equal(quantize(name, x, exponent),
                          reference_codes(name, np.ldexp(x, -exponent)))
    decoded = dequantize(name, quantize(name, x, exponent), exponent)
    expected = np.ldexp(reference_codes(name, np.ldexp(x, -exponent))
                        .view(MINIFLOATS[name][0]).astype(np.float32), exponent)
    assert np.array_equal(bits(decoded), bits(expected))


@pytest.mark.parametrize("name,storage", [("int8", np.int8), ("int16", np.int16)])
@pytest.mark.parametrize("exponent", [-9, 0, 4])
def test_fixed_point_rounds_to_even_and_saturates(name, storage, exponent):
    rng = np.random.default_rng(abs(exponent))
    limit = np.iinfo(storage)
    steps = rng.integers(2 * limit.min, 2 * limit.max, 1 << 16)
    # Exact ties (k + 1/2 steps), values beside them, beyond the range, specials.
    x = np.concatenate([np.ldexp(steps + 0.5, exponent), np.ldexp(steps + 0.49, exponent),
                        np.ldexp(rng.standard_normal(1 << 16) * limit.max, exponent),
                        [np.inf, -np.inf, 0.0, -0.0, 1e30]]).astype(np.float32)
    expected = np.clip(np.rint(np.ldexp(x.astype(np.float64), -exponent)), limit.min,
                       limit.max).astype(storage)
    assert np.array_equal(quantize(name, x, exponent, storage), expected)
    assert quantize(name, np.array([np.nan], np.float32), exponent, storage)[0] == 0
    assert np.array_equal(dequantize(name, expected, exponent),
                          np.ldexp(expected.astype(np.float32), exponent))


@pytest.mark.parametrize("name", ["bf16", "fp8e4m3", "fp8e5m2"])
def test_stochastic_rounding_picks_a_neighbour_and_is_unbiased(name):
    dtype, storage = MINIFLOATS[name]
    rng = np.random.default_rng(3)
    x = np.float32(rng.uniform(1.0, 2.0))
    draws = 200000
    values = np.full(draws, x, np.float32)
    random = rng.integers(0, 1 << 32, draws, dtype=np.uint64).astype(np.uint32)
    codes = np.empty(draws, storage)
    LIB.dlc_precision_quantize_stochastic(fmt(name), 0, values.ctypes.data,
                                          random.ctypes.data, codes.ctypes.data, draws)
    rounded = codes.view(dtype).astype(np.float64)
    nearest = reference_codes(name, [x]).view(dtype).astype(np.float64)[0]
    step = 2.0 ** (-info_fraction_bits(name))
    below = nearest if nearest <= x else nearest - step
    assert set(np.unique(rounded)) <= {below, below + step}
    # Up with probability (x - below) / step: the mean is x, within 5 sigma.
    p = (float(x) - below) / step
    sigma = step * np.sqrt(p * (1 - p) / draws)
    assert abs(rounded.mean() - float(x)) <= 5 * sigma + 1e-12


def info_fraction_bits(name):
    return {"bf16": 7, "fp8e4m3": 3, "fp8e5m2": 2}[name]


def test_statistics_count_leading_bits_as_frexp_does():
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.standard_normal(50000) * 10.0 ** rng.integers(-30, 30, 50000),
                        [0.0, -0.0, 0.0, np.inf, -np.nan, 3e38, 1e-45, 2.0 ** -126]]
                       ).astype(np.float32)
    counts = np.zeros(277, np.int64)
    totals = np.zeros(3, np.int64)
    absmax = np.zeros(1, np.float32)
    LIB.dlc_precision_statistics(x.ctypes.data, x.size, counts.ctypes.data,
                                 totals.ctypes.data, absmax.ctypes.data)
    finite = x[np.isfinite(x) & (x != 0)]
    _, exponents = np.frexp(finite.astype(np.float64))
    expected = np.bincount(exponents - 1 + 149, minlength=277)
    assert np.array_equal(counts, expected)
    assert list(totals) == [x.size, 3, 2]
    assert absmax[0] == np.abs(finite).max()
