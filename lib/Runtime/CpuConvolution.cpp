//===- CpuConvolution.cpp - CPU backend: convolutions on oneDNN -----------===//
//
// Forward, backward-data and backward-weights convolution primitives of
// oneDNN over the arena's buffers: OIHW weights, activations in NCHW or in
// the blocked layout the compiler chose for them. Each primitive lets
// oneDNN choose its layouts (blocked ones select the direct AVX-512
// kernels, several times faster here than the im2col + GEMM fallback that
// plain layouts get) and reorders where the arena's differ; see CpuDnnl.h.
// Primitives are built once per geometry and cached: a training step runs
// the same few shapes every time. A call covers `imagesPerCall` images of
// the batch at a time (images are contiguous in NCHW and in the blocked
// layouts alike), so its layout copies shrink with it; the weight gradients
// of the later calls go to the scratch after the library's part and are
// added to the first.
//
// A geometry with bf16Operands runs oneDNN's bf16 kernels: the operands
// are reordered into bf16 (rounding to nearest even, as the exact
// emulation rounds) beside the layout change they get anyway, and the
// products are summed in fp32. Where the CPU has no bf16 instructions
// (oneDNN's would emulate them) or oneDNN has no fast bf16 kernel for the
// geometry, the fp32 kernels run on copies of the operands rounded to
// bf16: the same values.
//
//===----------------------------------------------------------------------===//

#include "CpuDnnl.h"
#include "dlc/Runtime/CpuWorkspaces.h"
#include "dlc/Runtime/Kernels.h"
#include "dlc/Runtime/Precision/Formats.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace dlc::rt {

