//===- KernelGradientTest.cpp - runtime gradients vs finite differences ---===//
//
// Every gradient kernel of the CPU runtime against central finite differences
// of the forward kernel it differentiates. The scalar probed is
// sum(probe * forward(x)) for a random `probe`, whose gradient with respect
// to x is the gradient kernel applied to `probe`.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Kernels.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

using namespace dlc::rt;

namespace {

std::vector<float> randomVector(size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = normal(rng);
  return v;
}

/// Central differences of `f` at `x`, in double precision for the step.
std::vector<double>
numericGradient(std::vector<float> x,
                const std::function<double(const std::vector<float> &)> &f,
                float step = 1e-2f) {
  std::vector<double> grad(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    float saved = x[i];
    x[i] = saved + step;
    double up = f(x);
    x[i] = saved - step;
    double down = f(x);
    x[i] = saved;
    grad[i] = (up - down) / (2.0 * step);
  }
  return grad;
}

double relativeError(const std::vector<float> &actual,
                     const std::vector<double> &expected) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    norm += expected[i] * expected[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

double dot(const std::vector<float> &a, const std::vector<float> &b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

class KernelGradientTest : public ::testing::Test {
protected:
  void SetUp() override { ctx = createContext(1, /*worldSize=*/1); }
  void TearDown() override { destroyContext(ctx); }
  Context *ctx = nullptr;
};

constexpr int64_t kRows = 6, kCols = 7;
constexpr double kTolerance = 2e-3;

/// Checks activationGrad against differences of activation, away from 0
/// where relu and leaky relu have a kink.
void checkActivation(Context &ctx, Activation f, float alpha) {
  std::vector<float> x = randomVector(kRows * kCols, 1);
  for (float &v : x)
    v += v > 0 ? 0.1f : -0.1f;
  std::vector<float> probe = randomVector(x.size(), 2), y(x.size());
  auto forward = [&](const std::vector<float> &in) {
    activation(ctx, f, alpha, in.data(), y.data(), in.size());
    return dot(probe, y);
  };
  std::vector<float> dx(x.size());
  activation(ctx, f, alpha, x.data(), y.data(), x.size());
  const float *saved = f == Activation::LeakyRelu ? x.data() : y.data();
  activationGrad(ctx, f, alpha, probe.data(), saved, dx.data(), x.size());
  EXPECT_LT(relativeError(dx, numericGradient(x, forward, 1e-3f)), kTolerance);
}

TEST_F(KernelGradientTest, Relu) { checkActivation(*ctx, Activation::Relu, 0); }
TEST_F(KernelGradientTest, Sigmoid) {
  checkActivation(*ctx, Activation::Sigmoid, 0);
}
TEST_F(KernelGradientTest, Tanh) { checkActivation(*ctx, Activation::Tanh, 0); }
TEST_F(KernelGradientTest, LeakyRelu) {
  checkActivation(*ctx, Activation::LeakyRelu, 0.2f);
}

TEST_F(KernelGradientTest, ActivationValues) {
  const float x[] = {-2.0f, 0.5f};
  float y[2];
  activation(*ctx, Activation::Sigmoid, 0, x, y, 2);
  EXPECT_FLOAT_EQ(y[0], 1.0f / (1.0f + std::exp(2.0f)));
  activation(*ctx, Activation::LeakyRelu, 0.1f, x, y, 2);
  EXPECT_FLOAT_EQ(y[0], -0.2f);
  EXPECT_FLOAT_EQ(y[1], 0.5f);
}

TEST_F(KernelGradientTest, BroadcastMulAndDiv) {
  // a [kRows, kCols] with b [kCols] broadcast along rows.
  const int64_t shape[] = {kRows, kCols}, full[] = {kCols, 1},
                row[] = {0, 1};
  std::vector<float> a = randomVector(kRows * kCols, 12);
  std::vector<float> b = randomVector(kCols, 13), y(a.size());
  for (float &v : b)
    v += v > 0 ? 0.5f : -0.5f; // keep the divisor away from 0
  binary(*ctx, Binary::Mul, a.data(), full, b.data(), row, y.data(), shape, 2);
  EXPECT_FLOAT_EQ(y[kCols + 2], a[kCols + 2] * b[2]);
  binary(*ctx, Binary::Div, a.data(), full, b.data(), row, y.data(), shape, 2);
  EXPECT_FLOAT_EQ(y[3 * kCols + 1], a[3 * kCols + 1] / b[1]);
  binary(*ctx, Binary::Sub, b.data(), row, a.data(), full, y.data(), shape, 2);
  EXPECT_FLOAT_EQ(y[kCols], b[0] - a[kCols]);
}

/// Element strides reading a tensor of `dims` broadcast over `shape`.
std::vector<int64_t> stridesFor(const std::vector<int64_t> &dims,
                                const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 0);
  int64_t stride = 1;
  for (int d = int(shape.size()) - 1; d >= 0; --d) {
    if (dims[d] != 1)
      strides[d] = stride;
    stride *= dims[d];
  }
  return strides;
}

TEST_F(KernelGradientTest, BroadcastPatternsMatchNaiveIndexing) {
  // Large enough to split over two threads, with operand shapes that merge
  // dimensions differently (same shape, per channel, scalar, mixed); the
  // reductions back to each operand shape too.
  Context *twoThreads = createContext(2, /*worldSize=*/1);
  const std::vector<int64_t> shape = {4, 16, 32, 20};
  const std::vector<std::vector<int64_t>> operands = {
      {4, 16, 32, 20}, {1, 16, 1, 1}, {4, 1, 32, 1}, {1, 1, 1, 20},
      {1, 1, 1, 1},    {4, 16, 1, 20}};
  int64_t total = 4 * 16 * 32 * 20;
  for (const auto &aDims : operands)
    for (const auto &bDims : operands) {
      std::vector<int64_t> sa = stridesFor(aDims, shape),
                           sb = stridesFor(bDims, shape);
      std::vector<float> a = randomVector(total, 40), b = randomVector(total, 41);
      std::vector<float> y(total), scaled(total);
      binary(*twoThreads, Binary::Sub, a.data(), sa.data(), b.data(),
             sb.data(), y.data(), shape.data(), 4);
      broadcastScaled(*twoThreads, b.data(), sb.data(), 3.0f, scaled.data(),
                      shape.data(), 4);
      int64_t i = 0, mismatches = 0;
      for (int64_t n = 0; n < shape[0]; ++n)
        for (int64_t c = 0; c < shape[1]; ++c)
          for (int64_t h = 0; h < shape[2]; ++h)
            for (int64_t w = 0; w < shape[3]; ++w, ++i) {
              int64_t ia = n * sa[0] + c * sa[1] + h * sa[2] + w * sa[3];
              int64_t ib = n * sb[0] + c * sb[1] + h * sb[2] + w * sb[3];
              mismatches += y[i] != a[ia] - b[ib];
              mismatches += scaled[i] != 3.0f * b[ib];
            }
      // reduceSumTo from the full shape down to b's, against sums in order.
      int64_t bCount = bDims[0] * bDims[1] * bDims[2] * bDims[3];
      std::vector<double> expected(bCount, 0.0);
      i = 0;
      for (int64_t n = 0; n < shape[0]; ++n)
        for (int64_t c = 0; c < shape[1]; ++c)
          for (int64_t h = 0; h < shape[2]; ++h)
            for (int64_t w = 0; w < shape[3]; ++w, ++i)
              expected[n * sb[0] + c * sb[1] + h * sb[2] + w * sb[3]] += a[i];
      std::vector<float> reduced(bCount);
      reduceSumTo(*twoThreads, a.data(), shape.data(), 4, reduced.data(),
                  sb.data(), bCount);
      for (int64_t k = 0; k < bCount; ++k)
        mismatches += std::fabs(reduced[k] - expected[k]) >
                      1e-5 * (1.0 + std::fabs(expected[k]));
      EXPECT_EQ(mismatches, 0) << "a " << aDims[0] << "x" << aDims[1] << "x"
                               << aDims[2] << "x" << aDims[3] << ", b "
                               << bDims[0] << "x" << bDims[1] << "x"
                               << bDims[2] << "x" << bDims[3];
    }
  destroyContext(twoThreads);
  omp_set_num_threads(1);
}

TEST_F(KernelGradientTest, Softmax) {
  std::vector<float> x = randomVector(kRows * kCols, 3);
  std::vector<float> probe = randomVector(x.size(), 4), y(x.size());
  auto f = [&](const std::vector<float> &in) {
    softmax(*ctx, in.data(), y.data(), kRows, kCols, 1);
    return dot(probe, y);
  };
  std::vector<float> dx(x.size());
  softmax(*ctx, x.data(), y.data(), kRows, kCols, 1);
  softmaxGrad(*ctx, probe.data(), y.data(), dx.data(), kRows, kCols, 1);
  EXPECT_LT(relativeError(dx, numericGradient(x, f)), kTolerance);
}

/// Labels 0, 1, ... wrapping around the classes.
std::vector<int32_t> labels() {
  std::vector<int32_t> l(kRows);
  for (int64_t r = 0; r < kRows; ++r)
    l[r] = (3 * r) % kCols;
  return l;
}

TEST_F(KernelGradientTest, SoftmaxAndLogSoftmaxAlongAMiddleAxis) {
  // A 2 x 3 x 4 tensor along its middle axis: outer 2, size 3, inner 4.
  std::vector<float> x = randomVector(24, 14);
  std::vector<float> probe = randomVector(24, 15), y(24), dx(24);
  for (bool log : {false, true}) {
    auto f = [&](const std::vector<float> &in) {
      (log ? logSoftmax : softmax)(*ctx, in.data(), y.data(), 2, 3, 4);
      return dot(probe, y);
    };
    (log ? logSoftmax : softmax)(*ctx, x.data(), y.data(), 2, 3, 4);
    (log ? logSoftmaxGrad : softmaxGrad)(*ctx, probe.data(), y.data(),
                                         dx.data(), 2, 3, 4);
    EXPECT_LT(relativeError(dx, numericGradient(x, f)), kTolerance) << log;
    // Each line along the axis sums to one (in probability).
    float sum = 0.0f;
    for (int k = 0; k < 3; ++k)
      sum += log ? std::exp(y[1 * 12 + k * 4 + 2]) : y[1 * 12 + k * 4 + 2];
    EXPECT_NEAR(sum, 1.0f, 1e-5f) << log;
  }
}

TEST_F(KernelGradientTest, LocalResponseNormalization) {
  // 2 images x 6 channels x 3 positions; an even size tests the window's
  // asymmetry.
  for (int64_t size : {3, 4}) {
    std::vector<float> x = randomVector(36, 16), probe = randomVector(36, 17);
    std::vector<float> y(36), dx(36);
    auto f = [&](const std::vector<float> &in) {
      lrn(*ctx, in.data(), y.data(), 2, 6, 3, size, 0.3f, 0.75f, 1.5f);
      return dot(probe, y);
    };
    lrn(*ctx, x.data(), y.data(), 2, 6, 3, size, 0.3f, 0.75f, 1.5f);
    lrnGrad(*ctx, probe.data(), x.data(), y.data(), dx.data(), 2, 6, 3, size,
            0.3f, 0.75f, 1.5f);
    EXPECT_LT(relativeError(dx, numericGradient(x, f)), kTolerance) << size;
  }
}

TEST_F(KernelGradientTest, BatchNormTraining) {
  // 3 images x 4 channels x 5 positions: statistics over 15 values each.
  const BatchNormGeometry g{3, 4, 5};
  const float epsilon = 1e-3f;
  const size_t n = 60;
  std::vector<float> x = randomVector(n, 30, 2.0f), probe = randomVector(n, 31);
  std::vector<float> scale = randomVector(4, 32), bias = randomVector(4, 33);
  std::vector<float> y(n), mean(4), variance(4);
  auto forward = [&](const std::vector<float> &in, const std::vector<float> &s,
                     const std::vector<float> &b) {
    batchNormTraining(*ctx, g, epsilon, in.data(), s.data(), b.data(),
                      y.data(), mean.data(), variance.data(), nullptr, 0);
    return dot(probe, y);
  };
  forward(x, scale, bias);
  for (int64_t c = 0; c < 4; ++c) {
    double sum = 0, squares = 0;
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t p = 0; p < 5; ++p)
        sum += x[(i * 4 + c) * 5 + p];
    double m = sum / 15;
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t p = 0; p < 5; ++p)
        squares += std::pow(x[(i * 4 + c) * 5 + p] - m, 2);
    EXPECT_NEAR(mean[c], m, 1e-5);
    EXPECT_NEAR(variance[c], squares / 15, 1e-4); // biased
  }
  std::vector<float> dx(n), dscale(4), dbias(4);
  batchNormTrainingGrad(*ctx, g, epsilon, probe.data(), x.data(),
                        scale.data(), mean.data(), variance.data(), dx.data(),
                        dscale.data(), dbias.data(), nullptr, 0);
  auto ofX = [&](const std::vector<float> &in) {
    return forward(in, scale, bias);
  };
  auto ofScale = [&](const std::vector<float> &in) {
    return forward(x, in, bias);
  };
  auto ofBias = [&](const std::vector<float> &in) {
    return forward(x, scale, in);
  };
  EXPECT_LT(relativeError(dx, numericGradient(x, ofX)), kTolerance);
  EXPECT_LT(relativeError(dscale, numericGradient(scale, ofScale)),
            kTolerance);
  EXPECT_LT(relativeError(dbias, numericGradient(bias, ofBias)), kTolerance);
}

