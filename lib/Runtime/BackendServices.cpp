//===- BackendServices.cpp - the services both backends share -------------===//

#include "BackendServices.h"
#include "Trace.h"
#include "dlc/Runtime/Kernels.h"
#include "dlc/Runtime/Random.h"

#include <utility>

namespace dlc::rt {

void setRandomKey(Context &ctx, uint64_t seed, int rank, uint64_t step) {
  base(ctx).randomKey = stepKey(seed, rank, step);
}

void setHyperparameters(Context &ctx, const Hyperparameters &hyper) {
  base(ctx).hyper = hyper;
}

void traceBegin(Context &, const char *kernel) {
  trace::begin(kernel, "kernel");
}

void traceEnd(Context &) { trace::end(); }

void allReduceMeanStartCarried(Context &ctx, float *x, int64_t n,
                               int64_t priority, int64_t slot) {
  std::vector<ContextBase::Carried> &carried = base(ctx).carried;
  if (static_cast<int64_t>(carried.size()) <= slot)
    carried.resize(slot + 1);
  carried[slot] = {true, allReduceMeanStart(ctx, x, n, priority)};
}

bool allReduceMeanWaitCarried(Context &ctx, int64_t slot) {
  std::vector<ContextBase::Carried> &carried = base(ctx).carried;
  if (static_cast<int64_t>(carried.size()) <= slot || !carried[slot].pending)
    return false;
  carried[slot].pending = false;
  allReduceMeanWait(ctx, carried[slot].handle);
  return true;
}

void setGradientObserver(Context &ctx, GradientObserver observer) {
  base(ctx).gradientObserver = std::move(observer);
}

} // namespace dlc::rt
