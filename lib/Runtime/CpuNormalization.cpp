//===- CpuNormalization.cpp - CPU backend: local response normalization ---===//
//
// ONNX LRN: channel c sums squares over [c - (size-1)/2, c + ceil((size-1)/2)]
// clipped to the channels. With s_c = bias + alpha/size * that sum,
// y_c = x_c s_c^-beta and
// dx_j = dy_j s_j^-beta - 2 alpha beta / size * x_j *
//        sum over the c whose window holds j of dy_c x_c s_c^(-beta-1).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace dlc::rt {

namespace {
/// s_c for every channel of one (image, position), written to `scale`.
void windowScales(const float *x, int64_t c, int64_t spatial, int64_t size,
                  float alpha, float bias, double *scale) {
  int64_t below = (size - 1) / 2, above = size - 1 - below;
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0.0;
    for (int64_t i = std::max<int64_t>(0, ch - below);
         i <= std::min(c - 1, ch + above); ++i)
      sum += double(x[i * spatial]) * x[i * spatial];
    scale[ch] = bias + alpha / size * sum;
  }
}
} // namespace

void lrn(Context &, const float *x, float *y, int64_t n, int64_t c,
         int64_t spatial, int64_t size, float alpha, float beta, float bias) {
  #pragma omp parallel for
  for (int64_t line = 0; line < n * spatial; ++line) {
    int64_t base = (line / spatial) * c * spatial + line % spatial;
    std::vector<double> scale(c);
    windowScales(x + base, c, spatial, size, alpha, bias, scale.data());
    for (int64_t ch = 0; ch < c; ++ch)
      y[base + ch * spatial] = static_cast<float>(
          x[base + ch * spatial] * std::pow(scale[ch], -double(beta)));
  }
}

// From x alone: the window's scales are as cheap to recompute as to
// derive from y.
void lrnGrad(Context &, const float *dy, const float *x, const float *,
             float *dx, int64_t n, int64_t c, int64_t spatial, int64_t size,
             float alpha, float beta, float bias) {
  int64_t below = (size - 1) / 2, above = size - 1 - below;
  #pragma omp parallel for
  for (int64_t line = 0; line < n * spatial; ++line) {
    int64_t base = (line / spatial) * c * spatial + line % spatial;
    std::vector<double> scale(c), term(c);
    windowScales(x + base, c, spatial, size, alpha, bias, scale.data());
    for (int64_t ch = 0; ch < c; ++ch)
      term[ch] = double(dy[base + ch * spatial]) * x[base + ch * spatial] *
                 std::pow(scale[ch], -double(beta) - 1.0);
    for (int64_t j = 0; j < c; ++j) {
      // The channels whose window holds j: c - below <= j <= c + above.
      double sum = 0.0;
      for (int64_t ch = std::max<int64_t>(0, j - above);
           ch <= std::min(c - 1, j + below); ++ch)
        sum += term[ch];
      dx[base + j * spatial] = static_cast<float>(
          dy[base + j * spatial] * std::pow(scale[j], -double(beta)) -
          2.0 * alpha * beta / size * x[base + j * spatial] * sum);
    }
  }
}

} // namespace dlc::rt
