//===- HostCompile.h - build the executable from generated code -*- C++ -*-===//

#ifndef DLC_TOOLS_DLC_HOSTCOMPILE_H
#define DLC_TOOLS_DLC_HOSTCOMPILE_H

#include "dlc/Pipeline/Pipeline.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace dlc {

struct HostCompileRequest {
  Target target = Target::Cpu;
  std::string source;         ///< the generated program
  std::vector<char> initData; ///< initial values of the variables
  /// The ONNX model embedded for --save, its variables' initializer data
  /// stripped (the trainer fills it back in); empty for runners.
  llvm::StringRef onnxModel;
  std::string outputPath;
  std::string hostCompiler = "c++";
  bool keepTemporaries = false;
  /// Link the `dlc run` main (runs @forward on TensorProto files) instead of
  /// the trainer's.
  bool runner = false;
};

/// Writes the generated files to a temporary directory, runs the host
/// compiler (c++ or nvcc) and links the runtime. The executable appears at
/// `outputPath` only once it is complete.
llvm::Error compileExecutable(const HostCompileRequest &request);

} // namespace dlc

#endif // DLC_TOOLS_DLC_HOSTCOMPILE_H
