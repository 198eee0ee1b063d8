//===- TargetInfo.cpp - what each code-generation target can run ----------===//

#include "dlc/Target/TargetInfo.h"
#include "dlc/Dialect/Graph/GraphOps.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

bool TargetInfo::hasKernel(Operation *op) const {
  if (target == Target::Cpu)
    return true;
  // The CUDA backend runs matrix products (cuBLAS) and elementwise kernels
  // so far; cuDNN's convolution, pooling and normalization come later.
  return !isa<Conv2DOp, Conv2DBackwardDataOp, Conv2DBackwardFilterOp,
              MaxPool2DOp, MaxPool2DGradOp, AvgPool2DOp, AvgPool2DGradOp,
              TransposeOp, ConcatOp, SliceOp, ClipOp, ClipGradOp, LogSoftmaxOp,
              LogSoftmaxGradOp, MatMulOp, PadOp, CropOp, LrnOp, LrnGradOp,
              BatchNormTrainOp, BatchNormGradOp>(op);
}

const TargetInfo &TargetInfo::get(Target target) {
  static const TargetInfo cpu{Target::Cpu, "cpu", /*fusedBatchNorm=*/true,
                              /*blasWorkspaceBytes=*/0};
  static const TargetInfo cuda{Target::Cuda, "cuda", /*fusedBatchNorm=*/false,
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
