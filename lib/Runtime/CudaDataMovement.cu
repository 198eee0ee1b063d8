//===- CudaDataMovement.cu - CUDA backend: transpose, pad, crop, rows -----===//
//
// A thread per element of the result, placed by CudaIndexing.h; row copies
// (concatenation, slicing) are one strided copy on the stream.
//
//===----------------------------------------------------------------------===//

#include "CudaContext.h"
#include "CudaIndexing.h"
#include "dlc/Runtime/Kernels.h"

namespace dlc::rt {

namespace {
void checkRank(int rank) {
  if (rank > cuda::kMaxRank)
    throw Error("tensor rank " + std::to_string(rank) + " exceeds " +
                std::to_string(cuda::kMaxRank));
}

__global__ void transposeKernel(const float *x, float *y, cuda::Permutation p,
                                int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    y[i] = x[cuda::permutedOffset(p, i)];
}

__global__ void padKernel(const float *x, float value, float *y,
                          cuda::Placement p, int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n)
    return;
  int64_t source = cuda::placedSource(p, i);
  y[i] = source < 0 ? value : x[source];
}

__global__ void cropKernel(const float *x, float *y, cuda::Placement p,
                           int64_t n) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    y[i] = x[cuda::placedOffset(p, i)];
}

int64_t elements(const int64_t *shape, int rank) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d)
    n *= shape[d];
  return n;
}
} // namespace

void transpose(Context &ctx, const float *x, const int64_t *shape,
               const int64_t *perm, int rank, float *y) {
  CallTimer timer(ctx, "transpose");
  checkRank(rank);
  int64_t n = elements(shape, rank);
  transposeKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(
      x, y, cuda::makePermutation(shape, perm, rank), n);
}

void pad(Context &ctx, const float *x, const int64_t *shape, int rank,
         const int64_t *low, float value, float *y, const int64_t *outShape) {
  CallTimer timer(ctx, "pad");
  checkRank(rank);
  int64_t n = elements(outShape, rank);
  padKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(
      x, value, y, cuda::makePlacement(shape, rank, low, outShape), n);
}

void crop(Context &ctx, const float *x, const int64_t *inShape, int rank,
          const int64_t *offsets, float *y, const int64_t *shape) {
  CallTimer timer(ctx, "crop");
  checkRank(rank);
  int64_t n = elements(shape, rank);
  cropKernel<<<blocksFor(n), kThreads, 0, ctx.stream>>>(
      x, y, cuda::makePlacement(shape, rank, offsets, inShape), n);
}

void copyRows(Context &ctx, const float *src, int64_t srcStride, float *dst,
              int64_t dstStride, int64_t rows, int64_t length) {
  CallTimer timer(ctx, "copyRows");
  if (rows == 0 || length == 0)
    return;
  check(cudaMemcpy2DAsync(dst, dstStride * sizeof(float), src,
                          srcStride * sizeof(float), length * sizeof(float),
                          rows, cudaMemcpyDeviceToDevice, ctx.stream),
        "copying rows");
}

} // namespace dlc::rt
