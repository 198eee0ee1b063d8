//===- BackendServices.cpp - the services both backends share -------------===//

#include "BackendServices.h"
#include "Comm/Comm.h"
#include "Trace.h"
#include "dlc/Runtime/Kernels.h"
#include "dlc/Runtime/Random.h"

#include <algorithm>
#include <optional>
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

namespace {
void startOpenBucket(Context &ctx) {
  std::shared_ptr<ContextBase::Average> average = std::move(base(ctx).open);
  average->handle =
      allReduceMeanStart(ctx, average->data, average->count, average->priority);
  average->started = true;
}
} // namespace

// Buckets by the alpha-beta rule of dlc-schedule-collectives, with the link
// measured at start-up: a bucket takes the next gradient while it stays
// within comm::bucketBytes(); a larger gradient is averaged alone. The
// bucket's priority is that of the gradient needed first.
void allReduceMeanStartCarried(Context &ctx, float *x, int64_t n,
                               int64_t priority, int64_t slot, bool joinsNext) {
  ContextBase &state = base(ctx);
  if (static_cast<int64_t>(state.carried.size()) <= slot)
    state.carried.resize(slot + 1);
  if (state.open &&
      (x + n - state.open->data) * int64_t(sizeof(float)) > comm::bucketBytes())
    startOpenBucket(ctx);
  if (!state.open) {
    state.open = std::make_shared<ContextBase::Average>();
    state.open->data = x;
    state.open->priority = priority;
  }
  // The compiler placed x right after the bucket's last gradient.
  state.open->count = x + n - state.open->data;
  state.open->priority = std::min(state.open->priority, priority);
  state.carried[slot] = state.open;
  if (!joinsNext)
    startOpenBucket(ctx);
}

bool allReduceMeanWaitCarried(Context &ctx, int64_t slot) {
  ContextBase &state = base(ctx);
  if (static_cast<int64_t>(state.carried.size()) <= slot ||
      !state.carried[slot])
    return false;
  std::shared_ptr<ContextBase::Average> average =
      std::move(state.carried[slot]);
  // A bucket whose last gradient never came (the compiler marks each
  // bucket's last): start it rather than wait forever.
  if (!average->started && average == state.open)
    startOpenBucket(ctx);
  if (!average->waited) {
    allReduceMeanWait(ctx, average->handle);
    average->waited = true;
  }
  return true;
}

precision::TensorFormat ContextBase::takeWireFormat(const float *x,
                                                    int64_t n) {
  using precision::Format;
  bool adjacent = true, same = true, onBf16Grid = true;
  std::optional<precision::TensorFormat> first;
  const float *next = x;
  auto entry = roundedGradients.lower_bound(x);
  while (entry != roundedGradients.end() && entry->first < x + n) {
    auto [count, slot] = entry->second;
    precision::TensorFormat format =
        slot < static_cast<int64_t>(formats.size()) ? formats[slot]
                                                    : precision::TensorFormat();
    if (!first)
      first = format;
    adjacent = adjacent && entry->first == next;
    same = same && first->format == format.format &&
           first->exponent == format.exponent;
    onBf16Grid = onBf16Grid &&
                 precision::bf16HoldsExactly(format.format, format.exponent);
    next = entry->first + count;
    entry = roundedGradients.erase(entry);
  }
  if (!first || !adjacent || next != x + n)
    return {};
  if (same)
    return *first;
  return onBf16Grid ? precision::TensorFormat{Format::BF16, 0}
                    : precision::TensorFormat{};
}

void setWeightGradientSlots(Context &ctx, const std::vector<bool> &slots) {
  base(ctx).weightGradientSlots = slots;
}

void setStochasticRoundingSlots(Context &ctx, const std::vector<bool> &slots) {
  base(ctx).stochasticSlots = slots;
}

void setStatistics(Context &ctx, std::vector<precision::Statistics> *table) {
  base(ctx).statistics = table;
}

void setTensorFormats(Context &ctx,
                      const std::vector<precision::TensorFormat> &formats) {
  base(ctx).formats = formats;
  base(ctx).overflows.resize(formats.size(), 0);
}

std::vector<int64_t> takeOverflows(Context &ctx) {
  std::vector<int64_t> &counts = base(ctx).overflows;
  std::vector<int64_t> taken(counts.size(), 0);
  taken.swap(counts);
  return taken;
}

void setGradientObserver(Context &ctx, GradientObserver observer) {
  base(ctx).gradientObserver = std::move(observer);
}

} // namespace dlc::rt
