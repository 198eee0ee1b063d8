//===- Model.h - what a generated program tells the trainer -----*- C++ -*-===//
//
// The generated source defines `dlc::rt::kModel`; the trainer (Trainer.cpp)
// reads it to lay out the arena, load data into it and run the step
// functions. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MODEL_H
#define DLC_RUNTIME_MODEL_H

#include <cstdint>

namespace dlc::rt {

struct Context;

/// One graph.variable: a parameter, a model constant or optimizer state.
struct VariableInfo {
  /// The ONNX initializer it came from, or nullptr for optimizer state.
  const char *onnxName;
  int64_t arenaOffset;
  int64_t numElements;
  /// Byte offset of its initial value in `initData`, or -1 for zeros.
  int64_t initOffset;
  bool trainable;
};

using StepFunction = void (*)(Context &ctx, char *arena);

struct ModelInfo {
  const char *sourceFile;
  const char *trainingConfig; ///< e.g. "loss=cross-entropy sgd lr=0.05 ..."
  int64_t arenaBytes;
  /// The data input's shape, batch (per rank) first.
  const int64_t *inputShape;
  int inputRank;
  int64_t numClasses;
  /// @train_step: data input, labels (int32) and loss (one float).
  StepFunction trainStep;
  int64_t trainInputOffset, trainLabelsOffset, trainLossOffset;
  /// @forward: data input and output (batch x classes).
  StepFunction forward;
  int64_t forwardInputOffset, forwardOutputOffset;
  const VariableInfo *variables;
  int numVariables;
  const unsigned char *initData;
  /// The ONNX model compiled, written back with trained values by --save.
  const unsigned char *onnxModel;
  int64_t onnxModelBytes;
};

extern const ModelInfo kModel;

} // namespace dlc::rt

#endif // DLC_RUNTIME_MODEL_H
