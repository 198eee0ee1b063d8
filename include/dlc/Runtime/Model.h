//===- Model.h - what a generated program tells the trainer -----*- C++ -*-===//
//
// The generated program defines `dlc_model`; the trainer (Trainer.cpp)
// reads it to lay out the arena, load data into it and run the step
// functions. The executable also embeds, under the symbols declared at the
// end, the variables' initial values and the ONNX model it was compiled from.
// No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MODEL_H
#define DLC_RUNTIME_MODEL_H

#include "dlc/Runtime/ElementType.h"
#include "dlc/Runtime/Hyperparameters.h"

#include <cstdint>

namespace dlc::rt {

struct Context;

constexpr int64_t kZeroInit = -1;
constexpr int64_t kInitAtRunTime = -2;

/// One graph.variable: a parameter, a model constant or optimizer state.
struct VariableInfo {
  /// The ONNX initializer it came from, or nullptr for optimizer state.
  const char *onnxName;
  int64_t arenaOffset;
  int64_t numElements;
  ElementType elementType;
  const int64_t *shape;
  int rank;
  /// Byte offset of its initial value in `dlc_init_data`, kZeroInit for
  /// zeros, or kInitAtRunTime: compiled with --external-weights, its value
  /// comes from the trainer's --init file.
  int64_t initOffset;
  /// Written by training and saved back into the ONNX model by --save:
  /// parameters and running statistics.
  bool saved;
};

/// The bytes of a variable.
inline int64_t byteSize(const VariableInfo &v) {
  return v.numElements * elementBytes(v.elementType);
}

using StepFunction = void (*)(Context &ctx, char *arena);

/// A tensor @forward reads or writes: its ONNX name and place in the arena.
struct TensorSlot {
  const char *name;
  int64_t arenaOffset;
  ElementType elementType;
  const int64_t *shape;
  int rank;
};

/// A tensor `dlc --tensor-stats` records statistics of (recordStatistics' slot is
/// its index).
struct StatisticsTensor {
  /// The ONNX initializer, or the node that made it; ":grad" for a gradient.
  const char *name;
  /// "weight", "activation", "activation_gradient" or "weight_gradient".
  const char *kind;
  int64_t numElements;
};

/// A tensor `dlc --precision` or `--precision-plan` gave a format
/// (roundToFormat's slot is its index): its compiled format, from which the
/// trainer starts.
struct PrecisionSlot {
  const char *name;
  const char *kind;
  int64_t numElements;
  /// The format's name (Precision/Formats.h) and its power-of-two scale.
  const char *format;
  int exponent;
};

struct ModelInfo {
  const char *sourceFile;
  const char *trainingConfig; ///< e.g. "loss=cross-entropy sgd lr=0.05 ..."
  int64_t arenaBytes;
  /// The data input's shape, batch (per rank) first.
  const int64_t *inputShape;
  int inputRank;
  int64_t numClasses;
  /// @train_step: data input, labels (int32) and loss (one float); null in a
  /// program built by `dlc run`, which has no training step.
  StepFunction trainStep;
  int64_t trainInputOffset, trainLabelsOffset, trainLossOffset;
  /// Software pipelining across steps (--overlap=next-forward): the step
  /// leaves gradient averages in flight, and the next step waits for each
  /// and applies its update just before that layer's forward. This
  /// completes them at once (before evaluation, --save, a checkpoint);
  /// null when the step carries nothing over.
  StepFunction flushCarried;
  /// @forward: data input and output (batch x classes).
  StepFunction forward;
  int64_t forwardInputOffset, forwardOutputOffset;
  const VariableInfo *variables;
  int numVariables;
  /// Every input and output of @forward (the trainer uses the first of
  /// each; `dlc run` all of them).
  const TensorSlot *forwardInputs;
  int numForwardInputs;
  const TensorSlot *forwardOutputs;
  int numForwardOutputs;
  /// The compile-time optimizer settings, which the trainer's flags
  /// override; `hasVelocity`: SGD was compiled with momentum state.
  Hyperparameters defaults;
  bool hasVelocity;
  /// A hash of the compiled step (its planned execution IR, weights left
  /// out): ranks of one job must run the same program.
  uint64_t programHash;
  /// Compiled with --tensor-stats: the tensors recordStatistics records.
  const StatisticsTensor *statistics;
  int numStatistics;
  /// Compiled with a number format plan: every tensor a format was chosen
  /// for, fp32 ones included.
  const PrecisionSlot *precision;
  int numPrecision;
  /// dlc --precision=auto: every slot is rounded (fp32 ones too), and the
  /// trainer chooses the formats from calibration statistics (slot i of
  /// `statistics` is slot i of `precision`).
  bool adjustableFormats;
};

} // namespace dlc::rt

/// Defined by the generated program.
extern const dlc::rt::ModelInfo dlc_model;

/// Defined by the assembly stub dlc links in (.incbin): the variables'
/// initial values, and the ONNX model that --save writes back out.
extern "C" const unsigned char dlc_init_data[];
extern "C" const unsigned char dlc_onnx_model[];
extern "C" const unsigned char dlc_onnx_model_end[];

#endif // DLC_RUNTIME_MODEL_H
