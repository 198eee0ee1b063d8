//===- CpuKernels.cpp - CPU backend: oneDNN and OpenMP --------------------===//
//
// Matrix products go to oneDNN's sgemm, whose JIT picks kernels from the
// CPU's features (AVX-512 here; OpenBLAS 0.3.21 does not recognise this CPU
// and falls back to SSE3 kernels, 7x slower). The rest are loops
// parallelised with OpenMP.
// Losses are reduced in double precision so the printed loss does not depend
// on the thread count.
//
//===----------------------------------------------------------------------===//

#include "BackendServices.h"
#include "Comm/Pending.h"
#include "CpuDnnl.h"
#include "CpuParallel.h"
#include "Error.h"
#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Kernels.h"
#include "dlc/Runtime/Precision/Formats.h"
#include "dlc/Runtime/Precision/Statistics.h"
#include "dlc/Runtime/Random.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <sys/mman.h>
#include <string>
#include <vector>

namespace dlc::rt {

struct Context : ContextBase {
  /// Started gradient averages, by handle: the sum in flight and where.
  struct PendingMean {
    comm::Request request;
    float *data;
    int64_t count;
  };
  comm::Pending<PendingMean> pending;
  /// The arena's mapping, for freeArena.
  size_t arenaMapping = 0;
  /// The next batch: the step runs on this thread, so nothing overlaps it
  /// and the stage is plain memory.
  std::vector<char> batchStage;
};

ContextBase &base(Context &ctx) { return ctx; }

const char *backendName() {
  static std::string name;
  name = "cpu (oneDNN, " + std::to_string(omp_get_max_threads()) +
         " threads)";
  return name.c_str();
}

Context *createContext(int threads, int worldSize) {
  if (threads > 0)
    omp_set_num_threads(threads);
  auto *ctx = new Context;
  ctx->worldSize = worldSize;
  return ctx;
}

void destroyContext(Context *ctx) { delete ctx; }

// Anonymous pages read as zeros and take memory only once touched: the
// arena costs what the step really uses, and nothing is zeroed by hand.
char *allocateArena(Context &ctx, int64_t bytes) {
  size_t size = std::max<size_t>(static_cast<size_t>(bytes), 1);
  void *memory = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED)
    return nullptr;
  // Huge pages where the kernel offers them: the step walks gigabytes of
  // arena, and 4 KiB pages would cost it TLB misses.
  madvise(memory, size, MADV_HUGEPAGE);
  ctx.arenaMapping = size;
  return static_cast<char *>(memory);
}

void freeArena(Context &ctx, char *arena) { munmap(arena, ctx.arenaMapping); }

void copyToBackend(Context &, void *dst, const void *src, int64_t bytes) {
  std::memcpy(dst, src, bytes);
}

void copyToHost(Context &, void *dst, const void *src, int64_t bytes) {
  std::memcpy(dst, src, bytes);
}

bool hostReadsBackendMemory() { return true; }

int64_t libraryWorkspaceBytes() {
  return static_cast<int64_t>(dnnl_support::workspaceCapacity());
}

void synchronize(Context &) {}

void runTrainStep(Context &, const std::function<void()> &step, bool) {
  step();
}

char *createBatchStage(Context &ctx, int64_t bytes) {
  ctx.batchStage.assign(bytes, 0);
  return ctx.batchStage.data();
}

void awaitBatchStage(Context &) {}

void sendBatchStage(Context &) {}

void takeBatchStage(Context &ctx, int64_t offset, void *dst, int64_t bytes) {
  std::memcpy(dst, ctx.batchStage.data() + offset, bytes);
}

int64_t peakDeviceBytes(Context &) { return -1; }

// oneDNN picks its kernels by the CPU's features.
void setMeasuredConvolutions(Context &, bool) {}

void useNccl(Context &) {
  throw Error("--comm=nccl: NCCL averages GPU memory, and this trainer was "
              "built for the CPU (dlc --target=cpu); its averages go over MPI");
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

// oneDNN's sgemm keeps its own packing buffers: no workspace is planned.
void gemm(Context &, bool transA, bool transB, int64_t m, int64_t n, int64_t k,
          float alpha, const float *a, const float *b, float beta, float *c,
          int8_t *, int64_t) {
  dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, alpha, a,
             transA ? m : k, b, transB ? k : n, beta, c, n);
}

