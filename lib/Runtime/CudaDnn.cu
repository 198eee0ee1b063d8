//===- CudaDnn.cu - CUDA backend: convolution, pooling, batch norm --------===//
//
// Each convolution or pooling shape gets its cuDNN descriptors once, on
// first use, and each convolution direction its algorithm: the first of
// cuDNN's heuristic ranking (or, with the trainer's --cudnn-find, the
// fastest cuDNN's find timed) whose workspace fits the scratch the compiler
// planned for the call in the arena, so that nothing is allocated per call.
// Arithmetic is plain fp32 (CUDNN_FMA_MATH: no TF32), as on the CPU; narrower
// formats are the precision work's. Batch normalization, in training and
// inference form, is cuDNN's spatial one.
//
//===----------------------------------------------------------------------===//

#include "CudaContext.h"
#include "dlc/Runtime/Kernels.h"

#include <array>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

namespace dlc::rt {

namespace {
/// A shape's fields and what is done with it, as a map key.
using PlanKey = std::vector<int64_t>;

PlanKey keyOf(const Conv2DGeometry &g, int64_t what) {
  return {g.batch,       g.inChannels,   g.inHeight,     g.inWidth,
          g.outChannels, g.kernelHeight, g.kernelWidth,  g.outHeight,
          g.outWidth,    g.strideH,      g.strideW,      g.padTop,
          g.padLeft,     g.padBottom,    g.padRight,     g.dilationH,
          g.dilationW,   g.groups,       g.imagesPerCall, what};
}

PlanKey keyOf(const Pool2DGeometry &g, int64_t what) {
  return {g.batch,        g.channels,    g.inHeight,  g.inWidth,
          g.outHeight,    g.outWidth,    g.kernelHeight, g.kernelWidth,
          g.strideH,      g.strideW,     g.padTop,    g.padLeft,
          g.padBottom,    g.padRight,    g.countIncludePad, g.dilationH,
          g.dilationW,    what};
}

cudnnTensorDescriptor_t tensor4d(int64_t n, int64_t c, int64_t h, int64_t w) {
  cudnnTensorDescriptor_t desc;
  check(cudnnCreateTensorDescriptor(&desc), "creating a tensor descriptor");
  check(cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                   n, c, h, w),
        "describing an NCHW tensor");
  return desc;
}

enum Direction { Forward, BackwardData, BackwardFilter };

/// One convolution direction: its descriptors, algorithm and workspace.
struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algorithm = 0;
  size_t workspaceBytes = 0;

  ~ConvPlan() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    if (bias)
      cudnnDestroyTensorDescriptor(bias);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
};

struct PoolPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnPoolingDescriptor_t pool = nullptr;

  ~PoolPlan() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyPoolingDescriptor(pool);
  }
};

/// The first of cuDNN's ranked `results` that ran, is plain fp32 and needs
/// at most `limit` bytes of workspace (what PyTorch takes by default:
/// cuDNN's heuristic order, deterministic or not).
template <typename Perf>
const Perf *choose(const Perf *results, int count, size_t limit) {
  for (int i = 0; i < count; ++i) {
    const Perf &r = results[i];
    if (r.status == CUDNN_STATUS_SUCCESS && r.memory <= limit &&
        r.mathType != CUDNN_TENSOR_OP_MATH &&
        r.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
      return &r;
  }
  return nullptr;
}

std::string shapeText(const Conv2DGeometry &g) {
  return std::to_string(g.batch) + "x" + std::to_string(g.inChannels) + "x" +
         std::to_string(g.inHeight) + "x" + std::to_string(g.inWidth) +
         " by " + std::to_string(g.outChannels) + "x" +
         std::to_string(g.kernelHeight) + "x" + std::to_string(g.kernelWidth);
}
/// Batch norm over N x C x spatial, as N x C x spatial x 1, and the
/// 1 x C x 1 x 1 shape of its per-channel tensors.
struct NormPlan {
  cudnnTensorDescriptor_t x = nullptr, channel = nullptr;

  ~NormPlan() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(channel);
  }
};
} // namespace

struct DnnPlans {
  std::map<PlanKey, std::unique_ptr<ConvPlan>> conv;
  std::map<PlanKey, std::unique_ptr<PoolPlan>> pool;
  std::map<PlanKey, std::unique_ptr<NormPlan>> norm;
  std::map<PlanKey, cudnnTensorDescriptor_t> tensors;
  std::map<std::tuple<int64_t, float, float, float>, cudnnLRNDescriptor_t> lrn;

