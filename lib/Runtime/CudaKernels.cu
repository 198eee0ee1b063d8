//===- CudaKernels.cu - CUDA backend: cuBLAS and CUDA kernels -------------===//
//
// The arena lives in device memory. Matrix products go to cuBLAS (column-
// major: a row-major C = A*B is computed as C^T = B^T * A^T); convolution
// and pooling to cuDNN (CudaDnn.cu), softmax and LRN to cuDNN
// (CudaNormalization.cu); the rest are small kernels (reductions sum
// across a block with CUB's block reduction). Gradient averaging is staged
// through the host for MPI.
//
//===----------------------------------------------------------------------===//

#include "CudaContext.h"
#include "CudaIndexing.h"
#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Kernels.h"
#include "dlc/Runtime/Random.h"

#include <cub/block/block_reduce.cuh>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace dlc::rt {

namespace {
using cuda::Dims;
using cuda::kMaxRank;

Dims makeDims(const int64_t *shape, int rank, const int64_t *s0,
              const int64_t *s1) {
  if (rank > kMaxRank)
    throw Error("tensor rank " + std::to_string(rank) + " exceeds " +
                std::to_string(kMaxRank));
  Dims dims{};
  dims.rank = rank;
  for (int d = 0; d < rank; ++d) {
    dims.shape[d] = shape[d];
    dims.strides[0][d] = s0 ? s0[d] : 0;
    dims.strides[1][d] = s1 ? s1[d] : 0;
  }
  return dims;
}

int64_t elementCount(const int64_t *shape, int rank) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d)
    n *= shape[d];
  return n;
}

using cuda::broadcastOffsets;


__global__ void broadcastScaledKernel(const float *x, float factor, float *y,
                                      Dims dims, int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n)
    return;
  int64_t o0, o1;
  broadcastOffsets(dims, i, o0, o1);
  y[i] = factor * x[o0];
}

__global__ void binaryKernel(Binary op, const float *a, const float *b,
                             float *y, Dims dims, int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n)
    return;
  int64_t o0, o1;
  broadcastOffsets(dims, i, o0, o1);
  float u = a[o0], v = b[o1];
  switch (op) {
  case Binary::Add:
    y[i] = u + v;
    break;
  case Binary::Sub:
    y[i] = u - v;
    break;
  case Binary::Mul:
    y[i] = u * v;
    break;
  case Binary::Div:
    y[i] = u / v;
    break;
  }
}

/// A block's threads' values summed (CUB's block reduction; the sum is in
/// thread 0), in a fixed order: results do not vary from run to run.
using BlockSum = cub::BlockReduce<float, kThreads>;

/// Sums of many elements: a block per output, its threads reading
/// neighbouring elements, added in registers, then across the block.
__global__ void reduceByBlockKernel(const float *x, float *y,
                                    cuda::Reduction r, int64_t yCount) {
  __shared__ BlockSum::TempStorage storage;
  for (int64_t j = blockIdx.x; j < yCount; j += gridDim.x) {
    int64_t base = cuda::outputBase(r, j);
    float sum = 0.0f;
    for (int64_t k = threadIdx.x; k < r.perOutput; k += blockDim.x)
      sum += x[base + cuda::reducedOffset(r, k)];
    sum = BlockSum(storage).Sum(sum);
    if (threadIdx.x == 0)
      y[j] = sum;
    // The storage is reused for the next output.
    __syncthreads();
  }
}

/// Sums of few elements: a thread per output.
__global__ void reduceByThreadKernel(const float *x, float *y,
                                     cuda::Reduction r, int64_t yCount) {
  int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (j >= yCount)
    return;
  int64_t base = cuda::outputBase(r, j);
  float sum = 0.0f;
  for (int64_t k = 0; k < r.perOutput; ++k)
    sum += x[base + cuda::reducedOffset(r, k)];
  y[j] = sum;
}

__global__ void scaleKernel(const float *x, float factor, float *y,
                            int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    y[i] = factor * x[i];
}

__global__ void fillKernel(float *y, float value, int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    y[i] = value;
}