void batchedGemm(Context &ctx, bool transA, bool transB, int64_t m, int64_t n,
                 int64_t k, const float *a, const int64_t *aStrides,
                 const float *b, const int64_t *bStrides, float *c,
                 const int64_t *batchShape, int batchRank) {
  int64_t count = 1;
  for (int d = 0; d < batchRank; ++d)
    count *= batchShape[d];
  for (int64_t i = 0; i < count; ++i) {
    int64_t aOffset = 0, bOffset = 0, rest = i;
    for (int d = batchRank - 1; d >= 0; --d) {
      int64_t index = rest % batchShape[d];
      rest /= batchShape[d];
      aOffset += index * aStrides[d];
      bOffset += index * bStrides[d];
    }
    gemm(ctx, transA, transB, m, n, k, 1.0f, a + aOffset, b + bOffset, 0.0f,
         c + i * m * n, nullptr, 0);
  }
}

void broadcastScaled(Context &, const float *x, const int64_t *xStrides,
                     float factor, float *y, const int64_t *shape, int rank) {
  const int64_t *const strides[1] = {xStrides};
  BroadcastSpace<1> space(shape, rank, strides);
  int64_t step = space.strides.back()[0];
  space.forEachRun([=](int64_t first, std::array<int64_t, 1> base,
                       int64_t length) {
    float *out = y + first;
    const float *in = x + base[0];
    if (step == 1)
      for (int64_t j = 0; j < length; ++j)
        out[j] = factor * in[j];
    else
      for (int64_t j = 0; j < length; ++j)
        out[j] = factor * in[j * step];
  });
}

namespace {
/// y = f(a, b) over a broadcast space, with the common row shapes (both
/// contiguous, one a scalar per row) as plain loops the compiler vectorises.
template <typename F>
void broadcastBinary(const BroadcastSpace<2> &space, const float *a,
                     const float *b, float *y, F f) {
  int64_t sa = space.strides.back()[0], sb = space.strides.back()[1];
  space.forEachRun([=](int64_t first, std::array<int64_t, 2> base,
                       int64_t length) {
    float *out = y + first;
    const float *u = a + base[0], *v = b + base[1];
    if (sa == 1 && sb == 1) {
      for (int64_t j = 0; j < length; ++j)
        out[j] = f(u[j], v[j]);
    } else if (sa == 1 && sb == 0) {
      float scalar = *v;
      for (int64_t j = 0; j < length; ++j)
        out[j] = f(u[j], scalar);
    } else if (sa == 0 && sb == 1) {
      float scalar = *u;
      for (int64_t j = 0; j < length; ++j)
        out[j] = f(scalar, v[j]);
    } else {
      for (int64_t j = 0; j < length; ++j)
        out[j] = f(u[j * sa], v[j * sb]);
    }
  });
}
} // namespace

void binary(Context &, Binary op, const float *a, const int64_t *aStrides,
            const float *b, const int64_t *bStrides, float *y,
            const int64_t *shape, int rank) {
  const int64_t *const strides[2] = {aStrides, bStrides};
  BroadcastSpace<2> space(shape, rank, strides);
  switch (op) {
  case Binary::Add:
    return broadcastBinary(space, a, b, y, [](float u, float v) { return u + v; });
  case Binary::Sub:
    return broadcastBinary(space, a, b, y, [](float u, float v) { return u - v; });
  case Binary::Mul:
    return broadcastBinary(space, a, b, y, [](float u, float v) { return u * v; });
  case Binary::Div:
    return broadcastBinary(space, a, b, y, [](float u, float v) { return u / v; });
  }
}

