//===- TargetInfo.cpp - what each code-generation target can run ----------===//

#include "dlc/Target/TargetInfo.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
/// cuDNN pads both sides of each spatial dimension alike.
bool evenPads(ArrayRef<int64_t> pads) {
  return pads.size() == 4 && pads[0] == pads[2] && pads[1] == pads[3];
}
} // namespace

std::optional<std::string> TargetInfo::missingKernel(Operation *op) const {
  if (target == Target::Cpu)
    return std::nullopt;
  // The CUDA backend has a kernel for every op; cuDNN's windows take
  // neither uneven padding nor dilated pooling.
  std::optional<ArrayRef<int64_t>> pads =
      llvm::TypeSwitch<Operation *, std::optional<ArrayRef<int64_t>>>(op)
          .Case<Conv2DOp, Conv2DBackwardDataOp, Conv2DBackwardFilterOp,
                MaxPool2DOp, MaxPool2DGradOp, AvgPool2DOp, AvgPool2DGradOp>(
              [](auto windowed) { return windowed.getPads(); })
          .Default([](Operation *) { return std::nullopt; });
  if (pads && !evenPads(*pads))
    return std::string("CUDA kernel for uneven padding (cuDNN pads both sides "
                       "alike); compile this model with --target=cpu");
  auto dilated = [](std::optional<ArrayRef<int64_t>> dilations) {
    return dilations && llvm::any_of(*dilations,
                                     [](int64_t d) { return d != 1; });
  };
  if ((isa<MaxPool2DOp>(op) && dilated(cast<MaxPool2DOp>(op).getDilations())) ||
      (isa<MaxPool2DGradOp>(op) &&
       dilated(cast<MaxPool2DGradOp>(op).getDilations())))
    return std::string("CUDA kernel for dilated pooling (cuDNN has none); "
                       "compile this model with --target=cpu");
  return std::nullopt;
}

const TargetInfo &TargetInfo::get(Target target) {
  static const TargetInfo cpu{Target::Cpu, "cpu", /*fusedBatchNorm=*/true,
                              /*blasWorkspaceBytes=*/0};
  static const TargetInfo cuda{Target::Cuda, "cuda", /*fusedBatchNorm=*/true,
                               /*blasWorkspaceBytes=*/int64_t(32) << 20};
  return target == Target::Cuda ? cuda : cpu;
}

std::optional<Target> TargetInfo::parse(StringRef name) {
  if (name == "cpu")
    return Target::Cpu;
  if (name == "cuda")
    return Target::Cuda;
  return std::nullopt;
}