// Not a gradient: the inference form is the formula, in double here.
TEST_F(KernelGradientTest, BatchNormInferenceIsItsFormula) {
  const BatchNormGeometry g{3, 4, 5};
  const float epsilon = 1e-3f;
  std::vector<float> x = randomVector(60, 40, 2.0f);
  std::vector<float> scale = randomVector(4, 41), bias = randomVector(4, 42);
  std::vector<float> mean = randomVector(4, 43), variance = randomVector(4, 44);
  for (float &v : variance)
    v = std::fabs(v) + 0.1f;
  std::vector<float> y(60);
  batchNormInference(*ctx, g, epsilon, x.data(), scale.data(), bias.data(),
                     mean.data(), variance.data(), y.data(), nullptr, 0);
  for (int64_t i = 0; i < 60; ++i) {
    int64_t c = i / 5 % 4;
    double expected = (double(x[i]) - mean[c]) /
                          std::sqrt(double(variance[c]) + epsilon) * scale[c] +
                      bias[c];
    EXPECT_NEAR(y[i], expected, 1e-5 * (1 + std::fabs(expected))) << i;
  }
}

TEST_F(KernelGradientTest, SoftmaxCrossEntropy) {
  std::vector<float> x = randomVector(kRows * kCols, 5, 2.0f);
  std::vector<int32_t> l = labels();
  float loss, seed = 1.5f;
  auto f = [&](const std::vector<float> &in) {
    softmaxCrossEntropy(*ctx, in.data(), l.data(), &loss, kRows, kCols);
    return double(seed) * loss;
  };
  std::vector<float> dx(x.size());
  softmaxCrossEntropyGrad(*ctx, x.data(), l.data(), &seed, dx.data(), kRows,
                          kCols);
  EXPECT_LT(relativeError(dx, numericGradient(x, f)), kTolerance);
}

