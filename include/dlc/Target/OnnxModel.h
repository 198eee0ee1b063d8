//===- OnnxModel.h - the ONNX model an executable embeds --------*- C++ -*-===//

#ifndef DLC_TARGET_ONNXMODEL_H
#define DLC_TARGET_ONNXMODEL_H

#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"

#include <string>

namespace dlc {

/// The ONNX model in `bytes`, re-serialized without the data of the
/// initializers named in `variables` (their names, types and shapes stay).
/// Executables embed this copy for --save, which fills the data back in from
/// the trained variables, so the weights are not embedded twice.
mlir::FailureOr<std::string>
stripInitializerData(llvm::StringRef bytes,
                     const llvm::StringSet<> &variables);

} // namespace dlc

#endif // DLC_TARGET_ONNXMODEL_H
