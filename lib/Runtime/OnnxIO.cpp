//===- OnnxIO.cpp - ONNX files the runtime reads and writes ---------------===//
//
// Tensors in and out (dlc run, --dump-gradients) and the trained model.
// The executable embeds the ONNX model it was compiled from, without the
// data of the initializers that became variables (those are embedded once,
// as initial values). Saving fills them in from the arena (trained
// parameters, running statistics, untouched constants) and keeps everything
// else (graph, symbolic batch dimension, metadata) as the user exported it.
//
//===----------------------------------------------------------------------===//

#include "OnnxIO.h"
#include "AtomicFile.h"
#include "Error.h"
#include "dlc/Support/CheckedMath.h"
#include "dlc/Runtime/Model.h"

#include "onnx/onnx_pb.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <unordered_map>

using namespace dlc::rt;

namespace {
void writeAtomically(const google::protobuf::MessageLite &message,
                     const std::string &path) {
  std::string bytes;
  if (!message.SerializeToString(&bytes))
    throw Error("cannot serialize '" + path + "' (larger than 2 GiB?)");
  writeFileAtomically(path, bytes);
}
} // namespace

namespace {
/// `tensor`'s values (raw or typed data) and shape; throws Error naming
/// `where` if it is not a float tensor of consistent size.
void readFloats(const onnx::TensorProto &tensor, const std::string &where,
                std::vector<int64_t> &shape, std::vector<float> &data) {
  if (tensor.data_type() != onnx::TensorProto::FLOAT)
    throw Error(where + " holds element type " +
                onnx::TensorProto::DataType_Name(
                    static_cast<onnx::TensorProto::DataType>(
                        tensor.data_type())) +
                "; dlc reads float tensors");
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(where + " keeps its data in an external file; save the model "
                "with its data inside (onnx.save with "
                "save_as_external_data=False)");
  shape.assign(tensor.dims().begin(), tensor.dims().end());
  std::optional<int64_t> bytes = dlc::checkedByteSize(shape, sizeof(float));
  if (!bytes)
    throw Error(where + " has dims whose size is negative or overflows");
  int64_t count = *bytes / int64_t(sizeof(float));
  if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != count * sizeof(float))
      throw Error(where + " holds " + std::to_string(tensor.raw_data().size()) +
                  " bytes for " + std::to_string(count) + " floats");
    data.resize(count);
    std::memcpy(data.data(), tensor.raw_data().data(), count * sizeof(float));
  } else {
    if (tensor.float_data_size() != count)
      throw Error(where + " holds " + std::to_string(tensor.float_data_size()) +
                  " values for " + std::to_string(count));
    data.assign(tensor.float_data().begin(), tensor.float_data().end());
  }
}
} // namespace

void dlc::rt::readTensorProto(const std::string &path, std::string &name,
                              std::vector<int64_t> &shape,
                              std::vector<float> &data) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot open '" + path + "': " + std::strerror(errno));
  onnx::TensorProto tensor;
  if (!tensor.ParseFromIstream(&in))
    throw Error("'" + path + "' is not an ONNX TensorProto");
  name = tensor.name();
  readFloats(tensor, "'" + path + "'", shape, data);
}

std::vector<std::vector<float>>
dlc::rt::readInitialValues(const std::string &path, const ModelInfo &model) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("--init: cannot open '" + path + "': " + std::strerror(errno));
  onnx::ModelProto proto;
  if (!proto.ParseFromIstream(&in))
    throw Error("--init: '" + path + "' is not an ONNX model");
  std::unordered_map<std::string, const onnx::TensorProto *> initializers;
  for (const onnx::TensorProto &tensor : proto.graph().initializer())
    initializers[tensor.name()] = &tensor;

  std::vector<std::vector<float>> values(model.numVariables);
  for (int i = 0; i < model.numVariables; ++i) {
    const VariableInfo &v = model.variables[i];
    if (!v.onnxName)
      continue;
    auto it = initializers.find(v.onnxName);
    if (it == initializers.end()) {
      // Trained state must be there; a constant of the graph keeps its
      // compiled-in value.
      if (!v.saved)
        continue;
      throw Error("--init: '" + path + "' has no initializer '" + v.onnxName +
                  "' (a model with the same initializers as the one this "
                  "program was compiled from is expected)");
    }
    std::string where = "--init: initializer '" + std::string(v.onnxName) +
                        "' of '" + path + "'";
    if (v.elementType != ElementType::F32)
      throw Error(where + " initializes a " + elementTypeName(v.elementType) +
                  " variable; --init sets f32 variables only");
    std::vector<int64_t> shape;
    readFloats(*it->second, where, shape, values[i]);
    if (shape != std::vector<int64_t>(v.shape, v.shape + v.rank)) {
      auto text = [](const std::vector<int64_t> &dims) {
        std::string out;
        for (int64_t d : dims)
          out += (out.empty() ? "" : "x") + std::to_string(d);
        return "[" + out + "]";
      };
      throw Error(where + " has shape " + text(shape) + "; the model has " +
                  text(std::vector<int64_t>(v.shape, v.shape + v.rank)));
    }
  }
  return values;
}

void dlc::rt::writeTensorProto(const std::string &path,
                               const std::string &name, const int64_t *shape,
                               int rank, const float *data, int64_t count) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (int d = 0; d < rank; ++d)
    tensor.add_dims(shape[d]);
  tensor.set_raw_data(data, count * sizeof(float));
  writeAtomically(tensor, path);
}

void dlc::rt::saveTrainedModel(
    const ModelInfo &model,
    const std::vector<std::vector<float>> &hostVariables,
    const std::string &path) {
  onnx::ModelProto proto;
  if (!proto.ParseFromArray(dlc_onnx_model,
                            static_cast<int>(dlc_onnx_model_end -
                                             dlc_onnx_model)))
    throw Error("the embedded ONNX model does not parse; the executable is "
                "damaged");
  // The embedded copy holds no data for initializers that are variables
  // (the compiler strips it): every one is filled from the arena, whether
  // training wrote it or not.
  std::unordered_map<std::string, const std::vector<float> *> values;
  for (int i = 0; i < model.numVariables; ++i)
    if (model.variables[i].onnxName)
      values[model.variables[i].onnxName] = &hostVariables[i];

  for (onnx::TensorProto &tensor : *proto.mutable_graph()->mutable_initializer()) {
    auto it = values.find(tensor.name());
    if (it == values.end())
      continue;
    const std::vector<float> &data = *it->second;
    tensor.clear_float_data();
    tensor.set_raw_data(data.data(), data.size() * sizeof(float));
    values.erase(it);
  }
  for (int i = 0; i < model.numVariables; ++i)
    if (model.variables[i].saved && values.count(model.variables[i].onnxName))
      throw Error("initializer '" + std::string(model.variables[i].onnxName) +
                  "' is missing from the embedded ONNX model");

  writeAtomically(proto, path);
}
