//===- CpuConvolution.cpp - CPU backend: convolutions on oneDNN -----------===//
//
// Forward, backward-data and backward-weights convolution primitives of
// oneDNN over the arena's plain NCHW / OIHW buffers. Each primitive lets
// oneDNN choose its layouts (blocked ones select the direct AVX-512 kernels,
// several times faster here than the im2col + GEMM fallback that plain
// layouts get) and reorders around it; see CpuDnnl.h. Primitives are built
// once per geometry and cached: a training step runs the same few shapes
// every time.
//
//===----------------------------------------------------------------------===//

#include "CpuDnnl.h"
#include "dlc/Runtime/CpuWorkspaces.h"
#include "dlc/Runtime/Kernels.h"

#include <array>
#include <cstring>
#include <map>
#include <mutex>

namespace dlc::rt {

namespace {

using namespace dnnl_support;
using dnnl::memory;
using Tag = memory::format_tag;

struct ConvPrimitives {
  Execution forward, forwardWithBias, backwardData, backwardWeights;
};

ConvPrimitives build(const Conv2DGeometry &g) {
  using namespace dnnl;
  auto f32 = memory::data_type::f32;
  memory::dims srcDims = {g.batch, g.inChannels, g.inHeight, g.inWidth};
  memory::dims dstDims = {g.batch, g.outChannels, g.outHeight, g.outWidth};
  memory::dims weightDims =
      g.groups == 1 ? memory::dims{g.outChannels, g.inChannels,
                                   g.kernelHeight, g.kernelWidth}
                    : memory::dims{g.groups, g.outChannels / g.groups,
                                   g.inChannels / g.groups, g.kernelHeight,
                                   g.kernelWidth};
  memory::desc src(srcDims, f32, Tag::nchw), dst(dstDims, f32, Tag::nchw);
  memory::desc weights(weightDims, f32, g.groups == 1 ? Tag::oihw : Tag::goihw);
  memory::desc bias({g.outChannels}, f32, Tag::x);
  memory::desc anySrc(srcDims, f32, Tag::any), anyDst(dstDims, f32, Tag::any);
  memory::desc anyWeights(weightDims, f32, Tag::any);
  memory::dims strides = {g.strideH, g.strideW};
  // oneDNN counts dilation from 0 (no gaps), ONNX from 1.
  memory::dims dilations = {g.dilationH - 1, g.dilationW - 1};
  memory::dims padBegin = {g.padTop, g.padLeft};
  memory::dims padEnd = {g.padBottom, g.padRight};
  auto algo = algorithm::convolution_direct;

  convolution_forward::primitive_desc forward(
      convolution_forward::desc(prop_kind::forward_training, algo, anySrc,
                                anyWeights, anyDst, strides, dilations,
                                padBegin, padEnd),
      attributes(), engine());
  convolution_forward::primitive_desc forwardWithBias(
      convolution_forward::desc(prop_kind::forward_training, algo, anySrc,
                                anyWeights, bias, anyDst, strides, dilations,
                                padBegin, padEnd),
      attributes(), engine());
  convolution_backward_data::primitive_desc backwardData(
      convolution_backward_data::desc(algo, anySrc, anyWeights, anyDst,
                                      strides, dilations, padBegin, padEnd),
      attributes(), engine(), forward);
  convolution_backward_weights::primitive_desc backwardWeights(
      convolution_backward_weights::desc(algo, anySrc, anyWeights, anyDst,
                                         strides, dilations, padBegin, padEnd),
      attributes(), engine(), forward);

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
  static std::map<std::array<int64_t, 18>, ConvPrimitives> cache;
  static std::mutex mutex;
  std::array<int64_t, 18> key;
  static_assert(sizeof(key) == sizeof(Conv2DGeometry));
  std::memcpy(key.data(), &g, sizeof(key));
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, build(g)).first;
  return it->second;
}

} // namespace

void conv2d(Context &, const Conv2DGeometry &g, const float *x, const float *w,
            const float *b, float *y, int8_t *scratch, int64_t scratchBytes) {
  ConvPrimitives &p = primitives(g);
  char *planned = reinterpret_cast<char *>(scratch);
  if (b)
    p.forwardWithBias.run({x, w, b, y}, planned, scratchBytes);
  else
    p.forward.run({x, w, y}, planned, scratchBytes);
}

void conv2dBackwardData(Context &, const Conv2DGeometry &g, const float *dy,
                        const float *w, float *dx, int8_t *scratch,
                        int64_t scratchBytes) {
  primitives(g).backwardData.run(
      {dy, w, dx}, reinterpret_cast<char *>(scratch), scratchBytes);
}

void conv2dBackwardFilter(Context &, const Conv2DGeometry &g, const float *dy,
                          const float *x, float *dw, int8_t *scratch,
                          int64_t scratchBytes) {
  primitives(g).backwardWeights.run(
      {dy, x, dw}, reinterpret_cast<char *>(scratch), scratchBytes);
}

int64_t conv2dWorkspaceBytes(const Conv2DGeometry &g, ConvKernel kernel) {
  try {
    ConvPrimitives p = build(g);
    switch (kernel) {
    case ConvKernel::Forward:
      return p.forward.workspaceBytes();
    case ConvKernel::ForwardWithBias:
      return p.forwardWithBias.workspaceBytes();
    case ConvKernel::BackwardData:
      return p.backwardData.workspaceBytes();
    case ConvKernel::BackwardFilter:
      return p.backwardWeights.workspaceBytes();
    }
  } catch (const dnnl::error &) {
  }
  return -1;
}

} // namespace dlc::rt