namespace {
/// The sum of `count` contiguous floats, in double.
double sumRun(const float *x, int64_t count) {
  double sum = 0.0;
  #pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < count; ++i)
    sum += x[i];
  return sum;
}

void reduceSumToAnyLayout(const float *x, const int64_t *shape, int rank,
                          float *y, const int64_t *yStrides, int64_t yCount) {
  // One task per output element: it walks the reduced dimensions (stride 0
  // in y) below its place in x, accumulating in double.
  std::vector<int64_t> xStrides(rank, 1), reducedShape, reducedStrides;
  for (int d = rank - 2; d >= 0; --d)
    xStrides[d] = xStrides[d + 1] * shape[d + 1];
  int64_t perOutput = 1;
  for (int d = 0; d < rank; ++d)
    if (yStrides[d] == 0) {
      reducedShape.push_back(shape[d]);
      reducedStrides.push_back(xStrides[d]);
      perOutput *= shape[d];
    }
  #pragma omp parallel for if (yCount * perOutput > 65536)
  for (int64_t j = 0; j < yCount; ++j) {
    int64_t base = 0;
    for (int d = 0; d < rank; ++d)
      if (yStrides[d] != 0)
        base += (j / yStrides[d]) % shape[d] * xStrides[d];
    StridedWalk walk(reducedShape, reducedStrides, base);
    double sum = 0.0;
    for (int64_t i = 0; i < perOutput; ++i, walk.next())
      sum += x[walk.offset()];
    y[j] = static_cast<float>(sum);
  }
}

} // namespace

void reduceSumTo(Context &, const float *x, const int64_t *shape, int rank,
                 float *y, const int64_t *yStrides, int64_t yCount) {
  // Merged, the reductions dlc emits are sums of rows (K x R -> K), of
  // columns (R x K -> K: bias gradients of matrix products) or of channels
  // (R1 x K x R2 -> K: bias gradients of convolutions). Each output sums in
  // a fixed order, so the result does not depend on the thread count.
  const int64_t *const strides[1] = {yStrides};
  BroadcastSpace<1> space(shape, rank, strides);
  std::vector<int64_t> extent = space.shape, step;
  for (const auto &s : space.strides)
    step.push_back(s[0]);
  if (step.size() == 1) { // one dimension: all reduced, or none
    extent.insert(extent.begin(), 1);
    step.insert(step.begin(), 1);
  }
  if (step.size() == 2 && step[0] == 1 && step[1] == 0) { // rows
    int64_t rows = extent[0], length = extent[1];
    parallelChunks(rows, [=](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k)
        y[k] = static_cast<float>(sumRun(x + k * length, length));
    }, 32768 / std::max<int64_t>(length, 1));
    return;
  }
  if (step.size() == 2 && step[0] == 0 && step[1] == 1) { // columns
    int64_t rows = extent[0], columns = extent[1];
    parallelChunks(columns, [=](int64_t begin, int64_t end) {
      std::vector<double> sums(end - begin, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        const float *row = x + r * columns + begin;
        double *out = sums.data();
        #pragma omp simd
        for (int64_t k = 0; k < end - begin; ++k)
          out[k] += row[k];
      }
      for (int64_t k = begin; k < end; ++k)
        y[k] = static_cast<float>(sums[k - begin]);
    }, 32768 / std::max<int64_t>(rows, 1));
    return;
  }
  if (step.size() == 3 && step[0] == 0 && step[1] == 1 && step[2] == 0) {
    int64_t outer = extent[0], channels = extent[1], inner = extent[2];
    parallelChunks(channels, [=](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        double sum = 0.0;
        for (int64_t n = 0; n < outer; ++n)
          sum += sumRun(x + (n * channels + k) * inner, inner);
        y[k] = static_cast<float>(sum);
      }
    }, 32768 / std::max<int64_t>(outer * inner, 1));
    return;
  }
  reduceSumToAnyLayout(x, shape, rank, y, yStrides, yCount);
}

void scale(Context &, const float *x, float factor, float *y, int64_t n) {
  map(y, n, [=](int64_t i) { return factor * x[i]; });
}

void fill(Context &, float *y, float value, int64_t n) {
  std::fill(y, y + n, value);
}

void poison(Context &, void *p, int64_t bytes) { std::memset(p, 0xFF, bytes); }

