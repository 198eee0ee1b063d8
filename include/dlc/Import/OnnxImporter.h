//===- OnnxImporter.h - ONNX model to graph dialect -------------*- C++ -*-===//
//
// Reads an ONNX ModelProto and builds a module holding `@forward` in the graph
// dialect, with the model's initializers as trainable variables.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_IMPORT_ONNXIMPORTER_H
#define DLC_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace dlc {

struct OnnxImportOptions {
  /// The batch size the model is compiled for; replaces the first dimension
  /// of the data input, symbolic or fixed.
  int64_t batchSize = 1;
};

/// Imports the ONNX model in `bytes` (read from `fileName`, which is used in
/// diagnostics). Problems are reported through the context's diagnostic
/// engine, naming the node, its op type and the opset; returns null then.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModel(mlir::MLIRContext *context, llvm::StringRef bytes,
                llvm::StringRef fileName, const OnnxImportOptions &options);

/// Name of the module attribute holding the ONNX data input's name.
constexpr llvm::StringLiteral kOnnxInputNameAttr = "dlc.onnx_input";

} // namespace dlc

#endif // DLC_IMPORT_ONNXIMPORTER_H