namespace {

using namespace dnnl_support;
using dnnl::memory;
using Tag = memory::format_tag;

struct ConvPrimitives {
  Execution forward, forwardWithBias, backwardData, backwardWeights;
  /// bf16Operands on fp32 kernels: the calls round copies of the operands.
  bool roundsCopies = false;
};

/// Whether oneDNN runs `descriptor` on more than its reference kernels.
bool isOptimized(const dnnl::primitive_desc &descriptor) {
  return std::string(descriptor.impl_info_str()).rfind("ref", 0) != 0;
}

/// Whether oneDNN may use bf16 instructions here (AVX512-BF16 or AMX; not
/// held below them by DNNL_MAX_CPU_ISA). Without them its bf16 kernels
/// emulate the instructions, slower than fp32 ones on rounded copies.
bool hasBf16Instructions() {
  static const bool has = [] {
    auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16;
  }();
  return has;
}

ConvPrimitives buildKernels(const Conv2DGeometry &g, bool bf16);

/// bf16 arithmetic on fp32 kernels: the calls round copies of the operands.
ConvPrimitives buildEmulated(const Conv2DGeometry &g) {
  ConvPrimitives emulated = buildKernels(g, false);
  emulated.roundsCopies = true;
  return emulated;
}

/// The primitives of `g` in its arithmetic, on bf16 kernels where oneDNN
/// has fast ones.
ConvPrimitives build(const Conv2DGeometry &g) {
  if (!g.bf16Operands)
    return buildKernels(g, false);
  if (!hasBf16Instructions())
    return buildEmulated(g);
  try {
    return buildKernels(g, true);
  } catch (const dnnl::error &) {
    return buildEmulated(g);
  }
}

/// The primitives of `g` with operands of bf16 or fp32.
ConvPrimitives buildKernels(const Conv2DGeometry &g, bool bf16) {
  using namespace dnnl;
  auto f32 = memory::data_type::f32;
  // The multiplied operands' type: the products are summed in fp32 either
  // way, into fp32 results.
  auto operand = bf16 ? memory::data_type::bf16 : f32;
  memory::dims srcDims = {g.batch, g.inChannels, g.inHeight, g.inWidth};
  memory::dims dstDims = {g.batch, g.outChannels, g.outHeight, g.outWidth};
  memory::dims weightDims =
      g.groups == 1 ? memory::dims{g.outChannels, g.inChannels,
                                   g.kernelHeight, g.kernelWidth}
                    : memory::dims{g.groups, g.outChannels / g.groups,
                                   g.inChannels / g.groups, g.kernelHeight,
                                   g.kernelWidth};
  memory::desc src = activationDesc(srcDims, g.inputBlock);
  memory::desc dst = activationDesc(dstDims, g.outputBlock);
  memory::desc weights(weightDims, f32, g.groups == 1 ? Tag::oihw : Tag::goihw);
  memory::desc bias({g.outChannels}, f32, Tag::x);
  memory::desc anySrc(srcDims, operand, Tag::any);
  memory::desc anyWeights(weightDims, operand, Tag::any);
  memory::desc anyDst(dstDims, operand, Tag::any);
  memory::desc anyResult(dstDims, f32, Tag::any);
  memory::desc anySrcResult(srcDims, f32, Tag::any);
  memory::desc anyWeightsResult(weightDims, f32, Tag::any);
  memory::dims strides = {g.strideH, g.strideW};
  // oneDNN counts dilation from 0 (no gaps), ONNX from 1.
  memory::dims dilations = {g.dilationH - 1, g.dilationW - 1};
  memory::dims padBegin = {g.padTop, g.padLeft};
  memory::dims padEnd = {g.padBottom, g.padRight};
  auto algo = algorithm::convolution_direct;

  convolution_forward::primitive_desc forward(
      convolution_forward::desc(prop_kind::forward_training, algo, anySrc,
                                anyWeights, anyResult, strides, dilations,
                                padBegin, padEnd),
      attributes(), engine());
  convolution_forward::primitive_desc forwardWithBias(
      convolution_forward::desc(prop_kind::forward_training, algo, anySrc,
                                anyWeights, bias, anyResult, strides,
                                dilations, padBegin, padEnd),
      attributes(), engine());
  convolution_backward_data::primitive_desc backwardData(
      convolution_backward_data::desc(algo, anySrcResult, anyWeights, anyDst,
                                      strides, dilations, padBegin, padEnd),
      attributes(), engine(), forward);
  convolution_backward_weights::primitive_desc backwardWeights(
      convolution_backward_weights::desc(algo, anySrc, anyWeightsResult,
                                         anyDst, strides, dilations, padBegin,
                                         padEnd),
      attributes(), engine(), forward);
  if (bf16 && !(isOptimized(forward) && isOptimized(forwardWithBias) &&
                isOptimized(backwardData) && isOptimized(backwardWeights)))
    return buildEmulated(g);

  ConvPrimitives p;
  p.forward = Execution(forward);
  p.forward.addInput(DNNL_ARG_SRC, src, forward.src_desc());
  p.forward.addInput(DNNL_ARG_WEIGHTS, weights, forward.weights_desc());
  p.forward.addOutput(DNNL_ARG_DST, dst, forward.dst_desc());

  p.forwardWithBias = Execution(forwardWithBias);
  p.forwardWithBias.addInput(DNNL_ARG_SRC, src, forwardWithBias.src_desc());
  p.forwardWithBias.addInput(DNNL_ARG_WEIGHTS, weights,
                             forwardWithBias.weights_desc());
  p.forwardWithBias.addInput(DNNL_ARG_BIAS, bias, bias);
  p.forwardWithBias.addOutput(DNNL_ARG_DST, dst, forwardWithBias.dst_desc());

  p.backwardData = Execution(backwardData);
  p.backwardData.addInput(DNNL_ARG_DIFF_DST, dst, backwardData.diff_dst_desc());
  p.backwardData.addInput(DNNL_ARG_WEIGHTS, weights,
                          backwardData.weights_desc());
  p.backwardData.addOutput(DNNL_ARG_DIFF_SRC, src,
                           backwardData.diff_src_desc());

  p.backwardWeights = Execution(backwardWeights);
  p.backwardWeights.addInput(DNNL_ARG_DIFF_DST, dst,
                             backwardWeights.diff_dst_desc());
  p.backwardWeights.addInput(DNNL_ARG_SRC, src, backwardWeights.src_desc());
  p.backwardWeights.addOutput(DNNL_ARG_DIFF_WEIGHTS, weights,
                              backwardWeights.diff_weights_desc());
  return p;
}

ConvPrimitives &primitives(const Conv2DGeometry &g) {
  static std::map<std::array<int64_t, 22>, ConvPrimitives> cache;
  static std::mutex mutex;
  std::array<int64_t, 22> key;
  static_assert(sizeof(key) == sizeof(Conv2DGeometry));
  std::memcpy(key.data(), &g, sizeof(key));
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, build(g)).first;
  return it->second;
}

