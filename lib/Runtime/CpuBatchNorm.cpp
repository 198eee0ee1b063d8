//===- CpuBatchNorm.cpp - CPU backend: batch normalization on oneDNN ------===//
//
// oneDNN's batch normalization, forward in training mode (it computes the
// batch statistics), backward (data, scale and shift gradients in one
// pass), and forward in inference mode (given statistics). Tensors are N x C x
// spatial, presented to oneDNN as N x C x S x 1 in the arena's layout: plain
// NCHW takes oneDNN's generic loops, the blocked nChw8c / nChw16c that
// dlc-assign-cpu-layouts picks between convolutions its vectorised kernels.
// Primitives are cached per geometry.
//
//===----------------------------------------------------------------------===//

#include "CpuDnnl.h"
#include "dlc/Runtime/CpuWorkspaces.h"
#include "dlc/Runtime/Kernels.h"

#include <map>
#include <mutex>
#include <tuple>

namespace dlc::rt {

namespace {

using namespace dnnl_support;
using dnnl::memory;

struct NormPrimitives {
  Execution forward, backward, inference;
};

NormPrimitives build(const BatchNormGeometry &g, float epsilon) {
  using namespace dnnl;
  auto f32 = memory::data_type::f32;
  memory::desc data =
      activationDesc({g.batch, g.channels, g.spatial, 1}, g.block);
  memory::desc vector({g.channels}, f32, memory::format_tag::x);
  auto flags = normalization_flags::use_scale | normalization_flags::use_shift;

  batch_normalization_forward::primitive_desc forward(
      batch_normalization_forward::desc(prop_kind::forward_training, data,
                                        epsilon, flags),
      attributes(), engine());
  batch_normalization_backward::primitive_desc backward(
      batch_normalization_backward::desc(prop_kind::backward, data, data,
                                         epsilon, flags),
      attributes(), engine(), forward);
  batch_normalization_forward::primitive_desc inference(
      batch_normalization_forward::desc(
          prop_kind::forward_inference, data, epsilon,
          flags | normalization_flags::use_global_stats),
      attributes(), engine());

  NormPrimitives p;
  p.forward = Execution(forward);
  p.forward.addInput(DNNL_ARG_SRC, data);
  p.forward.addInput(DNNL_ARG_SCALE, vector);
  p.forward.addInput(DNNL_ARG_SHIFT, vector);
  p.forward.addOutput(DNNL_ARG_DST, data);
  p.forward.addOutput(DNNL_ARG_MEAN, vector);
  p.forward.addOutput(DNNL_ARG_VARIANCE, vector);

  p.backward = Execution(backward);
  p.backward.addInput(DNNL_ARG_DIFF_DST, data);
  p.backward.addInput(DNNL_ARG_SRC, data);
  p.backward.addInput(DNNL_ARG_SCALE, vector);
  // oneDNN 2.6 insists on a shift argument with use_shift, though the
  // backward pass never reads it; the scale is passed in its place.
  p.backward.addInput(DNNL_ARG_SHIFT, vector);
  p.backward.addInput(DNNL_ARG_MEAN, vector);
  p.backward.addInput(DNNL_ARG_VARIANCE, vector);
  p.backward.addOutput(DNNL_ARG_DIFF_SRC, data);
  p.backward.addOutput(DNNL_ARG_DIFF_SCALE, vector);
  p.backward.addOutput(DNNL_ARG_DIFF_SHIFT, vector);

  p.inference = Execution(inference);
  p.inference.addInput(DNNL_ARG_SRC, data);
  p.inference.addInput(DNNL_ARG_SCALE, vector);
  p.inference.addInput(DNNL_ARG_SHIFT, vector);
  p.inference.addInput(DNNL_ARG_MEAN, vector);
  p.inference.addInput(DNNL_ARG_VARIANCE, vector);
  p.inference.addOutput(DNNL_ARG_DST, data);
  return p;
}

NormPrimitives &primitives(const BatchNormGeometry &g, float epsilon) {
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, float>;
  static std::map<Key, NormPrimitives> cache;
  static std::mutex mutex;
  Key key{g.batch, g.channels, g.spatial, g.block, epsilon};
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, build(g, epsilon)).first;
  return it->second;
}

} // namespace

void batchNormTraining(Context &, const BatchNormGeometry &g, float epsilon,
                       const float *x, const float *scale, const float *bias,
                       float *y, float *mean, float *variance, int8_t *scratch,
                       int64_t scratchBytes) {
  primitives(g, epsilon).forward.run({x, scale, bias, y, mean, variance},
                                     reinterpret_cast<char *>(scratch),
                                     scratchBytes);
}

void batchNormInference(Context &, const BatchNormGeometry &g, float epsilon,
                        const float *x, const float *scale, const float *bias,
                        const float *mean, const float *variance, float *y,
                        int8_t *scratch, int64_t scratchBytes) {
  primitives(g, epsilon)
      .inference.run({x, scale, bias, mean, variance, y},
                     reinterpret_cast<char *>(scratch), scratchBytes);
}

void batchNormTrainingGrad(Context &, const BatchNormGeometry &g,
                           float epsilon, const float *dy, const float *x,
                           const float *scale, const float *mean,
                           const float *variance, float *dx, float *dscale,
                           float *dbias, int8_t *scratch,
                           int64_t scratchBytes) {
  primitives(g, epsilon).backward.run(
      {dy, x, scale, scale, mean, variance, dx, dscale, dbias},
      reinterpret_cast<char *>(scratch), scratchBytes);
}

int64_t batchNormWorkspaceBytes(const BatchNormGeometry &g, float epsilon,
                                NormKernel kernel) {
  try {
    NormPrimitives p = build(g, epsilon);
    switch (kernel) {
    case NormKernel::Inference:
      return p.inference.workspaceBytes();
    case NormKernel::Training:
      return p.forward.workspaceBytes();
    case NormKernel::TrainingBackward:
      return p.backward.workspaceBytes();
    }
    return -1;
  } catch (const dnnl::error &) {
    return -1;
  }
}

} // namespace dlc::rt
