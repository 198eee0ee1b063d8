//===- BackendServices.h - what both backends share -------------*- C++ -*-===//
//
// Each backend's Context derives from ContextBase, which holds the state
// the trainer sets between steps; the services on it alone are written
// once (BackendServices.cpp, compiled into each backend).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_BACKENDSERVICES_H
#define DLC_LIB_RUNTIME_BACKENDSERVICES_H

#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Hyperparameters.h"
#include "dlc/Runtime/Precision/Formats.h"

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace dlc::rt {

struct ContextBase {
  int worldSize = 1;
  GradientObserver gradientObserver;
  /// Where recordStatistics adds values (setStatistics); null: not now.
  std::vector<precision::Statistics> *statistics = nullptr;
  /// What roundToFormat rounds each slot to (setTensorFormats).
  std::vector<precision::TensorFormat> formats;
  /// Per slot, the values roundToFormat saturated since the trainer last
  /// took the counts (takeOverflows).
  std::vector<int64_t> overflows;
  /// Which slots hold weight gradients (setWeightGradientSlots), and where
  /// roundToFormat last wrote each under mpirun: its first float -> its
  /// floats and slot, until the average that sends it takes the entry.
  std::vector<bool> weightGradientSlots;
  /// Which slots roundToFormat rounds stochastically.
  std::vector<bool> stochasticSlots;
  std::map<const float *, std::pair<int64_t, int64_t>> roundedGradients;
  /// Records a rounded weight gradient (roundToFormat, both backends).
  void noteRounded(const float *y, int64_t n, int64_t slot) {
    if (worldSize > 1 &&
        slot < static_cast<int64_t>(weightGradientSlots.size()) &&
        weightGradientSlots[slot])
      roundedGradients[y] = {n, slot};
  }
  /// The format the `n` floats at `x` may cross the network in: where they
  /// are gradients roundToFormat rounded, one after another, the format
  /// they share, or bf16 where it holds all of theirs; fp32 otherwise.
  /// Takes their entries.
  precision::TensorFormat takeWireFormat(const float *x, int64_t n);
  /// The step's key of the counter-based random numbers (dropout masks).
  uint64_t randomKey = 0;
  Hyperparameters hyper;
  /// An average carried into the next step: of one gradient, or of a
  /// bucket of adjacent ones (allReduceMeanStartCarried's joinsNext).
  struct Average {
    float *data = nullptr;
    int64_t count = 0, priority = 0;
    int64_t handle = -1; ///< allReduceMeanStart's (-1 on one rank)
    bool started = false, waited = false;
  };
  /// The averages a step left in flight for the next, by slot (null where
  /// none is): a bucket's in the slot of each of its gradients.
  std::vector<std::shared_ptr<Average>> carried;
  /// The bucket that further gradients may join, not started yet.
  std::shared_ptr<Average> open;

  /// What every optimizer update does first: show the trainer the
  /// parameter's averaged gradient (checks, --dump-gradients).
  void observeGradient(const float *param, const float *grad, int64_t n) {
    if (gradientObserver)
      gradientObserver(param, grad, n);
  }
};

/// The backend's Context as its ContextBase (one line in each backend).
ContextBase &base(Context &ctx);

} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_BACKENDSERVICES_H