  ~DnnPlans() {
    for (auto &[key, desc] : tensors)
      cudnnDestroyTensorDescriptor(desc);
    for (auto &[key, desc] : lrn)
      cudnnDestroyLRNDescriptor(desc);
  }
};

cudnnTensorDescriptor_t tensorDescriptor(Context &ctx, int64_t n, int64_t c,
                                         int64_t h, int64_t w) {
  cudnnTensorDescriptor_t &desc = ctx.dnnPlans->tensors[{n, c, h, w}];
  if (!desc)
    desc = tensor4d(n, c, h, w);
  return desc;
}

cudnnLRNDescriptor_t lrnDescriptor(Context &ctx, int64_t size, float alpha,
                                   float beta, float bias) {
  cudnnLRNDescriptor_t &desc =
      ctx.dnnPlans->lrn[std::make_tuple(size, alpha, beta, bias)];
  if (!desc) {
    check(cudnnCreateLRNDescriptor(&desc), "creating an LRN descriptor");
    check(cudnnSetLRNDescriptor(desc, static_cast<unsigned>(size), alpha, beta,
                                bias),
          "describing an LRN window");
  }
  return desc;
}

void createDnn(Context &ctx) {
  check(cudnnCreate(&ctx.dnn), "cudnnCreate");
  check(cudnnSetStream(ctx.dnn, ctx.stream), "cudnnSetStream");
  ctx.dnnPlans = new DnnPlans;
}

void destroyDnn(Context &ctx) {
  delete ctx.dnnPlans;
  cudnnDestroy(ctx.dnn);
}

