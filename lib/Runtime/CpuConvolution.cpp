//===- CpuConvolution.cpp - CPU backend: convolutions on oneDNN -----------===//
//
// Forward, backward-data and backward-weights convolution primitives of
// oneDNN over the arena's plain NCHW / OIHW buffers. Primitives are built
// once per geometry and cached: a training step runs the same few shapes
// every time.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Kernels.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstring>
#include <map>
#include <mutex>

namespace dlc::rt {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine &engine() {
  static dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

struct ConvPrimitives {
  memory::desc src, weights, bias, dst;
  dnnl::convolution_forward forward, forwardWithBias;
  dnnl::convolution_backward_data backwardData;
  dnnl::convolution_backward_weights backwardWeights;
};

ConvPrimitives build(const Conv2DGeometry &g) {
  using namespace dnnl;
  auto f32 = memory::data_type::f32;
  ConvPrimitives p;
  p.src = memory::desc({g.batch, g.inChannels, g.inHeight, g.inWidth}, f32,
                       Tag::nchw);
  p.dst = memory::desc({g.batch, g.outChannels, g.outHeight, g.outWidth}, f32,
                       Tag::nchw);
  p.weights =
      g.groups == 1
          ? memory::desc({g.outChannels, g.inChannels, g.kernelHeight,
                          g.kernelWidth},
                         f32, Tag::oihw)
          : memory::desc({g.groups, g.outChannels / g.groups,
                          g.inChannels / g.groups, g.kernelHeight,
                          g.kernelWidth},
                         f32, Tag::goihw);
  p.bias = memory::desc({g.outChannels}, f32, Tag::x);
  memory::dims strides = {g.strideH, g.strideW};
  // oneDNN counts dilation from 0 (no gaps), ONNX from 1.
  memory::dims dilations = {g.dilationH - 1, g.dilationW - 1};
  memory::dims padBegin = {g.padTop, g.padLeft};
  memory::dims padEnd = {g.padBottom, g.padRight};
  auto algo = algorithm::convolution_direct;

  convolution_forward::primitive_desc forward(
      convolution_forward::desc(prop_kind::forward_training, algo, p.src,
                                p.weights, p.dst, strides, dilations,
                                padBegin, padEnd),
      engine());
  convolution_forward::primitive_desc forwardWithBias(
      convolution_forward::desc(prop_kind::forward_training, algo, p.src,
                                p.weights, p.bias, p.dst, strides, dilations,
                                padBegin, padEnd),
      engine());
  convolution_backward_data::primitive_desc backwardData(
      convolution_backward_data::desc(algo, p.src, p.weights, p.dst, strides,
                                      dilations, padBegin, padEnd),
      engine(), forward);
  convolution_backward_weights::primitive_desc backwardWeights(
      convolution_backward_weights::desc(algo, p.src, p.weights, p.dst,
                                         strides, dilations, padBegin, padEnd),
      engine(), forward);
  p.forward = convolution_forward(forward);
  p.forwardWithBias = convolution_forward(forwardWithBias);
  p.backwardData = convolution_backward_data(backwardData);
  p.backwardWeights = convolution_backward_weights(backwardWeights);
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

memory wrap(const memory::desc &desc, const float *data) {
  return memory(desc, engine(), const_cast<float *>(data));
}

void run(dnnl::primitive &primitive,
         const std::unordered_map<int, memory> &args) {
  dnnl::stream stream(engine());
  primitive.execute(stream, args);
  stream.wait();
}

} // namespace

void conv2d(Context &, const Conv2DGeometry &g, const float *x, const float *w,
            const float *b, float *y) {
  ConvPrimitives &p = primitives(g);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, wrap(p.src, x)},
      {DNNL_ARG_WEIGHTS, wrap(p.weights, w)},
      {DNNL_ARG_DST, wrap(p.dst, y)}};
  if (b)
    args.emplace(DNNL_ARG_BIAS, wrap(p.bias, b));
  run(b ? p.forwardWithBias : p.forward, args);
}

void conv2dBackwardData(Context &, const Conv2DGeometry &g, const float *dy,
                        const float *w, float *dx) {
  ConvPrimitives &p = primitives(g);
  run(p.backwardData, {{DNNL_ARG_DIFF_DST, wrap(p.dst, dy)},
                       {DNNL_ARG_WEIGHTS, wrap(p.weights, w)},
                       {DNNL_ARG_DIFF_SRC, wrap(p.src, dx)}});
}

void conv2dBackwardFilter(Context &, const Conv2DGeometry &g, const float *dy,
                          const float *x, float *dw) {
  ConvPrimitives &p = primitives(g);
  run(p.backwardWeights, {{DNNL_ARG_DIFF_DST, wrap(p.dst, dy)},
                          {DNNL_ARG_SRC, wrap(p.src, x)},
                          {DNNL_ARG_DIFF_WEIGHTS, wrap(p.weights, dw)}});
}

} // namespace dlc::rt
