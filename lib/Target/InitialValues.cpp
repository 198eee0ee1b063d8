//===- InitialValues.cpp - the variables' initial values, packed ----------===//

#include "dlc/Target/InitialValues.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Support/Blob.h"

#include <cstring>

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

FailureOr<InitialValueLayout> dlc::layoutInitialValues(ModuleOp module) {
  InitialValueLayout layout;
  for (auto variable : module.getOps<VariableOp>()) {
    ElementsAttr init = variable.getInitialValueAttr();
    if (!init) {
      layout.offsets.push_back(-1);
      continue;
    }
    if (!isa<DenseElementsAttr>(init))
      return variable.emitOpError("initial value must be a dense attribute");
    layout.size = (layout.size + 63) / 64 * 64;
    layout.offsets.push_back(layout.size);
    layout.size += variable.getTensorType().getNumElements() * sizeof(float);
  }
  return layout;
}

std::optional<ArrayRef<char>> dlc::initialData(ModuleOp module) {
  return blobBytes(module, kInitialDataAttr);
}

FailureOr<std::vector<char>> dlc::packInitialValues(ModuleOp module) {
  FailureOr<InitialValueLayout> layout = layoutInitialValues(module);
  if (failed(layout))
    return failure();
  std::vector<char> bytes(layout->size);
  for (auto [variable, offset] :
       llvm::zip(module.getOps<VariableOp>(), layout->offsets)) {
    if (offset < 0)
      continue;
    char *out = bytes.data() + offset;
    for (float value :
         cast<DenseElementsAttr>(variable.getInitialValueAttr())
             .getValues<float>()) {
      std::memcpy(out, &value, sizeof(float));
      out += sizeof(float);
    }
  }
  return bytes;
}