namespace {
/// A convolution call's operands, in cuDNN's order for the direction (x, w,
/// y; w, dy, dx; x, dy, dw) and its scratch: what cuDNN's find times the
/// candidate algorithms on.
struct ConvOperands {
  const void *first, *second;
  void *result;
  int8_t *scratch;
};

/// The plan of `g`'s `direction`, made on first use with an algorithm whose
/// workspace fits `scratchBytes`: the first of cuDNN's heuristic ranking,
/// or with Context::measureConvolutions the fastest of cuDNN's find, timed
/// on `operands` (whose result it overwrites before the call does).
const ConvPlan &convPlan(Context &ctx, const Conv2DGeometry &g,
                         Direction direction, bool withBias,
                         int64_t scratchBytes, const ConvOperands &operands) {
  std::unique_ptr<ConvPlan> &slot =
      ctx.dnnPlans->conv[keyOf(g, direction * 2 + withBias)];
  if (slot)
    return *slot;
  // The compiler splits the batch into calls only for oneDNN's layout
  // copies; cuDNN's workspace does not grow with the batch that way.
  if (g.imagesPerCall != g.batch)
    throw Error("cuDNN: a convolution in calls of " +
                std::to_string(g.imagesPerCall) + " of " +
                std::to_string(g.batch) +
                " images (the CPU target's workspace split)");
  auto plan = std::make_unique<ConvPlan>();
  plan->x = tensor4d(g.batch, g.inChannels, g.inHeight, g.inWidth);
  plan->y = tensor4d(g.batch, g.outChannels, g.outHeight, g.outWidth);
  if (withBias)
    plan->bias = tensor4d(1, g.outChannels, 1, 1);
  check(cudnnCreateFilterDescriptor(&plan->w), "creating a filter descriptor");
  check(cudnnSetFilter4dDescriptor(plan->w, CUDNN_DATA_FLOAT,
                                   CUDNN_TENSOR_NCHW, g.outChannels,
                                   g.inChannels / g.groups, g.kernelHeight,
                                   g.kernelWidth),
        "describing a filter");
  check(cudnnCreateConvolutionDescriptor(&plan->conv),
        "creating a convolution descriptor");
  // Uneven padding never gets here (UnevenPadding below): cuDNN pads both
  // sides alike.
  check(cudnnSetConvolution2dDescriptor(
            plan->conv, g.padTop, g.padLeft, g.strideH, g.strideW,
            g.dilationH, g.dilationW, CUDNN_CROSS_CORRELATION,
            CUDNN_DATA_FLOAT),
        "describing a convolution");
  check(cudnnSetConvolutionGroupCount(plan->conv, g.groups),
        "setting the groups");
  check(cudnnSetConvolutionMathType(plan->conv, CUDNN_FMA_MATH),
        "setting fp32 arithmetic");
  int n = 0, c = 0, h = 0, w = 0;
  check(cudnnGetConvolution2dForwardOutputDim(plan->conv, plan->x, plan->w, &n,
                                              &c, &h, &w),
        "computing the output shape");
  if (h != g.outHeight || w != g.outWidth)
    throw Error("cuDNN: convolution " + shapeText(g) + " gives " +
                std::to_string(h) + "x" + std::to_string(w) +
                ", the compiler planned " + std::to_string(g.outHeight) +
                "x" + std::to_string(g.outWidth));

  // cuDNN's ranking of one direction's algorithms (`rank` calls its *_v7
  // query or its find), and the first that fits the planned scratch.
  bool measure = ctx.measureConvolutions;
  const ConvOperands &o = operands;
  auto pick = [&](auto *results, int capacity, const char *what, auto rank) {
    int count = 0;
    check(rank(capacity, &count, results), what);
    const auto *best =
        choose(results, count, static_cast<size_t>(scratchBytes));
    if (!best)
      throw Error("cuDNN: no algorithm for convolution " + shapeText(g) +
                  " fits its " + std::to_string(scratchBytes) +
                  " bytes of planned workspace");
    plan->algorithm = best->algo;
    plan->workspaceBytes = best->memory;
  };
  ConvPlan &p = *plan;
  if (direction == Forward) {
    cudnnConvolutionFwdAlgoPerf_t results[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    pick(results, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
         "ranking forward algorithms",
         [&](int capacity, int *count, auto *out) {
           return measure ? cudnnFindConvolutionForwardAlgorithmEx(
                                ctx.dnn, p.x, o.first, p.w, o.second, p.conv,
                                p.y, o.result, capacity, count, out, o.scratch,
                                scratchBytes)
                          : cudnnGetConvolutionForwardAlgorithm_v7(
                                ctx.dnn, p.x, p.w, p.conv, p.y, capacity, count,
                                out);
         });
  } else if (direction == BackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t
        results[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    pick(results, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
         "ranking backward-data algorithms",
         [&](int capacity, int *count, auto *out) {
           return measure ? cudnnFindConvolutionBackwardDataAlgorithmEx(
                                ctx.dnn, p.w, o.first, p.y, o.second, p.conv,
                                p.x, o.result, capacity, count, out, o.scratch,
                                scratchBytes)
                          : cudnnGetConvolutionBackwardDataAlgorithm_v7(
                                ctx.dnn, p.w, p.y, p.conv, p.x, capacity, count,
                                out);
         });
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t
        results[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    pick(results, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
         "ranking backward-filter algorithms",
         [&](int capacity, int *count, auto *out) {
           return measure ? cudnnFindConvolutionBackwardFilterAlgorithmEx(
                                ctx.dnn, p.x, o.first, p.y, o.second, p.conv,
                                p.w, o.result, capacity, count, out, o.scratch,
                                scratchBytes)
                          : cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                                ctx.dnn, p.x, p.y, p.conv, p.w, capacity, count,
                                out);
         });
  }
  slot = std::move(plan);
  return *slot;
}

const PoolPlan &poolPlan(Context &ctx, const Pool2DGeometry &g,
                         cudnnPoolingMode_t mode) {
  std::unique_ptr<PoolPlan> &slot =
      ctx.dnnPlans->pool[keyOf(g, static_cast<int>(mode))];
  if (slot)
    return *slot;
  auto plan = std::make_unique<PoolPlan>();
  plan->x = tensor4d(g.batch, g.channels, g.inHeight, g.inWidth);
  plan->y = tensor4d(g.batch, g.channels, g.outHeight, g.outWidth);
  check(cudnnCreatePoolingDescriptor(&plan->pool),
        "creating a pooling descriptor");
  check(cudnnSetPooling2dDescriptor(plan->pool, mode, CUDNN_PROPAGATE_NAN,
                                    g.kernelHeight, g.kernelWidth, g.padTop,
                                    g.padLeft, g.strideH, g.strideW),
        "describing a pooling");
  int n = 0, c = 0, h = 0, w = 0;
  check(cudnnGetPooling2dForwardOutputDim(plan->pool, plan->x, &n, &c, &h, &w),
        "computing the pooling's output shape");
  if (h != g.outHeight || w != g.outWidth)
    throw Error("cuDNN: pooling gives " + std::to_string(h) + "x" +
                std::to_string(w) + ", the compiler planned " +
                std::to_string(g.outHeight) + "x" +
                std::to_string(g.outWidth));
  slot = std::move(plan);
  return *slot;
}

cudnnPoolingMode_t averageMode(const Pool2DGeometry &g) {
  return g.countIncludePad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                           : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
}

const float kOne = 1.0f, kZero = 0.0f;

/// An unevenly padded convolution as cuDNN runs it: on x padded explicitly
/// into the front of the call's scratch (rt::explicitPaddingBytes), with
/// no padding of its own, and the rest of the scratch as its workspace.
struct UnevenPadding {
  UnevenPadding(const Conv2DGeometry &g, int8_t *scratch, int64_t scratchBytes)
      : original(g), padded(g), bytes(explicitPaddingBytes(g)) {
    if (scratchBytes < bytes)
      throw Error("cuDNN: the unevenly padded convolution " + shapeText(g) +
                  " needs " + std::to_string(bytes) +
                  " bytes of scratch for its padded input; " +
                  std::to_string(scratchBytes) + " were planned");
    padded.inHeight += g.padTop + g.padBottom;
    padded.inWidth += g.padLeft + g.padRight;
    padded.padTop = padded.padBottom = padded.padLeft = padded.padRight = 0;
    input = reinterpret_cast<float *>(scratch);
    rest = scratch + bytes;
    restBytes = scratchBytes - bytes;
  }
  /// Copies x into `input`, zeros around it.
  void pad(Context &ctx, const float *x) const {
    rt::pad(ctx, x, shape(original).data(), 4, low().data(), 0.0f, input,
            shape(padded).data());
  }
  /// Copies the unpadded part of `input` (a gradient) to dx.
  void crop(Context &ctx, float *dx) const {
    rt::crop(ctx, input, shape(padded).data(), 4, low().data(), dx,
             shape(original).data());
  }

  Conv2DGeometry original, padded;
  int64_t bytes;
  float *input;
  int8_t *rest;
  int64_t restBytes;

private:
  static std::array<int64_t, 4> shape(const Conv2DGeometry &g) {
    return {g.batch, g.inChannels, g.inHeight, g.inWidth};
  }
  std::array<int64_t, 4> low() const {
    return {0, 0, original.padTop, original.padLeft};
  }
};
} // namespace

void conv2d(Context &ctx, const Conv2DGeometry &g, const float *x,
            const float *w, const float *b, float *y, int8_t *scratch,
            int64_t scratchBytes) {
  if (!evenPadding(g)) {
    UnevenPadding uneven(g, scratch, scratchBytes);
    uneven.pad(ctx, x);
    return conv2d(ctx, uneven.padded, uneven.input, w, b, y, uneven.rest,
                  uneven.restBytes);
  }
  CallTimer timer(ctx, "conv2d");
  const ConvPlan &plan =
      convPlan(ctx, g, Forward, b, scratchBytes, {x, w, y, scratch});
  check(cudnnConvolutionForward(
            ctx.dnn, &kOne, plan.x, x, plan.w, w, plan.conv,
            static_cast<cudnnConvolutionFwdAlgo_t>(plan.algorithm), scratch,
            plan.workspaceBytes, &kZero, plan.y, y),
        "convolution forward");
  if (b)
    check(cudnnAddTensor(ctx.dnn, &kOne, plan.bias, b, &kOne, plan.y, y),
          "adding the convolution's bias");
}

void conv2dBackwardData(Context &ctx, const Conv2DGeometry &g,
                        const float *dy, const float *w, float *dx,
                        int8_t *scratch, int64_t scratchBytes) {
  if (!evenPadding(g)) {
    UnevenPadding uneven(g, scratch, scratchBytes);
    conv2dBackwardData(ctx, uneven.padded, dy, w, uneven.input, uneven.rest,
                       uneven.restBytes);
    return uneven.crop(ctx, dx);
  }
  CallTimer timer(ctx, "conv2dBackwardData");
  const ConvPlan &plan =
      convPlan(ctx, g, BackwardData, false, scratchBytes, {w, dy, dx, scratch});
  check(cudnnConvolutionBackwardData(
            ctx.dnn, &kOne, plan.w, w, plan.y, dy, plan.conv,
            static_cast<cudnnConvolutionBwdDataAlgo_t>(plan.algorithm),
            scratch, plan.workspaceBytes, &kZero, plan.x, dx),
        "convolution backward data");
}

void conv2dBackwardFilter(Context &ctx, const Conv2DGeometry &g,
                          const float *dy, const float *x, float *dw,
                          int8_t *scratch, int64_t scratchBytes) {
  if (!evenPadding(g)) {
    UnevenPadding uneven(g, scratch, scratchBytes);
    uneven.pad(ctx, x);
    return conv2dBackwardFilter(ctx, uneven.padded, dy, uneven.input, dw,
                                uneven.rest, uneven.restBytes);
  }
  CallTimer timer(ctx, "conv2dBackwardFilter");
  const ConvPlan &plan = convPlan(ctx, g, BackwardFilter, false, scratchBytes,
                                  {x, dy, dw, scratch});
  check(cudnnConvolutionBackwardFilter(
            ctx.dnn, &kOne, plan.x, x, plan.y, dy, plan.conv,
            static_cast<cudnnConvolutionBwdFilterAlgo_t>(plan.algorithm),
            scratch, plan.workspaceBytes, &kZero, plan.w, dw),
        "convolution backward filter");
}

void maxPool2d(Context &ctx, const Pool2DGeometry &g, const float *x, float *y,
               int8_t *, int64_t) {
  CallTimer timer(ctx, "maxPool2d");
  if (!cudnnTakesPooling(g))
    return poolWindows(ctx, g, /*max=*/true, x, y);
  const PoolPlan &plan = poolPlan(ctx, g, CUDNN_POOLING_MAX_DETERMINISTIC);
  check(cudnnPoolingForward(ctx.dnn, plan.pool, &kOne, plan.x, x, &kZero,
                            plan.y, y),
        "max pooling");
}

void maxPool2dGrad(Context &ctx, const Pool2DGeometry &g, const float *dy,
                   const float *x, float *dx, int8_t *scratch,
                   int64_t scratchBytes) {
  CallTimer timer(ctx, "maxPool2dGrad");
  if (!cudnnTakesPooling(g))
    return poolWindowsGrad(ctx, g, /*max=*/true, dy, x, dx);
  // cuDNN finds each window's maximum from the forward output: it is
  // recomputed into the scratch the compiler planned for it.
  const PoolPlan &plan = poolPlan(ctx, g, CUDNN_POOLING_MAX_DETERMINISTIC);
  int64_t yBytes =
      g.batch * g.channels * g.outHeight * g.outWidth * int64_t(sizeof(float));
  if (scratchBytes < yBytes)
    throw Error("cuDNN: max pooling's gradient needs " +
                std::to_string(yBytes) + " bytes of scratch, " +
                std::to_string(scratchBytes) + " were planned");
  float *y = reinterpret_cast<float *>(scratch);
  check(cudnnPoolingForward(ctx.dnn, plan.pool, &kOne, plan.x, x, &kZero,
                            plan.y, y),
        "max pooling (for its gradient)");
  check(cudnnPoolingBackward(ctx.dnn, plan.pool, &kOne, plan.y, y, plan.y, dy,
                             plan.x, x, &kZero, plan.x, dx),
        "max pooling gradient");
}

void avgPool2d(Context &ctx, const Pool2DGeometry &g, const float *x, float *y,
               int8_t *, int64_t) {
  CallTimer timer(ctx, "avgPool2d");
  if (!cudnnTakesPooling(g))
    return poolWindows(ctx, g, /*max=*/false, x, y);
  const PoolPlan &plan = poolPlan(ctx, g, averageMode(g));
  check(cudnnPoolingForward(ctx.dnn, plan.pool, &kOne, plan.x, x, &kZero,
                            plan.y, y),
        "average pooling");
}

void avgPool2dGrad(Context &ctx, const Pool2DGeometry &g, const float *dy,
                   float *dx, int8_t *, int64_t) {
  CallTimer timer(ctx, "avgPool2dGrad");
  if (!cudnnTakesPooling(g))
    return poolWindowsGrad(ctx, g, /*max=*/false, dy, nullptr, dx);
  // An average's gradient depends on neither the input nor the output;
  // cuDNN's signature takes them, so dy and dx stand in for y and x.
  const PoolPlan &plan = poolPlan(ctx, g, averageMode(g));
  check(cudnnPoolingBackward(ctx.dnn, plan.pool, &kOne, plan.y, dy, plan.y, dy,
                             plan.x, dx, &kZero, plan.x, dx),
        "average pooling gradient");
}

namespace {
const NormPlan &normPlan(Context &ctx, const BatchNormGeometry &g) {
  std::unique_ptr<NormPlan> &slot =
      ctx.dnnPlans->norm[{g.batch, g.channels, g.spatial}];
  if (slot)
    return *slot;
  auto plan = std::make_unique<NormPlan>();
  plan->x = tensor4d(g.batch, g.channels, g.spatial, 1);
  plan->channel = tensor4d(1, g.channels, 1, 1);
  slot = std::move(plan);
  return *slot;
}

/// cuDNN saves 1 / sqrt(variance + epsilon); the runtime's ABI hands on
/// the biased variance itself.
__global__ void varianceFromInverseKernel(float *v, int64_t n, float epsilon) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    v[i] = 1.0f / (v[i] * v[i]) - epsilon;
}

__global__ void inverseFromVarianceKernel(const float *v, float *inverse,
                                          int64_t n, float epsilon) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n)
    inverse[i] = rsqrtf(v[i] + epsilon);
}
} // namespace

