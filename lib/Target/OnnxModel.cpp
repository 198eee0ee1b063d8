//===- OnnxModel.cpp - the ONNX model an executable embeds ----------------===//

#include "dlc/Target/OnnxModel.h"

#include "onnx/onnx_pb.h"

using namespace mlir;
using llvm::StringRef;

FailureOr<std::string>
dlc::stripInitializerData(StringRef bytes, const llvm::StringSet<> &variables) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return failure();
  for (onnx::TensorProto &tensor : *model.mutable_graph()->mutable_initializer())
    if (variables.contains(tensor.name())) {
      tensor.clear_raw_data();
      tensor.clear_float_data();
    }
  std::string stripped;
  if (!model.SerializeToString(&stripped))
    return failure();
  return stripped;
}