void recordStatistics(Context &ctx, const float *x, int64_t n, int64_t slot) {
  if (std::vector<precision::Statistics> *table = base(ctx).statistics)
    (*table)[slot].add(x, n);
}

void roundToFormat(Context &ctx, const float *x, float *y, int64_t n,
                   int64_t slot) {
  ContextBase &state = base(ctx);
  precision::TensorFormat format =
      slot < static_cast<int64_t>(state.formats.size())
          ? state.formats[slot]
          : precision::TensorFormat();
  int64_t *overflows = slot < static_cast<int64_t>(state.overflows.size())
                           ? &state.overflows[slot]
                           : nullptr;
  bool stochastic = slot < static_cast<int64_t>(state.stochasticSlots.size()) &&
                    state.stochasticSlots[slot];
  // A stream of its own per slot, apart from the dropout masks' streams.
  uint64_t key = mix64(state.randomKey ^ 0x726f756e64000000ull ^ uint64_t(slot));
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    if (x != y)
      std::copy(x + begin, x + end, y + begin);
    int64_t clipped =
        stochastic ? precision::roundTripSaturatingStochastic(
                         format.format, format.exponent, y + begin,
                         end - begin, key, begin)
                   : precision::roundTripSaturating(
                         format.format, format.exponent, y + begin,
                         end - begin);
    if (clipped && overflows)
      __atomic_fetch_add(overflows, clipped, __ATOMIC_RELAXED);
  });
  state.noteRounded(y, n, slot);
}

namespace {
precision::TensorFormat formatOf(Context &ctx, int64_t slot) {
  const std::vector<precision::TensorFormat> &formats = base(ctx).formats;
  return slot < static_cast<int64_t>(formats.size())
             ? formats[slot]
             : precision::TensorFormat();
}
} // namespace

void packToFormat(Context &ctx, const float *x, void *codes, int64_t n,
                  int64_t slot) {
  precision::TensorFormat format = formatOf(ctx, slot);
  int64_t bytes = precision::info(format.format).bits / 8;
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    precision::quantize(format.format, format.exponent, x + begin,
                        static_cast<char *>(codes) + begin * bytes,
                        end - begin);
  });
}

void unpackFromFormat(Context &ctx, const void *codes, float *y, int64_t n,
                      int64_t slot) {
  precision::TensorFormat format = formatOf(ctx, slot);
  int64_t bytes = precision::info(format.format).bits / 8;
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    precision::dequantize(format.format, format.exponent,
                          static_cast<const char *>(codes) + begin * bytes,
                          y + begin, end - begin);
  });
}

void activation(Context &, Activation f, float alpha, const float *x,
                float *y, int64_t n) {
  switch (f) {
  case Activation::Relu:
    return map(y, n, [=](int64_t i) { return x[i] > 0.0f ? x[i] : 0.0f; });
  case Activation::Sigmoid:
    return map(y, n, [=](int64_t i) { return 1.0f / (1.0f + std::exp(-x[i])); });
  case Activation::Tanh:
    return map(y, n, [=](int64_t i) { return std::tanh(x[i]); });
  case Activation::LeakyRelu:
    return map(y, n,
               [=](int64_t i) { return x[i] >= 0.0f ? x[i] : alpha * x[i]; });
  case Activation::Rsqrt:
    return map(y, n, [=](int64_t i) { return 1.0f / std::sqrt(x[i] + alpha); });
  }
}

void activationGrad(Context &, Activation f, float alpha, const float *dy,
                    const float *saved, float *dx, int64_t n) {
  const float *s = saved;
  switch (f) {
  case Activation::Relu:
    // Both loads before the select, so the loop has no branch to vectorise
    // around.
    return map(dx, n, [=](int64_t i) {
      float grad = dy[i];
      return s[i] > 0.0f ? grad : 0.0f;
    });
  case Activation::Sigmoid:
    return map(dx, n, [=](int64_t i) { return dy[i] * s[i] * (1.0f - s[i]); });
  case Activation::Tanh:
    return map(dx, n, [=](int64_t i) { return dy[i] * (1.0f - s[i] * s[i]); });
  case Activation::LeakyRelu:
    return map(dx, n,
               [=](int64_t i) {
                 float grad = dy[i];
                 return s[i] >= 0.0f ? grad : alpha * grad;
               });
  case Activation::Rsqrt:
    return map(dx, n,
               [=](int64_t i) { return -0.5f * dy[i] * s[i] * s[i] * s[i]; });
  }
}

