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
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"

#include <string>
#include <vector>

namespace dlc {

struct OnnxImportOptions {
  /// The batch size the model is compiled for; replaces the first dimension
  /// of the data input, symbolic or fixed.
  int64_t batchSize = 1;
  /// For `dlc run`: every graph input that is not an initializer becomes an
  /// argument of @forward with the shape the model gives it (which must be
  /// static), and every graph output a result. The batch is not changed.
  bool inference = false;
};

/// Imports the ONNX model in `bytes` (read from `fileName`, which is used in
/// diagnostics). Problems are reported through the context's diagnostic
/// engine, naming the node, its op type and the opset; returns null then.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModel(mlir::MLIRContext *context, llvm::StringRef bytes,
                llvm::StringRef fileName, const OnnxImportOptions &options);

/// The ONNX op types the importer knows, sorted.
std::vector<std::string> supportedOnnxOps();

/// The default-domain opsets dlc imports. The newest is the newest that
/// Debian's ONNX (1.12) knows; before opset 7, ops whose meaning changed are
/// refused one by one.
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 17;

/// Name of the module attribute holding the ONNX model (as bytes, without the
/// initializer data that variables hold), which executables embed for --save.
constexpr llvm::StringLiteral kOnnxModelAttr = "dlc.onnx_model";

/// Name of the module attribute holding the ONNX data input's name.
constexpr llvm::StringLiteral kOnnxInputNameAttr = "dlc.onnx_input";

} // namespace dlc

#endif // DLC_IMPORT_ONNXIMPORTER_H