void batchNormTraining(Context &ctx, const BatchNormGeometry &g, float epsilon,
                       const float *x, const float *scale, const float *bias,
                       float *y, float *mean, float *variance, int8_t *,
                       int64_t) {
  CallTimer timer(ctx, "batchNormTraining");
  const NormPlan &plan = normPlan(ctx, g);
  // The running averages are the training graph's (runningUpdate): cuDNN's
  // are not asked for (null, factor 0).
  check(cudnnBatchNormalizationForwardTraining(
            ctx.dnn, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, plan.x, x, plan.x,
            y, plan.channel, scale, bias, 0.0, nullptr, nullptr, epsilon, mean,
            variance),
        "batch normalization");
  varianceFromInverseKernel<<<(g.channels + 255) / 256, 256, 0, ctx.stream>>>(
      variance, g.channels, epsilon);
}

void batchNormInference(Context &ctx, const BatchNormGeometry &g, float epsilon,
                        const float *x, const float *scale, const float *bias,
                        const float *mean, const float *variance, float *y,
                        int8_t *, int64_t) {
  CallTimer timer(ctx, "batchNormInference");
  const NormPlan &plan = normPlan(ctx, g);
  check(cudnnBatchNormalizationForwardInference(
            ctx.dnn, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, plan.x, x, plan.x,
            y, plan.channel, scale, bias, mean, variance, epsilon),
        "batch normalization (inference)");
}

