//===- SaveOnnx.h - write the trained model ---------------------*- C++ -*-===//

#ifndef DLC_RUNTIME_SAVEONNX_H
#define DLC_RUNTIME_SAVEONNX_H

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

/// Writes `data` (of `shape`) as a float TensorProto named `name`.
void writeTensorProto(const std::string &path, const std::string &name,
                      const int64_t *shape, int rank, const float *data,
                      int64_t count);

} // namespace dlc::rt

#endif // DLC_RUNTIME_SAVEONNX_H
