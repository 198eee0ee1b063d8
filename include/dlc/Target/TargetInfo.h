//===- TargetInfo.h - what each code-generation target can run --*- C++ -*-===//
//
// One place for target knowledge: the pipeline asks it whether batch norm
// trains fused, the lowering how much workspace BLAS calls get.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_TARGETINFO_H
#define DLC_TARGET_TARGETINFO_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace dlc {

enum class Target { Cpu, Cuda };

struct TargetInfo {
  Target target;
  /// The name `--target=` takes.
  llvm::StringRef name;
  /// Whether the runtime has fused batch-norm training kernels (otherwise
  /// the training step spells batch norm out in arithmetic).
  bool fusedBatchNorm;
  /// The workspace each matrix-product call gets in the arena for its BLAS
  /// library (cuBLAS: 32 MiB, what NVIDIA advises on Hopper), or 0 where
  /// the library keeps its own.
  int64_t blasWorkspaceBytes;

  static const TargetInfo &get(Target target);
  /// The target named `name`, if there is one.
  static std::optional<Target> parse(llvm::StringRef name);
};

} // namespace dlc

#endif // DLC_TARGET_TARGETINFO_H
