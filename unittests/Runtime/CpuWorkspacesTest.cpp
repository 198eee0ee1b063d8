//===- CpuWorkspacesTest.cpp - planned oneDNN workspaces, checked --------===//
//
// The compiler plans each oneDNN call's scratch at the size
// dlc/Runtime/CpuWorkspaces.h reports. Here, in a process of its own (the
// runtime's shared workspace starts empty): calls given exactly that much
// scratch, filled with NaNs, take no shared workspace at all, and compute
// bit for bit what the same calls compute with no scratch (everything in
// the shared workspace).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/CpuWorkspaces.h"

#include "RandomData.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

using namespace dlc::rt;
using dlc::rt::testing::uniformVector;

namespace {

/// One library call: the scratch it was sized for, what it writes, and
/// how to make it with given scratch.
struct Call {
  int64_t bytes;
  std::vector<float> *output;
  std::function<void(int8_t *, int64_t)> run;
};

TEST(CpuWorkspacesTest, PlannedScratchIsEnoughAndChangesNothing) {
  Context *ctx = createContext(2, /*worldSize=*/1);
  ASSERT_EQ(libraryWorkspaceBytes(), 0);

  // A padded, strided convolution with a bias, 16 -> 32 channels: oneDNN
  // picks blocked layouts for it, so every direction copies.
  Conv2DGeometry conv{2, 16, 12, 12, 32, 3, 3, 6, 6,
                      2, 2,  1,  1,  1, 1, 1, 1, 1, 2};
  std::vector<float> x = uniformVector(2 * 16 * 12 * 12, 1),
                     w = uniformVector(32 * 16 * 3 * 3, 2),
                     b = uniformVector(32, 3), dy = uniformVector(2 * 32 * 6 * 6, 4);
  std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
  int64_t forward = conv2dWorkspaceBytes(conv, ConvKernel::ForwardWithBias);
  int64_t backwardData = conv2dWorkspaceBytes(conv, ConvKernel::BackwardData);
  int64_t backwardFilter =
      conv2dWorkspaceBytes(conv, ConvKernel::BackwardFilter);
  EXPECT_GT(forward, 0);
  EXPECT_GT(backwardData, 0);
  EXPECT_GT(backwardFilter, 0);

  // Max pooling 3x3 / 2 with padding, and batch norm over 32 channels.
  Pool2DGeometry pool{2, 32, 6, 6, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, false};
  std::vector<float> py(2 * 32 * 3 * 3), pdy = uniformVector(py.size(), 5),
                     pdx(y.size());
  BatchNormGeometry norm{2, 32, 36};
  std::vector<float> scale = uniformVector(32, 6), shift = uniformVector(32, 7);
  std::vector<float> ny(y.size()), mean(32), variance(32);
  std::vector<float> ndx(y.size()), dscale(32), dshift(32), iy(y.size());

  std::vector<Call> calls = {
      {forward, &y,
       [&](int8_t *s, int64_t n) {
         conv2d(*ctx, conv, x.data(), w.data(), b.data(), y.data(), s, n);
       }},
      {backwardData, &dx,
       [&](int8_t *s, int64_t n) {
         conv2dBackwardData(*ctx, conv, dy.data(), w.data(), dx.data(), s, n);
       }},
      {backwardFilter, &dw,
       [&](int8_t *s, int64_t n) {
         conv2dBackwardFilter(*ctx, conv, dy.data(), x.data(), dw.data(), s,
                              n);
       }},
      {pool2dWorkspaceBytes(pool, PoolKernel::MaxForward), &py,
       [&](int8_t *s, int64_t n) {
         maxPool2d(*ctx, pool, y.data(), py.data(), s, n);
       }},
      {pool2dWorkspaceBytes(pool, PoolKernel::MaxBackward), &pdx,
       [&](int8_t *s, int64_t n) {
         maxPool2dGrad(*ctx, pool, pdy.data(), y.data(), pdx.data(), s, n);
       }},
      {batchNormWorkspaceBytes(norm, 1e-5f, NormKernel::Training), &ny,
       [&](int8_t *s, int64_t n) {
         batchNormTraining(*ctx, norm, 1e-5f, y.data(), scale.data(),
                           shift.data(), ny.data(), mean.data(),
                           variance.data(), s, n);
       }},
      {batchNormWorkspaceBytes(norm, 1e-5f, NormKernel::TrainingBackward), &ndx,
       [&](int8_t *s, int64_t n) {
         batchNormTrainingGrad(*ctx, norm, 1e-5f, dy.data(), y.data(),
                               scale.data(), mean.data(), variance.data(),
                               ndx.data(), dscale.data(), dshift.data(), s, n);
       }},
      // With the training call's statistics.
      {batchNormWorkspaceBytes(norm, 1e-5f, NormKernel::Inference), &iy,
       [&](int8_t *s, int64_t n) {
         batchNormInference(*ctx, norm, 1e-5f, y.data(), scale.data(),
                            shift.data(), mean.data(), variance.data(),
                            iy.data(), s, n);
       }},
  };

  // Every call with the scratch it was sized for, filled with NaNs: none
  // takes the shared workspace.
  std::vector<std::vector<float>> planned;
  for (size_t i = 0; i < calls.size(); ++i) {
    ASSERT_GE(calls[i].bytes, 0) << "call " << i;
    std::vector<float> scratch(calls[i].bytes / sizeof(float) + 1,
                               std::numeric_limits<float>::quiet_NaN());
    calls[i].run(reinterpret_cast<int8_t *>(scratch.data()), calls[i].bytes);
    EXPECT_EQ(libraryWorkspaceBytes(), 0) << "call " << i;
    planned.push_back(*calls[i].output);
  }
  // The same calls again with no scratch: they take the shared workspace
  // and compute the same bits.
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i].run(nullptr, 0);
    const std::vector<float> &unplanned = *calls[i].output;
    for (size_t j = 0; j < unplanned.size(); ++j) {
      ASSERT_FALSE(std::isnan(planned[i][j])) << "call " << i << " at " << j;
      ASSERT_EQ(planned[i][j], unplanned[j]) << "call " << i << " at " << j;
    }
  }
  EXPECT_GT(libraryWorkspaceBytes(), 0);
  destroyContext(ctx);
}

