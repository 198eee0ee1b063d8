//===- EmbedData.h - data linked into training executables ------*- C++ -*-===//
//
// The assembly stub that embeds the variables' initial values and the ONNX
// model into the executable, under the symbols dlc/Runtime/Model.h declares.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_EMBEDDATA_H
#define DLC_TARGET_EMBEDDATA_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace dlc {

/// GNU assembly defining `dlc_init_data`, `dlc_onnx_model` and
/// `dlc_onnx_model_end` from the two files.
std::string emitEmbedAssembly(llvm::StringRef initDataPath,
                              llvm::StringRef onnxModelPath);

} // namespace dlc

#endif // DLC_TARGET_EMBEDDATA_H
