//===- SizeCpuWorkspaces.cpp - oneDNN's workspaces, planned at its size ---===//
//
// Reads each oneDNN-backed call's geometry back from its `args` (the ABI
// structs of dlc/Runtime/Kernels.h, fields in declaration order), asks the
// runtime's primitive builders how many bytes the call needs besides its
// operands, and gives the call a scratch buffer of that size. Under a
// memory budget, a convolution whose scratch would take more than its
// share of the budget goes to oneDNN in calls of fewer images: its layout
// copies shrink with them, at little cost in speed.
//
//===----------------------------------------------------------------------===//

#include "CpuGeometry.h"
#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Runtime/CpuWorkspaces.h"
#include "dlc/Target/Passes.h"

#include "mlir/IR/Builders.h"

#include <optional>

namespace dlc {
#define GEN_PASS_DEF_SIZECPUWORKSPACES
#include "dlc/Target/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

/// Under a budget, no convolution's scratch may take more than this share
/// of what the budget leaves beside the globals (parameters, optimizer
/// state): 1/8.
constexpr int64_t kScratchShareOfBudget = 8;

/// Which of the four convolution calls `callee` is, if it is one.
std::optional<rt::ConvKernel> convKernel(StringRef callee,
                                         ArrayRef<Attribute> args) {
  if (callee == "conv2d")
    return args.size() > 3 && !isa<exec::NullAttr>(args[3])
               ? rt::ConvKernel::ForwardWithBias
               : rt::ConvKernel::Forward;
  if (callee == "conv2dBackwardData")
    return rt::ConvKernel::BackwardData;
  if (callee == "conv2dBackwardFilter")
    return rt::ConvKernel::BackwardFilter;
  return std::nullopt;
}

std::optional<int64_t> poolBytes(ArrayRef<Attribute> args,
                                 rt::PoolKernel kernel) {
  std::optional<rt::Pool2DGeometry> g = cpu::readPoolGeometry(args);
  if (!g)
    return std::nullopt;
  return rt::pool2dWorkspaceBytes(*g, kernel);
}

std::optional<int64_t> batchNormBytes(ArrayRef<Attribute> args,
                                      rt::NormKernel kernel) {
  std::optional<rt::BatchNormGeometry> g = cpu::readBatchNormGeometry(args);
  auto epsilon = args.size() > 1 ? dyn_cast<FloatAttr>(args[1]) : FloatAttr();
  if (!g || !epsilon)
    return std::nullopt;
  return rt::batchNormWorkspaceBytes(
      *g, static_cast<float>(epsilon.getValueAsDouble()), kernel);
}

/// The bytes oneDNN needs for `kernel`, if it is a call oneDNN backs and
/// oneDNN accepts its geometry.
std::optional<int64_t> workspaceBytes(exec::KernelOp kernel) {
  using rt::ConvKernel;
  using rt::PoolKernel;
  SmallVector<Attribute> args = kernel.getCallArguments();
  StringRef callee = kernel.getCallee();
  std::optional<int64_t> bytes;
  if (std::optional<ConvKernel> conv = convKernel(callee, args)) {
    if (std::optional<rt::Conv2DGeometry> g = cpu::readConvGeometry(args))
      bytes = rt::conv2dWorkspaceBytes(*g, *conv);
  } else if (callee == "maxPool2d")
    bytes = poolBytes(args, PoolKernel::MaxForward);
  else if (callee == "maxPool2dGrad")
    bytes = poolBytes(args, PoolKernel::MaxBackward);
  else if (callee == "avgPool2d")
    bytes = poolBytes(args, PoolKernel::AvgForward);
  else if (callee == "avgPool2dGrad")
    bytes = poolBytes(args, PoolKernel::AvgBackward);
  else if (callee == "batchNormInference")
    bytes = batchNormBytes(args, rt::NormKernel::Inference);
  else if (callee == "batchNormTraining")
    bytes = batchNormBytes(args, rt::NormKernel::Training);
  else if (callee == "batchNormTrainingGrad")
    bytes = batchNormBytes(args, rt::NormKernel::TrainingBackward);
  if (!bytes || *bytes < 0)
    return std::nullopt;
  return bytes;
}

/// Replaces `kernel` by the same call with a scratch buffer of `bytes`
/// (none for 0), passed as its last two arguments, and `geometry` first if
/// given.
void resizeScratch(exec::KernelOp kernel, int64_t bytes,
                   exec::StructAttr geometry = nullptr) {
  MLIRContext *ctx = kernel.getContext();
  OpBuilder builder(kernel);
  SmallVector<Attribute> args = kernel.getCallArguments();
  if (geometry)
    args.front() = geometry;
  SmallVector<Value> scratch;
  Attribute pointer = exec::NullAttr::get(ctx);
  if (bytes > 0) {
    auto type = exec::BufferType::get(ctx, {bytes}, builder.getI8Type());
    scratch.push_back(exec::AllocOp::create(builder, kernel.getLoc(), type,
                                            /*alignment=*/64,
                                            /*offset=*/nullptr));
    pointer = exec::PointerAttr::get(
        ctx, kernel.getInputs().size() + kernel.getOutputs().size(), 0);
  }
  args[args.size() - 2] = pointer;
  args.back() = builder.getI64IntegerAttr(bytes);
  exec::KernelOp::create(builder, kernel.getLoc(), kernel.getCallee(),
                         kernel.getStream(), kernel.getInputs(),
                         kernel.getOutputs(), scratch, kernel.getInPlaceAttr(),
                         builder.getArrayAttr(args),
                         kernel.getReusableAttr());
  SmallVector<Value> old(kernel.getScratch());
  kernel.erase();
  for (Value buffer : old)
    if (buffer.use_empty())
      if (auto alloc = buffer.getDefiningOp<exec::AllocOp>())
        alloc.erase();
}

/// The scratch bytes `kernel` passes: its last argument.
int64_t plannedBytes(exec::KernelOp kernel) {
  SmallVector<Attribute> args = kernel.getCallArguments();
  auto size = args.empty() ? IntegerAttr() : dyn_cast<IntegerAttr>(args.back());
  return size ? size.getInt() : -1;
}

/// Halves the images per call of convolution `kernel` until its scratch
/// is at most `cap` bytes, or one image per call, or halving saves little;
/// returns the geometry reached and its scratch, or nothing if the call
/// stays as it is.
std::optional<std::pair<exec::StructAttr, int64_t>>
fewerImagesPerCall(exec::KernelOp kernel, int64_t bytes, int64_t cap) {
  SmallVector<Attribute> args = kernel.getCallArguments();
  std::optional<rt::ConvKernel> conv = convKernel(kernel.getCallee(), args);
  std::optional<rt::Conv2DGeometry> g = cpu::readConvGeometry(args);
  if (!conv || !g || bytes <= cap)
    return std::nullopt;
  // Halving pays while the images' copies make most of the scratch: each
  // halving must save a quarter of it (not so when the weights' copy
  // dominates, as in a late layer of a few pixels and many channels).
  rt::Conv2DGeometry fewer = *g;
  while (bytes > cap && fewer.imagesPerCall > 1) {
    rt::Conv2DGeometry half = fewer;
    half.imagesPerCall = (fewer.imagesPerCall + 1) / 2;
    int64_t halfBytes = rt::conv2dWorkspaceBytes(half, *conv);
    if (halfBytes < 0 || halfBytes > bytes / 4 * 3)
      break;
    fewer = half;
    bytes = halfBytes;
  }
  if (fewer.imagesPerCall == g->imagesPerCall)
    return std::nullopt;
  return std::make_pair(cpu::geometryAttr(kernel.getContext(), fewer), bytes);
}

struct SizeCpuWorkspaces
    : dlc::impl::SizeCpuWorkspacesBase<SizeCpuWorkspaces> {
  using SizeCpuWorkspacesBase::SizeCpuWorkspacesBase;

  void runOnOperation() override {
    int64_t cap = INT64_MAX;
    if (budget > 0)
      cap = std::max<int64_t>(budget - globalBytes(getOperation()), 0) /
            kScratchShareOfBudget;
    struct Resize {
      exec::KernelOp kernel;
      int64_t bytes;
      exec::StructAttr geometry;
    };
    SmallVector<Resize> resized;
    getOperation().walk([&](exec::KernelOp kernel) {
      std::optional<int64_t> bytes = workspaceBytes(kernel);
      if (!bytes)
        return;
      if (auto fewer = fewerImagesPerCall(kernel, *bytes, cap))
        resized.push_back({kernel, fewer->second, fewer->first});
      else if (*bytes != plannedBytes(kernel))
        resized.push_back({kernel, *bytes, nullptr});
    });
    for (const Resize &r : resized)
      resizeScratch(r.kernel, r.bytes, r.geometry);
  }
};

} // namespace