__global__ void activationKernel(Activation f, float alpha, const float *x,
                                 float *y, int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n)
    return;
  float v = x[i];
  switch (f) {
  case Activation::Relu:
    y[i] = v > 0.0f ? v : 0.0f;
    break;
  case Activation::Sigmoid:
    y[i] = 1.0f / (1.0f + expf(-v));
    break;
  case Activation::Tanh:
    y[i] = tanhf(v);
    break;
  case Activation::LeakyRelu:
    y[i] = v >= 0.0f ? v : alpha * v;
    break;
  case Activation::Rsqrt:
    y[i] = rsqrtf(v + alpha);
    break;
  }
}

__global__ void activationGradKernel(Activation f, float alpha,
                                     const float *dy, const float *saved,
                                     float *dx, int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n)
    return;
  float s = saved[i];
  switch (f) {
  case Activation::Relu:
    dx[i] = s > 0.0f ? dy[i] : 0.0f;
    break;
  case Activation::Sigmoid:
    dx[i] = dy[i] * s * (1.0f - s);
    break;
  case Activation::Tanh:
    dx[i] = dy[i] * (1.0f - s * s);
    break;
  case Activation::LeakyRelu:
    dx[i] = s >= 0.0f ? dy[i] : alpha * dy[i];
    break;
  case Activation::Rsqrt:
    dx[i] = -0.5f * dy[i] * s * s * s;
    break;
  }
}

__device__ float rowLogSumExp(const float *row, int64_t cols) {
  float max = row[0];
  for (int64_t c = 1; c < cols; ++c)
    max = fmaxf(max, row[c]);
  float sum = 0.0f;
  for (int64_t c = 0; c < cols; ++c)
    sum += expf(row[c] - max);
  return max + logf(sum);
}

/// min(max(x, lo), hi) as std::min and std::max order it (NaN passes).
__global__ void clipKernel(const float *x, float lo, float hi, float *y,
                           int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n)
    return;
  float v = x[i] < lo ? lo : x[i];
  y[i] = hi < v ? hi : v;
}

__global__ void clipGradKernel(const float *dy, const float *x, float lo,
                               float hi, float *dx, int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0.0f;
}

/// One block sums a per-row quantity into loss[0], scaled by `factor`.
template <bool Mse>
__global__ void lossKernel(const float *x, const int32_t *labels, float *loss,
                           int64_t rows, int64_t cols, float factor) {
  __shared__ BlockSum::TempStorage storage;
  float sum = 0.0f;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    const float *row = x + r * cols;
    if (Mse) {
      for (int64_t c = 0; c < cols; ++c) {
        float d = row[c] - (c == labels[r] ? 1.0f : 0.0f);
        sum += d * d;
      }
    } else {
      sum += rowLogSumExp(row, cols) - row[labels[r]];
    }
  }
  sum = BlockSum(storage).Sum(sum);
  if (threadIdx.x == 0)
    loss[0] = sum * factor;
}

__global__ void softmaxCrossEntropyGradKernel(const float *logits,
                                              const int32_t *labels,
                                              const float *dloss, float *dx,
                                              int64_t rows, int64_t cols) {
  int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (r >= rows)
    return;
  const float *row = logits + r * cols;
  float lse = rowLogSumExp(row, cols);
  float factor = dloss[0] / rows;
  for (int64_t c = 0; c < cols; ++c)
    dx[r * cols + c] =
        factor * (expf(row[c] - lse) - (c == labels[r] ? 1.0f : 0.0f));
}

__global__ void mseLossGradKernel(const float *x, const int32_t *labels,
                                  const float *dloss, float *dx, int64_t rows,
                                  int64_t cols) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= rows * cols)
    return;
  int64_t r = i / cols, c = i % cols;
  dx[i] = 2.0f * dloss[0] / (rows * cols) *
          (x[i] - (c == labels[r] ? 1.0f : 0.0f));
}

__global__ void runningUpdateKernel(float *v, const float *statistic,
                                    int64_t n, float momentum,
                                    float correction) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    v[i] = momentum * v[i] + (1.0f - momentum) * correction * statistic[i];
}

__global__ void dropoutMaskKernel(float *mask, int64_t n, float ratio,
                                  const StepScalars *s, int64_t stream) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    mask[i] =
        uniform(s->randomKey, stream, i) < ratio ? 0.0f : 1.0f / (1.0f - ratio);
}

