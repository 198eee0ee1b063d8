//===- CudaIndexingTest.cpp - the CUDA kernels' indexing, on the CPU ------===//
//
// The CUDA backend's broadcasting, reducing, moving, LRN and pooling
// kernels place each thread's reads and writes with CudaIndexing.h. Here
// those functions drive the same loops on the CPU, and the results are
// compared with the CPU backend's kernels on the same shapes: broadcasting
// along any dimension, reductions to rows, columns, channels and scalars,
// pad and crop, LRN, and the pooling windows cuDNN does not take.
//
//===----------------------------------------------------------------------===//

#include "../../lib/Runtime/CudaIndexing.h"
#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Kernels.h"

#include "RandomData.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace dlc::rt;
using dlc::rt::testing::uniformVector;

namespace {

int64_t count(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Row-major strides of `shape`, 0 where `kept` is 1 in `shape`'s place
/// (the operand is broadcast, or summed, along that dimension).
std::vector<int64_t> stridesKeeping(const std::vector<int64_t> &shape,
                                    const std::vector<bool> &kept) {
  std::vector<int64_t> strides(shape.size(), 0);
  int64_t stride = 1;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d)
    if (kept[d]) {
      strides[d] = stride;
      stride *= shape[d];
    }
  return strides;
}

struct Case {
  std::vector<int64_t> shape;
  std::vector<bool> kept;
};

// NCHW to channels (batch norm, a convolution's bias), rows, columns, a
// scalar, nothing summed, and a middle dimension of a rank-5 tensor.
const Case kCases[] = {
    {{4, 3, 5, 7}, {false, true, false, false}},
    {{6, 9}, {true, false}},
    {{6, 9}, {false, true}},
    {{3, 4, 5}, {false, false, false}},
    {{3, 4, 5}, {true, true, true}},
    {{2, 3, 4, 5, 6}, {true, false, true, false, true}},
    {{1, 300, 2}, {false, false, true}},
};

class CudaIndexingTest : public ::testing::TestWithParam<Case> {};

TEST_P(CudaIndexingTest, ReductionSumsWhatTheCpuKernelSums) {
  const Case &c = GetParam();
  int rank = static_cast<int>(c.shape.size());
  std::vector<float> x = uniformVector(count(c.shape), 1);
  std::vector<int64_t> yStrides = stridesKeeping(c.shape, c.kept);
  int64_t yCount = 1;
  for (int d = 0; d < rank; ++d)
    if (c.kept[d])
      yCount *= c.shape[d];

  std::vector<float> expected(yCount);
  Context *ctx = createContext(1, 1);
  reduceSumTo(*ctx, x.data(), c.shape.data(), rank, expected.data(),
              yStrides.data(), yCount);
  destroyContext(ctx);

  // What each thread (or block) of the CUDA kernels reads, in their order.
  cuda::Reduction r = cuda::makeReduction(c.shape.data(), rank,
                                          yStrides.data());
  ASSERT_EQ(r.perOutput * yCount, count(c.shape));
  std::vector<int> reads(x.size(), 0);
  for (int64_t j = 0; j < yCount; ++j) {
    double sum = 0;
    int64_t base = cuda::outputBase(r, j);
    for (int64_t k = 0; k < r.perOutput; ++k) {
      int64_t at = base + cuda::reducedOffset(r, k);
      ASSERT_GE(at, 0);
      ASSERT_LT(at, static_cast<int64_t>(x.size()));
      ++reads[at];
      sum += x[at];
    }
    EXPECT_NEAR(sum, expected[j], 1e-5) << "output " << j;
  }
  // Every element is summed exactly once.
  for (int n : reads)
    ASSERT_EQ(n, 1);
}

TEST_P(CudaIndexingTest, BroadcastReadsWhatTheCpuKernelReads) {
  const Case &c = GetParam();
  int rank = static_cast<int>(c.shape.size());
  std::vector<int64_t> full = stridesKeeping(c.shape, std::vector<bool>(rank, true));
  std::vector<int64_t> partial = stridesKeeping(c.shape, c.kept);
  std::vector<float> a = uniformVector(count(c.shape), 2);
  std::vector<float> b = uniformVector(count(c.shape), 3);
  std::vector<float> expected(count(c.shape));
  Context *ctx = createContext(1, 1);
  binary(*ctx, Binary::Sub, a.data(), full.data(), b.data(), partial.data(),
         expected.data(), c.shape.data(), rank);
  destroyContext(ctx);

  cuda::Dims dims{};
  dims.rank = rank;
  for (int d = 0; d < rank; ++d) {
    dims.shape[d] = c.shape[d];
    dims.strides[0][d] = full[d];
    dims.strides[1][d] = partial[d];
  }
  for (int64_t i = 0; i < count(c.shape); ++i) {
    int64_t o0, o1;
    cuda::broadcastOffsets(dims, i, o0, o1);
    ASSERT_EQ(a[o0] - b[o1], expected[i]) << "element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaIndexingTest, ::testing::ValuesIn(kCases));

} // namespace

namespace {

TEST(CudaIndexingMoves, TransposePadAndCropPlaceWhatTheCpuKernelsPlace) {
  Context *ctx = createContext(1, 1);
  const std::vector<int64_t> shape = {2, 3, 4, 5};
  std::vector<float> x = uniformVector(count(shape), 4);

  for (std::vector<int64_t> perm :
       {std::vector<int64_t>{0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 3, 1}, {1, 0, 3, 2}}) {
    std::vector<float> expected(x.size());
    transpose(*ctx, x.data(), shape.data(), perm.data(), 4, expected.data());
    cuda::Permutation p = cuda::makePermutation(shape.data(), perm.data(), 4);
    for (int64_t i = 0; i < count(shape); ++i)
      ASSERT_EQ(x[cuda::permutedOffset(p, i)], expected[i]) << "element " << i;
  }

  const std::vector<int64_t> low = {0, 1, 2, 0}, big = {3, 5, 7, 6};
  std::vector<float> padded(count(big));
  pad(*ctx, x.data(), shape.data(), 4, low.data(), -7.0f, padded.data(), big.data());
  cuda::Placement placed = cuda::makePlacement(shape.data(), 4, low.data(), big.data());
  for (int64_t i = 0; i < count(big); ++i) {
    int64_t source = cuda::placedSource(placed, i);
    ASSERT_EQ(source < 0 ? -7.0f : x[source], padded[i]) << "element " << i;
  }

  // Crop that block back out: placedOffset is where each element sits.
  std::vector<float> cropped(x.size());
  crop(*ctx, padded.data(), big.data(), 4, low.data(), cropped.data(), shape.data());
  for (int64_t i = 0; i < count(shape); ++i) {
    ASSERT_EQ(padded[cuda::placedOffset(placed, i)], cropped[i]) << "element " << i;
    ASSERT_EQ(cropped[i], x[i]);
  }
  destroyContext(ctx);
}

TEST(CudaIndexingMoves, LrnComputesWhatTheCpuKernelComputes) {
  Context *ctx = createContext(1, 1);
  const int64_t n = 2, c = 7, spatial = 6;
  std::vector<float> x = uniformVector(n * c * spatial, 5);
  std::vector<float> dy = uniformVector(n * c * spatial, 6);
  for (int64_t size : {1, 2, 5, 9}) {
    std::vector<float> y(x.size()), dx(x.size());
    lrn(*ctx, x.data(), y.data(), n, c, spatial, size, 0.3f, 0.75f, 2.0f);
    lrnGrad(*ctx, dy.data(), x.data(), y.data(), dx.data(), n, c, spatial, size,
            0.3f, 0.75f, 2.0f);
    for (int64_t i = 0; i < n * c * spatial; ++i) {
      // The CUDA kernel's place of element i (CudaNormalization.cu).
      int64_t channel = i / spatial % c;
      int64_t base = i / (c * spatial) * c * spatial + i % spatial;
      EXPECT_FLOAT_EQ(cuda::lrnValue(x.data(), base, channel, c, spatial, size, 0.3f,
                                     0.75f, 2.0f), y[i]) << "size " << size << " element " << i;
      EXPECT_NEAR(cuda::lrnGradValue(dy.data(), x.data(), base, channel, c, spatial, size,
                                     0.3f, 0.75f, 2.0f), dx[i], 1e-6)
          << "size " << size << " element " << i;
    }
  }
  destroyContext(ctx);
}

/// Pooling geometries cuDNN refuses: padded unevenly (as ceil mode and
/// SAME_UPPER import) or dilated. Fields as Pool2DGeometry declares them.
struct PoolCase {
  const char *name;
  Pool2DGeometry g;
};

const PoolCase kPoolCases[] = {
    // 3x3 / 2 on 10x10, ceil mode: one more row and column at the end.
    {"ceil", {2, 3, 10, 10, 5, 5, 3, 3, 2, 2, 0, 0, 1, 1, false, 1, 1}},
    // 2x2 / 2 on 5x5, ceil mode, the last window half outside.
    {"overhang", {2, 3, 5, 5, 3, 3, 2, 2, 2, 2, 0, 0, 1, 1, false, 1, 1}},
    // The same counting the padding.
    {"overhang-count-pad",
     {2, 3, 5, 5, 3, 3, 2, 2, 2, 2, 0, 0, 1, 1, true, 1, 1}},
    // 2x2 / 1, padding 1, dilation 2, on 6x5.
    {"dilated", {2, 3, 6, 5, 6, 5, 2, 2, 1, 1, 1, 1, 1, 1, false, 2, 2}},
    // Uneven in the other direction (SAME_UPPER's 1 at the start).
    {"same-upper", {1, 2, 6, 7, 3, 4, 3, 3, 2, 2, 1, 1, 0, 1, false, 1, 1}},
};

TEST(CudaIndexingPooling, UnevenAndDilatedWindowsComputeWhatTheCpuComputes) {
  Context *ctx = createContext(1, 1);
  for (const PoolCase &c : kPoolCases) {
    const Pool2DGeometry &g = c.g;
    int64_t planes = g.batch * g.channels;
    int64_t in = g.inHeight * g.inWidth, out = g.outHeight * g.outWidth;
    std::vector<float> x = uniformVector(planes * in, 11);
    std::vector<float> dy = uniformVector(planes * out, 12);
    for (bool max : {true, false}) {
      std::vector<float> y(planes * out), dx(planes * in);
      if (max) {
        maxPool2d(*ctx, g, x.data(), y.data(), nullptr, 0);
        maxPool2dGrad(*ctx, g, dy.data(), x.data(), dx.data(), nullptr, 0);
      } else {
        avgPool2d(*ctx, g, x.data(), y.data(), nullptr, 0);
        avgPool2dGrad(*ctx, g, dy.data(), dx.data(), nullptr, 0);
      }
      for (int64_t p = 0; p < planes; ++p) {
        const float *xPlane = &x[p * in], *dyPlane = &dy[p * out];
        for (int64_t i = 0; i < out; ++i) {
          int64_t oh = i / g.outWidth, ow = i % g.outWidth;
          float mine = max ? cuda::maxPoolValue(g, xPlane, oh, ow)
                           : cuda::avgPoolValue(g, xPlane, oh, ow);
          ASSERT_NEAR(mine, y[p * out + i], 1e-6)
              << c.name << (max ? " max" : " avg") << " output " << i;
        }
        for (int64_t i = 0; i < in; ++i) {
          int64_t h = i / g.inWidth, w = i % g.inWidth;
          float mine = max ? cuda::maxPoolGradValue(g, dyPlane, xPlane, h, w)
                           : cuda::avgPoolGradValue(g, dyPlane, h, w);
          ASSERT_NEAR(mine, dx[p * in + i], 1e-6)
              << c.name << (max ? " max" : " avg") << " gradient " << i;
        }
      }
    }
  }
  destroyContext(ctx);
}

} // namespace
