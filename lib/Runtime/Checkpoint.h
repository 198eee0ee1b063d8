//===- Checkpoint.h - everything a training run needs to continue -*- C++ -*-===//
//
// A checkpoint holds every variable of the arena (parameters, optimizer
// state, batch-norm running statistics) of every rank, and the trainer's
// position: steps done, the epoch, the data order and the shuffle's random
// state. It is tied to the program that wrote it by a fingerprint of the
// compiled model (graph, variables, compile options), so a checkpoint from
// another model or other options is refused. Files are written atomically
// and carry a CRC, so a torn or damaged file is never loaded.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CHECKPOINT_H
#define DLC_RUNTIME_CHECKPOINT_H

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt {

struct ModelInfo;

/// Where the trainer is: what it needs, besides the variables, to continue
/// exactly as an uninterrupted run would.
struct TrainingPosition {
  int64_t stepsDone = 0;
  /// The epoch in progress (1-based) and the steps of it already done.
  int64_t epoch = 1, stepInEpoch = 0;
  /// The sum of this epoch's losses so far (for its mean).
  double epochLossSum = 0.0;
  /// The shuffle generator's state (std::mt19937_64's text form) and this
  /// epoch's sample order.
  std::string shuffleState;
  std::vector<int64_t> order;
};

struct Checkpoint {
  uint64_t fingerprint = 0;
  TrainingPosition position;
  /// Every variable's bytes, concatenated in ModelInfo order, one blob per
  /// rank (ranks differ in their batch-norm running statistics).
  std::vector<std::string> rankVariables;
};

/// A hash of what makes checkpoints interchangeable: the embedded ONNX graph,
/// the variables' names, shapes and places, the compile options.
uint64_t modelFingerprint(const ModelInfo &model);

/// Writes `DIR/checkpoint-<steps>.dlc` atomically, then removes all but the
/// newest `keep` checkpoints in DIR. Creates DIR if needed.
std::string writeCheckpoint(const std::string &dir, const Checkpoint &checkpoint,
                            int64_t keep);

/// Reads the newest checkpoint in `dir`; throws Error if there is none, if
/// it is damaged, or if it was written by another model or compile options
/// (`fingerprint`) or another number of ranks (`worldSize`).
Checkpoint readLatestCheckpoint(const std::string &dir, uint64_t fingerprint,
                                int worldSize, std::string &path);

} // namespace dlc::rt

#endif // DLC_RUNTIME_CHECKPOINT_H