void batchNormTrainingGrad(Context &ctx, const BatchNormGeometry &g,
                           float epsilon, const float *dy, const float *x,
                           const float *scale, const float *mean,
                           const float *variance, float *dx, float *dscale,
                           float *dbias, int8_t *scratch,
                           int64_t scratchBytes) {
  CallTimer timer(ctx, "batchNormTrainingGrad");
  const NormPlan &plan = normPlan(ctx, g);
  // The saved statistics spare cuDNN a pass over x: the mean, and the
  // inverse standard deviation made from the variance in the scratch the
  // compiler planned for it. Without that scratch cuDNN computes both.
  float *inverse = nullptr;
  if (scratch && scratchBytes >= g.channels * int64_t(sizeof(float))) {
    inverse = reinterpret_cast<float *>(scratch);
    inverseFromVarianceKernel<<<blocksFor(g.channels), kThreads, 0,
                                ctx.stream>>>(variance, inverse, g.channels,
                                              epsilon);
  }
  check(cudnnBatchNormalizationBackward(
            ctx.dnn, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kZero,
            plan.x, x, plan.x, dy, plan.x, dx, plan.channel, scale, dscale,
            dbias, epsilon, inverse ? mean : nullptr, inverse),
        "batch normalization gradient");
}

} // namespace dlc::rt