namespace {
/// Calls `body(base)` for each line along the middle dimension of an
/// outer x size x inner tensor: elements base + k * inner, k < size.
template <typename Body>
void forEachLine(int64_t outer, int64_t size, int64_t inner, Body body) {
  #pragma omp parallel for if (outer * size * inner > 65536)
  for (int64_t line = 0; line < outer * inner; ++line)
    body((line / inner) * size * inner + line % inner);
}
} // namespace

namespace {
/// log(sum(exp)) of one line (elements base + k * inner), around its
/// maximum.
double lineLogSumExp(const float *x, int64_t base, int64_t size,
                     int64_t inner) {
  float max = x[base];
  for (int64_t k = 1; k < size; ++k)
    max = std::max(max, x[base + k * inner]);
  double sum = 0.0;
  for (int64_t k = 0; k < size; ++k)
    sum += std::exp(static_cast<double>(x[base + k * inner]) - max);
  return max + std::log(sum);
}
} // namespace

void softmax(Context &, const float *x, float *y, int64_t outer, int64_t size,
             int64_t inner) {
  forEachLine(outer, size, inner, [&](int64_t base) {
    double lse = lineLogSumExp(x, base, size, inner);
    for (int64_t k = 0; k < size; ++k)
      y[base + k * inner] =
          static_cast<float>(std::exp(x[base + k * inner] - lse));
  });
}

void softmaxGrad(Context &, const float *dy, const float *y, float *dx,
                 int64_t outer, int64_t size, int64_t inner) {
  forEachLine(outer, size, inner, [&](int64_t base) {
    double dot = 0.0;
    for (int64_t k = 0; k < size; ++k)
      dot += dy[base + k * inner] * y[base + k * inner];
    for (int64_t k = 0; k < size; ++k)
      dx[base + k * inner] = static_cast<float>(
          y[base + k * inner] * (dy[base + k * inner] - dot));
  });
}

namespace {
/// log(sum(exp(row))) of a contiguous row.
double logSumExp(const float *row, int64_t cols) {
  return lineLogSumExp(row, 0, cols, 1);
}
} // namespace

void softmaxCrossEntropy(Context &, const float *logits, const int32_t *labels,
                         float *loss, int64_t rows, int64_t cols) {
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r)
    total += logSumExp(logits + r * cols, cols) - logits[r * cols + labels[r]];
  loss[0] = static_cast<float>(total / rows);
}

void softmaxCrossEntropyGrad(Context &, const float *logits,
                             const int32_t *labels, const float *dloss,
                             float *dx, int64_t rows, int64_t cols) {
  double factor = static_cast<double>(dloss[0]) / rows;
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = logits + r * cols;
    double lse = logSumExp(row, cols);
    for (int64_t c = 0; c < cols; ++c) {
      double p = std::exp(row[c] - lse);
      dx[r * cols + c] =
          static_cast<float>(factor * (p - (c == labels[r] ? 1.0 : 0.0)));
    }
  }
}

void mseLoss(Context &, const float *x, const int32_t *labels, float *loss,
             int64_t rows, int64_t cols) {
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double d = x[r * cols + c] - (c == labels[r] ? 1.0 : 0.0);
      total += d * d;
    }
  loss[0] = static_cast<float>(total / (rows * cols));
}

