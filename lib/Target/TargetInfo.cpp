//===- TargetInfo.cpp - what each code-generation target can run ----------===//

#include "dlc/Target/TargetInfo.h"

using namespace mlir;
using namespace dlc;

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