__global__ void sgdKernel(float *w, const float *g, float *v, int64_t n,
                          const StepScalars *s) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n)
    return;
  float step = g[i] + s->weightDecay * w[i];
  if (v)
    step = v[i] = s->momentum * v[i] + step;
  w[i] -= s->lr * step;
}

__global__ void adamKernel(float *w, const float *g, float *m, float *v,
                           int64_t n, const AdamStep *step) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n)
    return;
  const AdamStep s = *step;
  float wi = w[i] * s.decay;
  float gi = g[i] + s.l2 * wi;
  m[i] = m[i] * s.beta1 + gi * s.oneMinusBeta1;
  v[i] = v[i] * s.beta2 + s.oneMinusBeta2 * gi * gi;
  float denom = sqrtf(v[i]) / s.correction2Sqrt + s.eps;
  w[i] = wi - s.stepSize * (m[i] / denom);
}
} // namespace

ContextBase &base(Context &ctx) { return ctx; }

const char *backendName() {
  static std::string name;
  cudaDeviceProp props;
  int device = 0;
  cudaGetDevice(&device);
  if (cudaGetDeviceProperties(&props, device) == cudaSuccess)
    name = std::string("cuda (") + props.name + ", cuBLAS, cuDNN)";
  else
    name = "cuda (cuBLAS, cuDNN)";
  return name.c_str();
}

Context *createContext(int, int worldSize) {
  int devices = 0;
  check(cudaGetDeviceCount(&devices), "no usable GPU");
  if (devices == 0)
    throw Error("CUDA: no GPU found");
  // One GPU per rank on the same node.
  const char *localRank = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  check(cudaSetDevice(localRank ? std::atoi(localRank) % devices : 0),
        "selecting the GPU");
  auto *ctx = new Context;
  createStepRunner(*ctx);
  check(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking),
        "creating the stream");
  check(cublasCreate(&ctx->blas), "cublasCreate");
  check(cublasSetStream(ctx->blas, ctx->stream), "cublasSetStream");
  createDnn(*ctx);
  if (const char *profile = std::getenv("DLC_CUDA_PROFILE");
      profile && *profile && std::string(profile) != "0")
    ctx->profile = new std::map<std::string, std::pair<double, int64_t>>;
  ctx->worldSize = worldSize;
  return ctx;
}

void destroyContext(Context *ctx) {
  if (ctx->profile) {
    std::vector<std::pair<std::string, std::pair<double, int64_t>>> rows(
        ctx->profile->begin(), ctx->profile->end());
    std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
      return a.second.first > b.second.first;
    });
    std::fprintf(stderr, "DLC_CUDA_PROFILE: device ms, calls, by kind\n");
    for (const auto &[kind, entry] : rows)
      std::fprintf(stderr, "  %-24s %10.2f ms %8lld\n", kind.c_str(),
                   entry.first, static_cast<long long>(entry.second));
    delete ctx->profile;
  }
  destroyAverages(*ctx);
  destroyStepRunner(*ctx);
  destroyDnn(*ctx);
  cublasDestroy(ctx->blas);
  cudaStreamDestroy(ctx->stream);
  delete ctx;
}

char *allocateArena(Context &ctx, int64_t bytes) {
  void *memory = nullptr;
  if (cudaMalloc(&memory, bytes) != cudaSuccess)
    return nullptr;
  check(cudaMemsetAsync(memory, 0, bytes, ctx.stream), "clearing the arena");
  return static_cast<char *>(memory);
}

void freeArena(Context &ctx, char *arena) { cudaFree(arena); }

// In the stream's order; both return once the host's bytes are free to
// reuse (a copy from pageable memory is staged before the call returns).
void copyToBackend(Context &ctx, void *dst, const void *src, int64_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx.stream),
        "copy to GPU");
}

void copyToHost(Context &ctx, void *dst, const void *src, int64_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx.stream),
        "copy to host");
  check(cudaStreamSynchronize(ctx.stream), "copy to host");
}

bool hostReadsBackendMemory() { return false; }

// cuBLAS works in the workspace each product call is given, planned in the
// arena: nothing is left unplanned.
int64_t libraryWorkspaceBytes() { return 0; }

void synchronize(Context &ctx) {
  check(cudaStreamSynchronize(ctx.stream), "synchronize");
}