void mseLossGrad(Context &, const float *x, const int32_t *labels,
                 const float *dloss, float *dx, int64_t rows, int64_t cols) {
  double factor = 2.0 * dloss[0] / (rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      dx[r * cols + c] = static_cast<float>(
          factor * (x[r * cols + c] - (c == labels[r] ? 1.0 : 0.0)));
}

void clip(Context &, const float *x, float lo, float hi, float *y, int64_t n) {
  map(y, n, [=](int64_t i) { return std::min(std::max(x[i], lo), hi); });
}

void clipGrad(Context &, const float *dy, const float *x, float lo, float hi,
              float *dx, int64_t n) {
  map(dx, n,
      [=](int64_t i) {
        float grad = dy[i], in = x[i];
        return in >= lo && in <= hi ? grad : 0.0f;
      });
}

void logSoftmax(Context &, const float *x, float *y, int64_t outer,
                int64_t size, int64_t inner) {
  forEachLine(outer, size, inner, [&](int64_t base) {
    double lse = lineLogSumExp(x, base, size, inner);
    for (int64_t k = 0; k < size; ++k)
      y[base + k * inner] = static_cast<float>(x[base + k * inner] - lse);
  });
}

void logSoftmaxGrad(Context &, const float *dy, const float *y, float *dx,
                    int64_t outer, int64_t size, int64_t inner) {
  forEachLine(outer, size, inner, [&](int64_t base) {
    double sum = 0.0;
    for (int64_t k = 0; k < size; ++k)
      sum += dy[base + k * inner];
    for (int64_t k = 0; k < size; ++k)
      dx[base + k * inner] = static_cast<float>(
          dy[base + k * inner] - std::exp(double(y[base + k * inner])) * sum);
  });
}

void dropoutMask(Context &ctx, float *mask, int64_t n, float ratio,
                 int64_t stream) {
  float keep = 1.0f / (1.0f - ratio);
  uint64_t key = ctx.randomKey;
  map(mask, n, [=](int64_t i) {
    return uniform(key, stream, i) < ratio ? 0.0f : keep;
  });
}

void runningUpdate(Context &, float *v, const float *statistic, int64_t n,
                   float momentum, float correction) {
  for (int64_t i = 0; i < n; ++i)
    v[i] = momentum * v[i] + (1.0f - momentum) * correction * statistic[i];
}

int64_t allReduceMeanStart(Context &ctx, float *x, int64_t n,
                           int64_t priority) {
  if (ctx.worldSize == 1)
    return -1;
  // Gradients in a narrow format go in it (NarrowSum.h).
  precision::TensorFormat wire = base(ctx).takeWireFormat(x, n);
  return ctx.pending.add(
      {comm::startSum(x, n, 1.0f / static_cast<float>(ctx.worldSize), priority,
                      wire),
       x, n});
}

void allReduceMeanWait(Context &ctx, int64_t handle) {
  if (handle < 0)
    return;
  // The communication thread has scaled the sum into the mean.
  comm::wait(ctx.pending[handle].request);
  ctx.pending.forget(handle);
}

void sgdUpdate(Context &ctx, float *w, const float *g, float *v, int64_t n) {
  ctx.observeGradient(w, g, n);
  float lr = ctx.hyper.lr, momentum = ctx.hyper.momentum;
  float weightDecay = ctx.hyper.weightDecay;
  // Two loops rather than a test per element, so that both vectorise.
  if (v)
    parallelChunks(n, [=](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        v[i] = momentum * v[i] + (g[i] + weightDecay * w[i]);
        w[i] -= lr * v[i];
      }
    });
  else
    parallelChunks(n, [=](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        w[i] -= lr * (g[i] + weightDecay * w[i]);
    });
}

void adamUpdate(Context &ctx, float *w, const float *g, float *m, float *v,
                int64_t n, bool decoupled) {
  ctx.observeGradient(w, g, n);
  AdamStep s = adamStep(ctx.hyper, decoupled);
  // PyTorch's single-tensor Adam, operation for operation.
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float wi = w[i] * s.decay;
      float gi = g[i] + s.l2 * wi;
      m[i] = m[i] * s.beta1 + gi * s.oneMinusBeta1;
      v[i] = v[i] * s.beta2 + s.oneMinusBeta2 * gi * gi;
      float denom = std::sqrt(v[i]) / s.correction2Sqrt + s.eps;
      w[i] = wi - s.stepSize * (m[i] / denom);
    }
  });
}

} // namespace dlc::rt
