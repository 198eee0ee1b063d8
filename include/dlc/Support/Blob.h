//===- Blob.h - bytes carried in the IR as resource blobs -------*- C++ -*-===//
//
// The ONNX model and the packed initial values travel with the module as
// `dense_resource` attributes: printed once, as hex, at the end of an .mlir
// file, so that any stage written out can still build an executable.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_SUPPORT_BLOB_H
#define DLC_SUPPORT_BLOB_H

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>

namespace dlc {

/// A `tensor<N x i8>` resource attribute holding a copy of `bytes`.
inline mlir::DenseI8ResourceElementsAttr
makeBlobAttr(mlir::MLIRContext *context, llvm::StringRef name,
             llvm::ArrayRef<char> bytes) {
  auto type = mlir::RankedTensorType::get(
      {static_cast<int64_t>(bytes.size())},
      mlir::IntegerType::get(context, 8));
  return mlir::DenseI8ResourceElementsAttr::get(
      type, name,
      mlir::HeapAsmResourceBlob::allocateAndCopyInferAlign(
          llvm::ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(bytes.data()),
                                 bytes.size())));
}

/// The bytes of `op`'s blob attribute `name`; nullopt if it has none.
inline std::optional<llvm::ArrayRef<char>> blobBytes(mlir::Operation *op,
                                                     llvm::StringRef name) {
  auto attr = op->getAttrOfType<mlir::DenseI8ResourceElementsAttr>(name);
  if (!attr)
    return std::nullopt;
  std::optional<llvm::ArrayRef<int8_t>> bytes = attr.tryGetAsArrayRef();
  if (!bytes)
    return llvm::ArrayRef<char>();
  return llvm::ArrayRef<char>(reinterpret_cast<const char *>(bytes->data()),
                              bytes->size());
}

} // namespace dlc

#endif // DLC_SUPPORT_BLOB_H