void gemm(Context &ctx, bool transA, bool transB, int64_t m, int64_t n,
          int64_t k, float alpha, const float *a, const float *b, float beta,
          float *c, int8_t *workspace, int64_t workspaceBytes) {
  CallTimer timer(ctx, "gemm");
  // The workspace the compiler planned for this call, in the arena (none:
  // cuBLAS must not go on using an earlier call's, now someone else's).
  check(cublasSetWorkspace(ctx.blas, workspace, workspace ? workspaceBytes : 0),
        "cublasSetWorkspace");
  check(cublasSgemm(ctx.blas, transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                    transA ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b,
                    transB ? k : n, a, transA ? m : k, &beta, c, n),
        "sgemm");
}

void batchedGemm(Context &ctx, bool transA, bool transB, int64_t m, int64_t n,
                 int64_t k, const float *a, const int64_t *aStrides,
                 const float *b, const int64_t *bStrides, float *c,
                 const int64_t *batchShape, int batchRank) {
  CallTimer timer(ctx, "batchedGemm");
  // Each matrix of the batch: where a and b start (broadcast dimensions
  // step by 0).
  int64_t count = 1;
  for (int d = 0; d < batchRank; ++d)
    count *= batchShape[d];
  std::vector<int64_t> aOffsets(count), bOffsets(count);
  bool uniform = true;
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i;
    aOffsets[i] = bOffsets[i] = 0;
    for (int d = batchRank - 1; d >= 0; --d) {
      int64_t index = rest % batchShape[d];
      rest /= batchShape[d];
      aOffsets[i] += index * aStrides[d];
      bOffsets[i] += index * bStrides[d];
    }
    uniform &= aOffsets[i] == i * (count > 1 ? aOffsets[1] : 0) &&
               bOffsets[i] == i * (count > 1 ? bOffsets[1] : 0);
  }
  // No planned workspace for these calls.
  check(cublasSetWorkspace(ctx.blas, nullptr, 0), "cublasSetWorkspace");
  const float one = 1.0f, zero = 0.0f;
  cublasOperation_t opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  int lda = transA ? m : k, ldb = transB ? k : n;
  if (uniform) {
    // Row-major C = A*B as column-major C^T = B^T * A^T, one call.
    check(cublasSgemmStridedBatched(
              ctx.blas, opB, opA, n, m, k, &one, b, ldb,
              count > 1 ? bOffsets[1] : 0, a, lda, count > 1 ? aOffsets[1] : 0,
              &zero, c, n, m * n, count),
          "sgemm (strided batch)");
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    check(cublasSgemm(ctx.blas, opB, opA, n, m, k, &one, b + bOffsets[i], ldb,
                      a + aOffsets[i], lda, &zero, c + i * m * n, n),
          "sgemm (batch)");
}

void broadcastScaled(Context &ctx, const float *x, const int64_t *xStrides,
                     float factor, float *y, const int64_t *shape, int rank) {
  CallTimer timer(ctx, "broadcastScaled");
  int64_t n = elementCount(shape, rank);
  broadcastScaledKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(
      x, factor, y, makeDims(shape, rank, xStrides, nullptr), n);
}

void binary(Context &ctx, Binary op, const float *a, const int64_t *aStrides,
            const float *b, const int64_t *bStrides, float *y,
            const int64_t *shape, int rank) {
  CallTimer timer(ctx, "binary");
  int64_t n = elementCount(shape, rank);
  binaryKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(
      op, a, b, y, makeDims(shape, rank, aStrides, bStrides), n);
}

void reduceSumTo(Context &ctx, const float *x, const int64_t *shape, int rank,
                 float *y, const int64_t *yStrides, int64_t yCount) {
  CallTimer timer(ctx, "reduceSumTo");
  if (rank > kMaxRank)
    throw Error("tensor rank " + std::to_string(rank) + " exceeds " +
                std::to_string(kMaxRank));
  if (yCount == 0)
    return;
  // Each output written once, in a fixed order: no atomics, the same sums
  // every run.
  cuda::Reduction r = cuda::makeReduction(shape, rank, yStrides);
  if (r.perOutput >= 2 * kThreads)
    reduceByBlockKernel<<<static_cast<unsigned>(
                              std::min<int64_t>(yCount, int64_t(1) << 20)),
                          kThreads, 0, ctx.stream>>>(x, y, r, yCount);
  else
    reduceByThreadKernel<<<blocksFor(yCount), kThreads, 0, ctx.stream>>>(
        x, y, r, yCount);
}

