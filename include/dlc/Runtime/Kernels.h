//===- Kernels.h - dlc runtime kernel API -----------------------*- C++ -*-===//
//
// The calls generated training programs make. Each backend (CPU: oneDNN and
// OpenMP; CUDA: cuBLAS and CUDA kernels) implements them; the CUDA backend
// lacks some, and the compiler refuses models that need those for CUDA.
// Pointers point into that backend's memory. Tensors are dense and row-major.
// Broadcast operands are described by per-dimension element strides into the
// result's shape, 0 along broadcast dimensions. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_KERNELS_H
#define DLC_RUNTIME_KERNELS_H

#include <cstdint>

namespace dlc::rt {

/// Per-backend execution state (BLAS handle, stream, communicator).
struct Context;

/// Typed pointers into the arena, at byte offsets chosen by the compiler.
inline float *f32At(char *arena, int64_t offset) {
  return reinterpret_cast<float *>(arena + offset);
}
inline int32_t *i32At(char *arena, int64_t offset) {
  return reinterpret_cast<int32_t *>(arena + offset);
}
inline int8_t *i8At(char *arena, int64_t offset) {
  return reinterpret_cast<int8_t *>(arena + offset);
}
inline int16_t *i16At(char *arena, int64_t offset) {
  return reinterpret_cast<int16_t *>(arena + offset);
}

/// c = alpha * op(a) * op(b) + beta * c, with c m x n. a is m x k (k x m when
/// transposed), b is k x n (n x k when transposed). `workspace` is
/// `workspaceBytes` of arena the compiler planned for the BLAS library
/// (cuBLAS), or null where the library keeps its own.
void gemm(Context &ctx, bool transA, bool transB, int64_t m, int64_t n,
          int64_t k, float alpha, const float *a, const float *b, float beta,
          float *c, int8_t *workspace, int64_t workspaceBytes);

/// For every index of `batchShape`: c = op(a) * op(b) on m x k and k x n
/// matrices (k x m, n x k when transposed). a and b step through the batch
/// by the element strides given per batch dimension (0 where broadcast); c
/// is dense, batch first.
void batchedGemm(Context &ctx, bool transA, bool transB, int64_t m, int64_t n,
                 int64_t k, const float *a, const int64_t *aStrides,
                 const float *b, const int64_t *bStrides, float *c,
                 const int64_t *batchShape, int batchRank);

/// y = factor * broadcast(x) over `shape`.
void broadcastScaled(Context &ctx, const float *x, const int64_t *xStrides,
                     float factor, float *y, const int64_t *shape, int rank);

enum class Binary : int { Add, Sub, Mul, Div };

/// y = broadcast(a) op broadcast(b) over `shape`.
void binary(Context &ctx, Binary op, const float *a, const int64_t *aStrides,
            const float *b, const int64_t *bStrides, float *y,
            const int64_t *shape, int rank);

/// y = the sum of x (of `shape`) over the dimensions where yStrides is 0.
void reduceSumTo(Context &ctx, const float *x, const int64_t *shape, int rank,
                 float *y, const int64_t *yStrides, int64_t yCount);

/// Elementwise functions; `alpha` is LeakyRelu's negative slope and Rsqrt's
/// epsilon (y = 1 / sqrt(x + epsilon)).
enum class Activation : int { Relu, Sigmoid, Tanh, LeakyRelu, Rsqrt };

void activation(Context &ctx, Activation f, float alpha, const float *x,
                float *y, int64_t n);
/// dx = dy * f'(x), where `saved` is f's output, or for LeakyRelu its input.
void activationGrad(Context &ctx, Activation f, float alpha, const float *dy,
                    const float *saved, float *dx, int64_t n);

void scale(Context &ctx, const float *x, float factor, float *y, int64_t n);
void fill(Context &ctx, float *y, float value, int64_t n);
/// Sets `bytes` bytes to 0xFF, a NaN in every floating-point format: with
/// The trainer's --trace: the generated program brackets every kernel call
/// with these, which record it as a span when tracing is on (on a GPU, the
/// host's enqueueing of it).
void traceBegin(Context &ctx, const char *kernel);
void traceEnd(Context &ctx);

/// `dlc --tensor-stats`: adds `x`'s values to slot `slot` of the statistics the
/// trainer gathers this step (setStatistics), if it gathers any. CPU only.
void recordStatistics(Context &ctx, const float *x, int64_t n, int64_t slot);

/// `dlc --precision`: `y` is `x` rounded to the format the trainer holds
/// for slot `slot` (setTensorFormats), to nearest with ties to even,
/// saturating (and counting, takeOverflows) what lies past the format's
/// largest value; `y` may be `x`. CPU only.
void roundToFormat(Context &ctx, const float *x, float *y, int64_t n,
                   int64_t slot);
/// An activation kept for the backward pass in its format: `codes` holds
/// the format's codes of `x` (1 or 2 bytes each), and back.
void packToFormat(Context &ctx, const float *x, void *codes, int64_t n,
                  int64_t slot);
void unpackFromFormat(Context &ctx, const void *codes, float *y, int64_t n,
                      int64_t slot);

/// `dlc --debug-poison-freed`, each buffer after its last use, so that a
/// kernel reading bytes the plan had given up shows in the loss.
void poison(Context &ctx, void *p, int64_t bytes);

/// Softmax along the middle dimension of an outer x size x inner tensor.
void softmax(Context &ctx, const float *x, float *y, int64_t outer,
             int64_t size, int64_t inner);
/// dx = y * (dy - sum(dy * y)) along the same dimension.
void softmaxGrad(Context &ctx, const float *dy, const float *y, float *dx,
                 int64_t outer, int64_t size, int64_t inner);

/// loss[0] = mean over rows of -log softmax(logits)[label], by log-sum-exp.
void softmaxCrossEntropy(Context &ctx, const float *logits,
                         const int32_t *labels, float *loss, int64_t rows,
                         int64_t cols);
/// dx = dloss * (softmax(logits) - one_hot(labels)) / rows.
void softmaxCrossEntropyGrad(Context &ctx, const float *logits,
                             const int32_t *labels, const float *dloss,
                             float *dx, int64_t rows, int64_t cols);
/// loss[0] = mean over all elements of (x - one_hot(labels))^2.
void mseLoss(Context &ctx, const float *x, const int32_t *labels, float *loss,
             int64_t rows, int64_t cols);
void mseLossGrad(Context &ctx, const float *x, const int32_t *labels,
                 const float *dloss, float *dx, int64_t rows, int64_t cols);

/// The shapes and window of a 2-D convolution over NCHW tensors; the filter
/// is outChannels x inChannels/groups x kernelHeight x kernelWidth. The
/// batch goes to the library `imagesPerCall` images at a time (the
/// compiler lowers it under a memory budget: a call's layout copies scale
/// with it); the weight gradient is summed over the calls.
///
/// `inputBlock` and `outputBlock` are how x (and dx) and y (and dy) lie in
/// the arena: 0 for plain NCHW, 8 or 16 for oneDNN's blocked nChw8c and
/// nChw16c (channels in groups of that many, innermost), which the
/// compiler picks on the CPU where every kernel that touches the tensor
/// takes it (dlc-assign-cpu-layouts). The CUDA target keeps them 0.
///
/// `bf16Operands` 1: the call rounds both multiplied operands (x or dy, and
/// w or x; not the bias) to bf16, round to nearest even, and sums the
/// products in fp32 -- what oneDNN's bf16 kernels compute, and where the
/// CPU has no bf16 instructions the fp32 kernels on rounded copies. The
/// precision lowering sets it where the plan keeps those operands in
/// bf16 (or in a format bf16 holds exactly). 0: fp32 arithmetic.
struct Conv2DGeometry {
  int64_t batch, inChannels, inHeight, inWidth;
  int64_t outChannels, kernelHeight, kernelWidth, outHeight, outWidth;
  int64_t strideH, strideW, padTop, padLeft, padBottom, padRight;
  int64_t dilationH, dilationW, groups, imagesPerCall;
  int64_t inputBlock = 0, outputBlock = 0;
  int64_t bf16Operands = 0;
};

/// Whether both sides of each spatial dimension take the same padding.
inline bool evenPadding(const Conv2DGeometry &g) {
  return g.padTop == g.padBottom && g.padLeft == g.padRight;
}

/// The bytes of x padded explicitly (a multiple of 256): where a library
/// pads both sides alike (cuDNN), an unevenly padded convolution runs on
/// that copy, in the front of its scratch, with no padding of its own.
/// 0 for even padding.
inline int64_t explicitPaddingBytes(const Conv2DGeometry &g) {
  if (evenPadding(g))
    return 0;
  int64_t bytes = g.batch * g.inChannels *
                  (g.inHeight + g.padTop + g.padBottom) *
                  (g.inWidth + g.padLeft + g.padRight) * 4;
  return (bytes + 255) / 256 * 256;
}

/// y = conv(x, w) + b (b may be null), and its gradients.
///
/// The kernels a library backs take, last, `scratch`: `scratchBytes` of
/// arena the compiler planned for the call's library workspace (layout
/// copies, scratchpad; dlc/Runtime/CpuWorkspaces.h sizes it on the CPU). A
/// backend that needs more uses a workspace of its own; one that needs
/// none ignores it. Null with 0 bytes where nothing was planned.
void conv2d(Context &ctx, const Conv2DGeometry &g, const float *x,
            const float *w, const float *b, float *y, int8_t *scratch,
            int64_t scratchBytes);
void conv2dBackwardData(Context &ctx, const Conv2DGeometry &g,
                        const float *dy, const float *w, float *dx,
                        int8_t *scratch, int64_t scratchBytes);
void conv2dBackwardFilter(Context &ctx, const Conv2DGeometry &g,
                          const float *dy, const float *x, float *dw,
                          int8_t *scratch, int64_t scratchBytes);

/// The shapes and window of a 2-D pooling over NCHW tensors.
struct Pool2DGeometry {
  int64_t batch, channels, inHeight, inWidth, outHeight, outWidth;
  int64_t kernelHeight, kernelWidth, strideH, strideW;
  int64_t padTop, padLeft, padBottom, padRight;
  /// Average pooling: divide by the whole window, padding included.
  bool countIncludePad;
  /// Max pooling: the distance between the window's taps.
  int64_t dilationH = 1, dilationW = 1;
  /// x and dx, y and dy in the arena, as for Conv2DGeometry (0: NCHW).
  int64_t inputBlock = 0, outputBlock = 0;
};

/// Pooling and its gradients, with scratch as for conv2d. dx of max
/// pooling = each window's dy added at the window's first maximum in x;
/// the forward pass is rerun to find the maxima, recorded in the scratch.
void maxPool2d(Context &ctx, const Pool2DGeometry &g, const float *x,
               float *y, int8_t *scratch, int64_t scratchBytes);
void maxPool2dGrad(Context &ctx, const Pool2DGeometry &g, const float *dy,
                   const float *x, float *dx, int8_t *scratch,
                   int64_t scratchBytes);
void avgPool2d(Context &ctx, const Pool2DGeometry &g, const float *x,
               float *y, int8_t *scratch, int64_t scratchBytes);
void avgPool2dGrad(Context &ctx, const Pool2DGeometry &g, const float *dy,
                   float *dx, int8_t *scratch, int64_t scratchBytes);

/// y = x with its dimensions permuted: y's dimension d is x's perm[d].
void transpose(Context &ctx, const float *x, const int64_t *shape,
               const int64_t *perm, int rank, float *y);

/// y (of outShape) = value everywhere, with x (of shape) placed at `low`.
void pad(Context &ctx, const float *x, const int64_t *shape, int rank,
         const int64_t *low, float value, float *y, const int64_t *outShape);
/// y (of shape) = the block of x (of inShape) that starts at `offsets`.
void crop(Context &ctx, const float *x, const int64_t *inShape, int rank,
          const int64_t *offsets, float *y, const int64_t *shape);

/// ONNX LRN over an n x c x spatial tensor, and its gradient from x and
/// the forward's y = lrn(x) (cuDNN reads both; the CPU kernel x alone).
void lrn(Context &ctx, const float *x, float *y, int64_t n, int64_t c,
         int64_t spatial, int64_t size, float alpha, float beta, float bias);
void lrnGrad(Context &ctx, const float *dy, const float *x, const float *y,
             float *dx, int64_t n, int64_t c, int64_t spatial, int64_t size,
             float alpha, float beta, float bias);

/// An N x C x spatial tensor normalized per channel (dim 1). x, y, dy and
/// dx lie in the arena as `block` says (as for Conv2DGeometry; 0: NCHW).
struct BatchNormGeometry {
  int64_t batch, channels, spatial;
  int64_t block = 0;
};

/// Training-mode batch normalization: mean and biased variance of each
/// channel over the batch and positions, then
/// y = (x - mean) / sqrt(variance + epsilon) * scale + bias. Scratch as
/// for conv2d.
void batchNormTraining(Context &ctx, const BatchNormGeometry &g,
                       float epsilon, const float *x, const float *scale,
                       const float *bias, float *y, float *mean,
                       float *variance, int8_t *scratch, int64_t scratchBytes);
/// Inference-form batch normalization with given statistics:
/// y = (x - mean) / sqrt(variance + epsilon) * scale + bias. Scratch as for
/// conv2d.
void batchNormInference(Context &ctx, const BatchNormGeometry &g, float epsilon,
                        const float *x, const float *scale, const float *bias,
                        const float *mean, const float *variance, float *y,
                        int8_t *scratch, int64_t scratchBytes);
/// The gradients of batchNormTraining with respect to x, scale and bias,
/// given dy and the statistics it computed.
void batchNormTrainingGrad(Context &ctx, const BatchNormGeometry &g,
                           float epsilon, const float *dy, const float *x,
                           const float *scale, const float *mean,
                           const float *variance, float *dx, float *dscale,
                           float *dbias, int8_t *scratch,
                           int64_t scratchBytes);

/// dst[r * dstStride + j] = src[r * srcStride + j] for r < rows, j < length:
/// the row copy behind concatenation and slicing.
void copyRows(Context &ctx, const float *src, int64_t srcStride, float *dst,
              int64_t dstStride, int64_t rows, int64_t length);

/// y = min(max(x, lo), hi); dx = dy where lo <= x <= hi, else 0.
void clip(Context &ctx, const float *x, float lo, float hi, float *y,
          int64_t n);
void clipGrad(Context &ctx, const float *dy, const float *x, float lo,
              float hi, float *dx, int64_t n);

/// log(softmax(x)) along the middle dimension of outer x size x inner;
/// dx = dy - exp(y) * sum(dy) along it.
void logSoftmax(Context &ctx, const float *x, float *y, int64_t outer,
                int64_t size, int64_t inner);
void logSoftmaxGrad(Context &ctx, const float *dy, const float *y, float *dx,
                    int64_t outer, int64_t size, int64_t inner);

/// mask[i] = 0 with probability `ratio`, else 1 / (1 - ratio), from the
/// context's random key, `stream` and i (see Random.h).
void dropoutMask(Context &ctx, float *mask, int64_t n, float ratio,
                 int64_t stream);

/// v = momentum * v + (1 - momentum) * correction * statistic.
void runningUpdate(Context &ctx, float *v, const float *statistic, int64_t n,
                   float momentum, float correction);

/// x = the mean of x over all ranks (the identity with one rank), started
/// asynchronously: x holds the mean only once the wait on the returned
/// handle has returned, and must not be touched before. `priority`: the
/// order in which the program needs its averages; of those ready to go,
/// the one needed first is sent first.
int64_t allReduceMeanStart(Context &ctx, float *x, int64_t n, int64_t priority);
void allReduceMeanWait(Context &ctx, int64_t handle);
/// The same, pipelined across steps (--overlap=next-forward): the average
/// of x is left in flight in `slot` for the next step, whose
/// allReduceMeanWaitCarried(slot) waits for it and says whether there was
/// one (false on a step that follows none: the first, or one after the
/// trainer completed what was carried). With `joinsNext`, the next call's
/// x follows this one's n floats (but for alignment) and the runtime may
/// average both in one collective, where the link makes that worth it
/// (comm::bucketBytes).
void allReduceMeanStartCarried(Context &ctx, float *x, int64_t n,
                               int64_t priority, int64_t slot, bool joinsNext);
bool allReduceMeanWaitCarried(Context &ctx, int64_t slot);

/// PyTorch's SGD with the context's hyperparameters: g' = g + wd * w;
/// v = momentum * v + g' (if v); w -= lr * (v or g').
void sgdUpdate(Context &ctx, float *w, const float *g, float *v, int64_t n);

/// torch.optim.Adam (AdamW with `decoupled`) with the context's
/// hyperparameters; m and v are the first and second moments.
void adamUpdate(Context &ctx, float *w, const float *g, float *m, float *v,
                int64_t n, bool decoupled);

} // namespace dlc::rt

#endif // DLC_RUNTIME_KERNELS_H