TEST_F(KernelGradientTest, SoftmaxCrossEntropyIsStableForLargeLogits) {
  // log(softmax) of a rounded probability would give inf here.
  std::vector<float> x(kCols, 0.0f);
  x[0] = 200.0f;
  int32_t label = 1;
  float loss;
  softmaxCrossEntropy(*ctx, x.data(), &label, &loss, 1, kCols);
  EXPECT_FLOAT_EQ(loss, 200.0f);
}

TEST_F(KernelGradientTest, MseLoss) {
  std::vector<float> x = randomVector(kRows * kCols, 6);
  std::vector<int32_t> l = labels();
  float loss, seed = 0.7f;
  auto f = [&](const std::vector<float> &in) {
    mseLoss(*ctx, in.data(), l.data(), &loss, kRows, kCols);
    return double(seed) * loss;
  };
  std::vector<float> dx(x.size());
  mseLossGrad(*ctx, x.data(), l.data(), &seed, dx.data(), kRows, kCols);
  EXPECT_LT(relativeError(dx, numericGradient(x, f)), kTolerance);
}

TEST_F(KernelGradientTest, ReduceSumToIsTheAdjointOfBroadcast) {
  // y = broadcast(b) from [1, kCols] over [kRows, kCols]; the gradient of
  // sum(probe * y) with respect to b is reduceSumTo(probe).
  const int64_t shape[] = {kRows, kCols}, strides[] = {0, 1};
  std::vector<float> b = randomVector(kCols, 7);
  std::vector<float> probe = randomVector(kRows * kCols, 8), y(probe.size());
  auto f = [&](const std::vector<float> &in) {
    broadcastScaled(*ctx, in.data(), strides, 2.0f, y.data(), shape, 2);
    return dot(probe, y);
  };
  std::vector<float> db(kCols);
  reduceSumTo(*ctx, probe.data(), shape, 2, db.data(), strides, kCols);
  for (float &v : db)
    v *= 2.0f; // the broadcast's factor
  EXPECT_LT(relativeError(db, numericGradient(b, f)), kTolerance);
}