/// Expects `a` and `b` equal to a float's rounding of sums in another
/// order.
void expectClose(const std::vector<float> &a, const std::vector<float> &b,
                 const char *what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], 1e-5f * (1.0f + std::fabs(b[i])))
        << what << " at " << i;
}

// A batch of 5 in calls of 2 images (2, 2, then 1) computes what one call
// over the batch computes, in the scratch sized for it (NaNs at first, the
// weight gradients of the later calls included), with no shared workspace;
// and that scratch is smaller than the whole batch's.
TEST(CpuWorkspacesTest, ConvolutionInCallsOfFewerImages) {
  Context *ctx = createContext(2, /*worldSize=*/1);
  Conv2DGeometry whole{5, 16, 12, 12, 32, 3, 3, 6, 6,
                       2, 2,  1,  1,  1, 1, 1, 1, 1, 5};
  Conv2DGeometry inTwos = whole;
  inTwos.imagesPerCall = 2;
  std::vector<float> x = uniformVector(5 * 16 * 12 * 12, 1),
                     w = uniformVector(32 * 16 * 3 * 3, 2),
                     b = uniformVector(32, 3), dy = uniformVector(5 * 32 * 6 * 6, 4);
  auto run = [&](const Conv2DGeometry &g, bool planned) {
    std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
    auto scratchFor = [&](ConvKernel kernel) {
      int64_t bytes = planned ? conv2dWorkspaceBytes(g, kernel) : 0;
      EXPECT_GE(bytes, 0);
      return std::vector<float>(bytes / sizeof(float) + 1,
                                std::numeric_limits<float>::quiet_NaN());
    };
    std::vector<float> s = scratchFor(ConvKernel::ForwardWithBias);
    conv2d(*ctx, g, x.data(), w.data(), b.data(), y.data(),
           reinterpret_cast<int8_t *>(s.data()),
           planned ? conv2dWorkspaceBytes(g, ConvKernel::ForwardWithBias) : 0);
    s = scratchFor(ConvKernel::BackwardData);
    conv2dBackwardData(
        *ctx, g, dy.data(), w.data(), dx.data(),
        reinterpret_cast<int8_t *>(s.data()),
        planned ? conv2dWorkspaceBytes(g, ConvKernel::BackwardData) : 0);
    s = scratchFor(ConvKernel::BackwardFilter);
    conv2dBackwardFilter(
        *ctx, g, dy.data(), x.data(), dw.data(),
        reinterpret_cast<int8_t *>(s.data()),
        planned ? conv2dWorkspaceBytes(g, ConvKernel::BackwardFilter) : 0);
    return std::vector<std::vector<float>>{y, dx, dw};
  };
  // The shared workspace does not grow (another test of this process may
  // have used it).
  int64_t shared = libraryWorkspaceBytes();
  std::vector<std::vector<float>> inCalls = run(inTwos, /*planned=*/true);
  EXPECT_EQ(libraryWorkspaceBytes(), shared);
  std::vector<std::vector<float>> oneCall = run(whole, /*planned=*/true);
  expectClose(inCalls[0], oneCall[0], "y");
  expectClose(inCalls[1], oneCall[1], "dx");
  expectClose(inCalls[2], oneCall[2], "dw");
  for (ConvKernel kernel : {ConvKernel::ForwardWithBias,
                            ConvKernel::BackwardData,
                            ConvKernel::BackwardFilter})
    EXPECT_LT(conv2dWorkspaceBytes(inTwos, kernel),
              conv2dWorkspaceBytes(whole, kernel));
  // With no scratch planned, the later calls' weight gradients go to a
  // buffer of the runtime's own: the same result.
  std::vector<std::vector<float>> unplanned = run(inTwos, /*planned=*/false);
  expectClose(unplanned[2], oneCall[2], "dw without scratch");
  destroyContext(ctx);
}

} // namespace
