//===- OnnxIO.h - ONNX files the runtime reads and writes -------*- C++ -*-===//

#ifndef DLC_RUNTIME_ONNXIO_H
#define DLC_RUNTIME_ONNXIO_H

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt {

struct ModelInfo;

/// Writes the compiled ONNX model with each saved initializer replaced by its
/// value in `hostVariables` (one float array per ModelInfo variable).
/// Writes to a temporary file first, so a failure leaves nothing behind.
void saveTrainedModel(const ModelInfo &model,
                      const std::vector<std::vector<float>> &hostVariables,
                      const std::string &path);

/// Reads a float TensorProto (raw or typed data); throws Error naming the
/// file if it is not one. Fills the name, shape and values.
void readTensorProto(const std::string &path, std::string &name,
                     std::vector<int64_t> &shape, std::vector<float> &data);

/// The initial values `path` (an ONNX model) gives `model`'s variables: one
/// array per variable that came from an ONNX initializer and is in the file,
/// empty for the others. Throws Error when the file lacks a trained one
/// (parameter, running statistic) or one's type or shape differs from its
/// variable's; the graph's constants keep their compiled-in values where
/// the file has none, and initializers nothing uses are ignored.
std::vector<std::vector<float>> readInitialValues(const std::string &path,
                                                  const ModelInfo &model);

/// Writes `data` (of `shape`) as a float TensorProto named `name`.
void writeTensorProto(const std::string &path, const std::string &name,
                      const int64_t *shape, int rank, const float *data,
                      int64_t count);

} // namespace dlc::rt

#endif // DLC_RUNTIME_ONNXIO_H