TEST_F(KernelGradientTest, GemmOperandGradients) {
  // y = a * b^T (the layout of nn.Linear); da = probe * b, db = probe^T * a.
  const int64_t m = 5, n = 4, k = 3;
  std::vector<float> a = randomVector(m * k, 9), b = randomVector(n * k, 10);
  std::vector<float> probe = randomVector(m * n, 11), y(m * n);
  auto fa = [&](const std::vector<float> &in) {
    gemm(*ctx, false, true, m, n, k, 1.0f, in.data(), b.data(), 0.0f,
         y.data(), nullptr, 0);
    return dot(probe, y);
  };
  auto fb = [&](const std::vector<float> &in) {
    gemm(*ctx, false, true, m, n, k, 1.0f, a.data(), in.data(), 0.0f,
         y.data(), nullptr, 0);
    return dot(probe, y);
  };
  std::vector<float> da(m * k), db(n * k);
  gemm(*ctx, false, false, m, k, n, 1.0f, probe.data(), b.data(), 0.0f,
       da.data(), nullptr, 0);
  gemm(*ctx, true, false, n, k, m, 1.0f, probe.data(), a.data(), 0.0f,
       db.data(), nullptr, 0);
  EXPECT_LT(relativeError(da, numericGradient(a, fa)), kTolerance);
  EXPECT_LT(relativeError(db, numericGradient(b, fb)), kTolerance);
}

TEST_F(KernelGradientTest, SgdMatchesPyTorchFormula) {
  // v = momentum * v + g + wd * w; w -= lr * v.
  float w = 2.0f, g = 0.5f, v = 1.0f;
  Hyperparameters hyper;
  hyper.lr = 0.1f;
  hyper.momentum = 0.9f;
  hyper.weightDecay = 0.01f;
  setHyperparameters(*ctx, hyper);
  sgdUpdate(*ctx, &w, &g, &v, 1);
  EXPECT_FLOAT_EQ(v, 0.9f * 1.0f + 0.5f + 0.01f * 2.0f);
  EXPECT_FLOAT_EQ(w, 2.0f - 0.1f * v);
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
