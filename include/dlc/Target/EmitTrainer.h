//===- EmitTrainer.h - planned graph module to C++ --------------*- C++ -*-===//
//
// Emits the C++ (or CUDA C++) source of a training program from a module that
// has been through BuildTrainingGraph and PlanMemory, and the assembly stub
// that embeds the initial values and the ONNX model into the executable.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_EMITTRAINER_H
#define DLC_TARGET_EMITTRAINER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace dlc {

enum class Target { Cpu, Cuda };

/// Writes the program's source to `os` and the variables' initial values to
/// `initData` (the bytes the source's `dlc_init_data` symbol must hold).
mlir::LogicalResult emitTrainerSource(mlir::ModuleOp module, Target target,
                                      llvm::StringRef trainingConfig,
                                      llvm::raw_ostream &os,
                                      std::vector<char> &initData);

/// Assembly that defines `dlc_init_data` and `dlc_onnx_model` from files.
std::string emitEmbedAssembly(llvm::StringRef initDataPath,
                              llvm::StringRef onnxModelPath);

} // namespace dlc

#endif // DLC_TARGET_EMITTRAINER_H
