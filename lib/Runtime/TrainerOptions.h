//===- TrainerOptions.h - the trainer's command line ------------*- C++ -*-===//

#ifndef DLC_RUNTIME_TRAINEROPTIONS_H
#define DLC_RUNTIME_TRAINEROPTIONS_H

#include "LrSchedule.h"
#include "PrecisionControl.h"

#include <cstdint>
#include <optional>
#include <string>

namespace dlc::rt {

struct TrainerOptions {
  std::string dataDir;
  std::string trainX, trainY, testX, testY;
  int64_t epochs = 1;
  int64_t steps = 0; ///< 0: no limit
  uint64_t seed = 0;
  bool shuffle = true;
  std::string savePath;
  std::string initPath;
  std::string lossLogPath;
  std::string dumpGradientsDir;
  /// --trace: where each rank's Chrome trace goes (with ".rank<N>" before
  /// ".json" under mpirun).
  std::string tracePath;
  /// --stats-every N: gather statistics in every N-th step (the first, the
  /// N+1-th, ...); 0: never. --stats-out: where they go.
  int64_t statsEvery = 0;
  std::string statsOut;
  /// --precision-plan-out: where the formats the step rounded its tensors
  /// to go, as a plan `dlc --precision-plan` reads.
  std::string precisionPlanOut;
  /// dlc --precision=auto: calibration, tolerances, history (the interval
  /// is statsEvery's).
  PrecisionSettings precision;
  bool precisionFlagsGiven = false;
  /// --rounding=stochastic: gradients round stochastically.
  bool stochasticRounding = false;
  int threads = 0; ///< 0: the library default
  /// On the GPU, capture the step as a CUDA graph and replay it.
  bool cudaGraph = true;
  /// On the GPU, time cuDNN's convolution algorithms instead of taking its
  /// heuristics' first.
  bool cudnnFind = false;
  /// On the GPU, average gradients with NCCL (--comm=nccl) instead of
  /// through the host over MPI.
  bool nccl = false;
  int64_t logEvery = 100;
  /// Check the loss, gradients and parameters for non-finite values every N
  /// steps; 0: at each epoch's end and before every save only.
  int64_t checkEvery = 0;
  std::string checkpointDir;
  /// Write a checkpoint every N steps; 0: at each epoch's end.
  int64_t checkpointEvery = 0;
  int64_t keepCheckpoints = 3;
  std::string resumeDir;
  /// Overrides of the compiled optimizer's defaults.
  std::optional<float> lr, momentum, weightDecay, beta1, beta2, eps;
  LrSchedule schedule;
  /// --cosine-steps as given (0: the run's total number of steps).
  bool cosineStepsGiven = false;
  bool help = false;
};

/// Parses argv; throws Error naming the bad flag or value.
TrainerOptions parseTrainerOptions(int argc, char **argv);

/// The --help text.
std::string trainerUsage(const char *program);

} // namespace dlc::rt

#endif // DLC_RUNTIME_TRAINEROPTIONS_H