/// `count` values rounded to bf16 in `copy` (one per operand of a call),
/// for fp32 kernels standing in for bf16 ones.
const float *roundedCopy(const float *values, int64_t count,
                         std::vector<float> &copy) {
  copy.assign(values, values + count);
  precision::roundTrip(precision::Format::BF16, 0, copy.data(), count);
  return copy.data();
}

/// The operands a call multiplies, rounded where its primitives ask.
struct Operands {
  const float *first, *second;
  Operands(const ConvPrimitives &p, const float *first, int64_t firstCount,
           const float *second, int64_t secondCount)
      : first(first), second(second) {
    if (!p.roundsCopies)
      return;
    static thread_local std::vector<float> copies[2];
    this->first = roundedCopy(first, firstCount, copies[0]);
    this->second = roundedCopy(second, secondCount, copies[1]);
  }
};

/// The geometry of one library call over `images` images.
Conv2DGeometry callGeometry(const Conv2DGeometry &g, int64_t images) {
  Conv2DGeometry call = g;
  call.batch = call.imagesPerCall = images;
  return call;
}

int64_t imagesPerCall(const Conv2DGeometry &g) {
  return g.imagesPerCall > 0 ? std::min(g.imagesPerCall, g.batch) : g.batch;
}

/// Calls `run(geometry, firstImage)` for each library call of the batch.
template <typename Run> void forEachCall(const Conv2DGeometry &g, Run run) {
  int64_t images = imagesPerCall(g);
  for (int64_t first = 0; first < g.batch; first += images)
    run(callGeometry(g, std::min(images, g.batch - first)), first);
}

int64_t inputImage(const Conv2DGeometry &g) {
  return g.inChannels * g.inHeight * g.inWidth;
}
int64_t outputImage(const Conv2DGeometry &g) {
  return g.outChannels * g.outHeight * g.outWidth;
}
int64_t weightElements(const Conv2DGeometry &g) {
  return g.outChannels * (g.inChannels / g.groups) * g.kernelHeight *
         g.kernelWidth;
}

Execution &execution(ConvPrimitives &p, ConvKernel kernel) {
  switch (kernel) {
  case ConvKernel::Forward:
    return p.forward;
  case ConvKernel::ForwardWithBias:
    return p.forwardWithBias;
  case ConvKernel::BackwardData:
    return p.backwardData;
  case ConvKernel::BackwardFilter:
    break;
  }
  return p.backwardWeights;
}

/// The library's bytes for the largest call of `g`'s batch; throws
/// dnnl::error where oneDNN refuses the geometry.
size_t libraryBytes(const Conv2DGeometry &g, ConvKernel kernel) {
  int64_t images = imagesPerCall(g);
  size_t bytes =
      execution(primitives(callGeometry(g, images)), kernel).workspaceBytes();
  if (int64_t rest = g.batch % images)
    bytes = std::max(bytes, execution(primitives(callGeometry(g, rest)), kernel)
                                .workspaceBytes());
  return bytes;
}