void scale(Context &ctx, const float *x, float factor, float *y, int64_t n) {
  CallTimer timer(ctx, "scale");
  scaleKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(x, factor, y, n);
}

void fill(Context &ctx, float *y, float value, int64_t n) {
  CallTimer timer(ctx, "fill");
  fillKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(y, value, n);
}

void poison(Context &ctx, void *p, int64_t bytes) {
  check(cudaMemsetAsync(p, 0xFF, bytes, ctx.stream), "poisoning a buffer");
}

void activation(Context &ctx, Activation f, float alpha, const float *x,
                float *y, int64_t n) {
  CallTimer timer(ctx, "activation");
  activationKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(f, alpha, x, y, n);
}

void activationGrad(Context &ctx, Activation f, float alpha, const float *dy,
                    const float *saved, float *dx, int64_t n) {
  CallTimer timer(ctx, "activationGrad");
  activationGradKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(f, alpha, dy, saved, dx, n);
}

void clip(Context &ctx, const float *x, float lo, float hi, float *y,
          int64_t n) {
  CallTimer timer(ctx, "clip");
  clipKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(x, lo, hi, y, n);
}

void clipGrad(Context &ctx, const float *dy, const float *x, float lo,
              float hi, float *dx, int64_t n) {
  CallTimer timer(ctx, "clipGrad");
  clipGradKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(dy, x, lo, hi, dx,
                                                            n);
}

void softmaxCrossEntropy(Context &ctx, const float *logits, const int32_t *labels,
                         float *loss, int64_t rows, int64_t cols) {
  CallTimer timer(ctx, "softmaxCrossEntropy");
  lossKernel<false><<<1, kThreads, 0, ctx.stream>>>(logits, labels, loss, rows, cols,
                                     1.0f / rows);
}

void softmaxCrossEntropyGrad(Context &ctx, const float *logits,
                             const int32_t *labels, const float *dloss,
                             float *dx, int64_t rows, int64_t cols) {
  CallTimer timer(ctx, "softmaxCrossEntropyGrad");
  softmaxCrossEntropyGradKernel<<<blocksFor(rows), kThreads, 0, ctx.stream>>>(
      logits, labels, dloss, dx, rows, cols);
}

void mseLoss(Context &ctx, const float *x, const int32_t *labels, float *loss,
             int64_t rows, int64_t cols) {
  CallTimer timer(ctx, "mseLoss");
  lossKernel<true><<<1, kThreads, 0, ctx.stream>>>(x, labels, loss, rows, cols,
                                    1.0f / (rows * cols));
}

void mseLossGrad(Context &ctx, const float *x, const int32_t *labels,
                 const float *dloss, float *dx, int64_t rows, int64_t cols) {
  CallTimer timer(ctx, "mseLossGrad");
  mseLossGradKernel<<<blocksFor(rows * cols), kThreads, 0, ctx.stream>>>(x, labels, dloss, dx,
                                                          rows, cols);
}

void dropoutMask(Context &ctx, float *mask, int64_t n, float ratio,
                 int64_t stream) {
  CallTimer timer(ctx, "dropoutMask");
  dropoutMaskKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(
      mask, n, ratio, ctx.scalars, stream);
}

void runningUpdate(Context &ctx, float *v, const float *statistic, int64_t n,
                   float momentum, float correction) {
  CallTimer timer(ctx, "runningUpdate");
  runningUpdateKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(v, statistic, n, momentum,
                                                  correction);
}

void sgdUpdate(Context &ctx, float *w, const float *g, float *v, int64_t n) {
  CallTimer timer(ctx, "sgdUpdate");
  ctx.observeGradient(w, g, n);
  sgdKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(w, g, v, n, ctx.scalars);
}

void adamUpdate(Context &ctx, float *w, const float *g, float *m, float *v,
                int64_t n, bool decoupled) {
  CallTimer timer(ctx, "adamUpdate");
  ctx.observeGradient(w, g, n);
  adamKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(
      w, g, m, v, n, &ctx.scalars->adam[decoupled ? 1 : 0]);
}

} // namespace dlc::rt
