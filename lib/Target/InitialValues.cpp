//===- InitialValues.cpp - the globals' initial values, packed ------------===//

#include "dlc/Target/InitialValues.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Support/Blob.h"

#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace mlir;
using namespace dlc;

DenseSet<StringAttr> dlc::writtenGlobals(ModuleOp module) {
  DenseSet<StringAttr> written;
  module.walk([&](exec::KernelOp kernel) {
    for (Value output : kernel.getOutputs())
      if (auto ref =
              exec::storageOf(output).getDefiningOp<exec::GlobalRefOp>())
        written.insert(ref.getGlobalAttr().getAttr());
  });
  return written;
}

FailureOr<PackedInitialValues> dlc::packInitialValues(ModuleOp module,
                                                      bool external) {
  DenseSet<StringAttr> written;
  if (external)
    written = writtenGlobals(module);
  PackedInitialValues packed;
  for (auto global : module.getOps<exec::GlobalOp>()) {
    std::optional<ElementsAttr> init = global.getInitialValue();
    if (!init) {
      packed.offsets.push_back(-1);
      continue;
    }
    if (external && global.getOnnxName() &&
        written.contains(global.getSymNameAttr())) {
      packed.offsets.push_back(-2);
      continue;
    }
    auto dense = dyn_cast<DenseElementsAttr>(*init);
    exec::BufferType type = global.getBufferType();
    if (!dense || type.getElementType().getIntOrFloatBitWidth() % 8 != 0)
      return global.emitOpError(
          "initial value must be a dense attribute of whole bytes");
    size_t offset = llvm::alignTo(packed.bytes.size(), 64);
    packed.offsets.push_back(offset);
    packed.bytes.resize(offset + type.getSizeInBytes());
    // The raw data holds one element for a splat, every element otherwise.
    ArrayRef<char> raw = dense.getRawData();
    for (size_t at = offset; at < packed.bytes.size(); at += raw.size())
      std::memcpy(packed.bytes.data() + at, raw.data(), raw.size());
  }
  return packed;
}

std::optional<ArrayRef<char>> dlc::initialData(ModuleOp module) {
  return blobBytes(module, kInitialDataAttr);
}