/// Where the later calls' weight gradients go: after the library's part of
/// the planned scratch, or, where none was planned, a buffer of our own.
float *partialWeightGradient(const Conv2DGeometry &g, int8_t *scratch,
                             int64_t scratchBytes) {
  size_t offset = alignUp(libraryBytes(g, ConvKernel::BackwardFilter));
  size_t needed = weightElements(g) * sizeof(float);
  if (scratch && offset + needed <= static_cast<size_t>(scratchBytes))
    return reinterpret_cast<float *>(scratch + offset);
  static std::vector<float> own;
  if (own.size() < static_cast<size_t>(weightElements(g)))
    own.resize(weightElements(g));
  return own.data();
}

} // namespace

void conv2d(Context &, const Conv2DGeometry &g, const float *x, const float *w,
            const float *b, float *y, int8_t *scratch, int64_t scratchBytes) {
  char *planned = reinterpret_cast<char *>(scratch);
  forEachCall(g, [&](const Conv2DGeometry &call, int64_t first) {
    ConvPrimitives &p = primitives(call);
    Operands in(p, x + first * inputImage(g), call.batch * inputImage(g), w,
                weightElements(g));
    float *ys = y + first * outputImage(g);
    if (b)
      p.forwardWithBias.run({in.first, in.second, b, ys}, planned,
                            scratchBytes);
    else
      p.forward.run({in.first, in.second, ys}, planned, scratchBytes);
  });
}

void conv2dBackwardData(Context &, const Conv2DGeometry &g, const float *dy,
                        const float *w, float *dx, int8_t *scratch,
                        int64_t scratchBytes) {
  forEachCall(g, [&](const Conv2DGeometry &call, int64_t first) {
    ConvPrimitives &p = primitives(call);
    Operands in(p, dy + first * outputImage(g), call.batch * outputImage(g), w,
                weightElements(g));
    p.backwardData.run({in.first, in.second, dx + first * inputImage(g)},
                       reinterpret_cast<char *>(scratch), scratchBytes);
  });
}

void conv2dBackwardFilter(Context &, const Conv2DGeometry &g, const float *dy,
                          const float *x, float *dw, int8_t *scratch,
                          int64_t scratchBytes) {
  float *partial = imagesPerCall(g) < g.batch
                       ? partialWeightGradient(g, scratch, scratchBytes)
                       : nullptr;
  int64_t n = weightElements(g);
  forEachCall(g, [&](const Conv2DGeometry &call, int64_t first) {
    float *out = first == 0 ? dw : partial;
    ConvPrimitives &p = primitives(call);
    Operands in(p, dy + first * outputImage(g), call.batch * outputImage(g),
                x + first * inputImage(g), call.batch * inputImage(g));
    p.backwardWeights.run({in.first, in.second, out},
                          reinterpret_cast<char *>(scratch), scratchBytes);
    if (first != 0)
      for (int64_t i = 0; i < n; ++i)
        dw[i] += partial[i];
  });
}

int64_t preferredChannelBlock() {
  // What oneDNN picks for the activations of a typical 3x3 convolution.
  try {
    memory::dims dims = {2, 64, 14, 14};
    dnnl::convolution_forward::primitive_desc descriptor(
        dnnl::convolution_forward::desc(
            dnnl::prop_kind::forward_training,
            dnnl::algorithm::convolution_direct,
            memory::desc(dims, memory::data_type::f32, Tag::any),
            memory::desc({64, 64, 3, 3}, memory::data_type::f32, Tag::any),
            memory::desc(dims, memory::data_type::f32, Tag::any), {1, 1},
            {0, 0}, {1, 1}, {1, 1}),
        attributes(), engine());
    for (int64_t block : {16, 8})
      if (descriptor.src_desc() == activationDesc(dims, block))
        return block;
  } catch (const dnnl::error &) {
  }
  return 0;
}

int64_t conv2dWorkspaceBytes(const Conv2DGeometry &g, ConvKernel kernel) {
  try {
    size_t bytes = libraryBytes(g, kernel);
    if (kernel == ConvKernel::BackwardFilter && imagesPerCall(g) < g.batch)
      bytes = alignUp(bytes) + weightElements(g) * sizeof(float);
    return static_cast<int64_t>(bytes);
  } catch (const dnnl::error &) {
  }
  return -1;
}

} // namespace dlc::rt
