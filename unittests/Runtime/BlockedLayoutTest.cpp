//===- BlockedLayoutTest.cpp - kernels on blocked activations, checked ----===//
//
// dlc-assign-cpu-layouts may keep activations in oneDNN's nChw8c / nChw16c
// layouts, telling the convolution, pooling and batch-norm kernels through
// the layout fields of their geometries. Here each kernel runs once on NCHW
// and once on the same data blocked (by this file's own index arithmetic,
// not oneDNN's), for each block and for mixed layouts (input blocked,
// output plain and the other way round): the blocked results, unblocked,
// must equal the NCHW ones.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Kernels.h"

#include "RandomData.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace dlc::rt;
using dlc::rt::testing::uniformVector;

namespace {

struct Shape {
  int64_t n, c, h, w;
  size_t size() const { return n * c * h * w; }
};

/// Calls f(i, j) for every element: i its index in NCHW, j in
/// nChw{block}c.
template <typename F> void forEachElement(Shape s, int64_t block, F f) {
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t p = 0; p < s.h * s.w; ++p)
        f((n * s.c + c) * s.h * s.w + p,
          ((n * (s.c / block) + c / block) * s.h * s.w + p) * block +
              c % block);
}

/// NCHW -> nChw{block}c (block 0: a copy).
std::vector<float> toLayout(const std::vector<float> &plain, Shape s,
                            int64_t block) {
  if (block == 0)
    return plain;
  std::vector<float> blocked(plain.size());
  forEachElement(s, block,
                 [&](int64_t i, int64_t j) { blocked[j] = plain[i]; });
  return blocked;
}

/// nChw{block}c -> NCHW.
std::vector<float> fromLayout(const std::vector<float> &blocked, Shape s,
                              int64_t block) {
  if (block == 0)
    return blocked;
  std::vector<float> plain(blocked.size());
  forEachElement(s, block,
                 [&](int64_t i, int64_t j) { plain[i] = blocked[j]; });
  return plain;
}

void expectClose(const std::vector<float> &actual,
                 const std::vector<float> &expected, const char *what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i], 1e-5f * (1.0f + std::fabs(expected[i])))
        << what << " at " << i;
}

class BlockedLayoutTest
    : public ::testing::TestWithParam<std::pair<int64_t, int64_t>> {
protected:
  void SetUp() override { ctx = createContext(1, /*worldSize=*/1); }
  void TearDown() override { destroyContext(ctx); }
  Context *ctx = nullptr;
};

TEST_P(BlockedLayoutTest, Convolution) {
  auto [inBlock, outBlock] = GetParam();
  Shape xs{2, 16, 9, 9}, ys{2, 32, 5, 5};
  Conv2DGeometry plain{2, 16, 9, 9, 32, 3, 3, 5, 5, 2,
                       2, 1,  1, 1, 1,  1, 1, 1, 2};
  Conv2DGeometry blocked = plain;
  blocked.inputBlock = inBlock;
  blocked.outputBlock = outBlock;
  std::vector<float> x = uniformVector(xs.size(), 1),
                     w = uniformVector(32 * 16 * 9, 2),
                     dy = uniformVector(ys.size(), 3);
  std::vector<float> y(ys.size()), dx(xs.size()), dw(w.size());
  conv2d(*ctx, plain, x.data(), w.data(), nullptr, y.data(), nullptr, 0);
  conv2dBackwardData(*ctx, plain, dy.data(), w.data(), dx.data(), nullptr, 0);
  conv2dBackwardFilter(*ctx, plain, dy.data(), x.data(), dw.data(), nullptr, 0);

  std::vector<float> bx = toLayout(x, xs, inBlock),
                     bdy = toLayout(dy, ys, outBlock);
  std::vector<float> by(ys.size()), bdx(xs.size()), bdw(w.size());
  conv2d(*ctx, blocked, bx.data(), w.data(), nullptr, by.data(), nullptr, 0);
  conv2dBackwardData(*ctx, blocked, bdy.data(), w.data(), bdx.data(), nullptr,
                     0);
  conv2dBackwardFilter(*ctx, blocked, bdy.data(), bx.data(), bdw.data(),
                       nullptr, 0);
  expectClose(fromLayout(by, ys, outBlock), y, "y");
  expectClose(fromLayout(bdx, xs, inBlock), dx, "dx");
  expectClose(bdw, dw, "dw");
}

TEST_P(BlockedLayoutTest, Pooling) {
  auto [inBlock, outBlock] = GetParam();
  Shape xs{2, 32, 7, 7}, ys{2, 32, 4, 4};
  Pool2DGeometry plain{2, 32, 7, 7, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, false};
  Pool2DGeometry blocked = plain;
  blocked.inputBlock = inBlock;
  blocked.outputBlock = outBlock;
  std::vector<float> x = uniformVector(xs.size(), 4),
                     dy = uniformVector(ys.size(), 5);
  std::vector<float> bx = toLayout(x, xs, inBlock),
                     bdy = toLayout(dy, ys, outBlock);
  for (bool max : {true, false}) {
    std::vector<float> y(ys.size()), dx(xs.size()), by(ys.size()),
        bdx(xs.size());
    if (max) {
      maxPool2d(*ctx, plain, x.data(), y.data(), nullptr, 0);
      maxPool2dGrad(*ctx, plain, dy.data(), x.data(), dx.data(), nullptr, 0);
      maxPool2d(*ctx, blocked, bx.data(), by.data(), nullptr, 0);
      maxPool2dGrad(*ctx, blocked, bdy.data(), bx.data(), bdx.data(), nullptr,
                    0);
    } else {
      avgPool2d(*ctx, plain, x.data(), y.data(), nullptr, 0);
      avgPool2dGrad(*ctx, plain, dy.data(), dx.data(), nullptr, 0);
      avgPool2d(*ctx, blocked, bx.data(), by.data(), nullptr, 0);
      avgPool2dGrad(*ctx, blocked, bdy.data(), bdx.data(), nullptr, 0);
    }
    expectClose(fromLayout(by, ys, outBlock), y, max ? "max y" : "avg y");
    expectClose(fromLayout(bdx, xs, inBlock), dx, max ? "max dx" : "avg dx");
  }
}

TEST_P(BlockedLayoutTest, BatchNorm) {
  // Batch norm takes one layout for all of x, y, dy and dx.
  auto [inBlock, outBlock] = GetParam();
  int64_t block = inBlock ? inBlock : outBlock;
  Shape s{3, 32, 5, 5};
  BatchNormGeometry plain{3, 32, 25};
  BatchNormGeometry blocked{3, 32, 25, block};
  std::vector<float> x = uniformVector(s.size(), 6),
                     dy = uniformVector(s.size(), 7),
                     scale = uniformVector(32, 8), bias = uniformVector(32, 9);
  std::vector<float> y(s.size()), mean(32), var(32), dx(s.size()), ds(32),
      db(32), yi(s.size());
  batchNormTraining(*ctx, plain, 1e-5f, x.data(), scale.data(), bias.data(),
                    y.data(), mean.data(), var.data(), nullptr, 0);
  batchNormTrainingGrad(*ctx, plain, 1e-5f, dy.data(), x.data(), scale.data(),
                        mean.data(), var.data(), dx.data(), ds.data(),
                        db.data(), nullptr, 0);
  batchNormInference(*ctx, plain, 1e-5f, x.data(), scale.data(), bias.data(),
                     mean.data(), var.data(), yi.data(), nullptr, 0);

  std::vector<float> bx = toLayout(x, s, block), bdy = toLayout(dy, s, block);
  std::vector<float> by(s.size()), bmean(32), bvar(32), bdx(s.size()), bds(32),
      bdb(32), byi(s.size());
  batchNormTraining(*ctx, blocked, 1e-5f, bx.data(), scale.data(), bias.data(),
                    by.data(), bmean.data(), bvar.data(), nullptr, 0);
  batchNormTrainingGrad(*ctx, blocked, 1e-5f, bdy.data(), bx.data(),
                        scale.data(), bmean.data(), bvar.data(), bdx.data(),
                        bds.data(), bdb.data(), nullptr, 0);
  batchNormInference(*ctx, blocked, 1e-5f, bx.data(), scale.data(), bias.data(),
                     bmean.data(), bvar.data(), byi.data(), nullptr, 0);
  expectClose(fromLayout(by, s, block), y, "y");
  expectClose(bmean, mean, "mean");
  expectClose(bvar, var, "variance");
  expectClose(fromLayout(bdx, s, block), dx, "dx");
  expectClose(bds, ds, "dscale");
  expectClose(bdb, db, "dbias");
  expectClose(fromLayout(byi, s, block), yi, "inference y");
}

// (input block, output block): both blocked alike, and mixed with NCHW.
INSTANTIATE_TEST_SUITE_P(Blocks, BlockedLayoutTest,
                         ::testing::Values(std::make_pair(16, 16),
                                           std::make_pair(8, 8),
                                           std::make_pair(16, 0),
                                           std::make_pair(8, 16),
                                           std::make_pair(0, 8)));

} // namespace
