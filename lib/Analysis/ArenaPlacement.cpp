//===- ArenaPlacement.cpp - offsets for buffers with live ranges ----------===//

#include "dlc/Analysis/ArenaPlacement.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <random>

using namespace dlc;

namespace {

bool overlapInTime(const PlacementRequest &a, const PlacementRequest &b) {
  if (a.first <= b.last && b.first <= a.last)
    return true;
  // A carried part runs from the step's start, before every other range.
  return (a.carried() && (b.carried() || b.first <= a.carriedUntil)) ||
         (b.carried() && a.first <= b.carriedUntil);
}

/// Places the requests in `order`, each where `choose` says among the gaps
/// left by the requests placed before it that overlap it in time.
template <typename Choose>
Placement placeInOrder(llvm::ArrayRef<PlacementRequest> requests,
                       llvm::ArrayRef<size_t> order, Choose choose) {
  Placement placement;
  placement.offsets.assign(requests.size(), 0);
  llvm::SmallVector<size_t> placed;
  llvm::SmallVector<size_t> neighbours;
  for (size_t index : order) {
    const PlacementRequest &request = requests[index];
    neighbours.clear();
    for (size_t other : placed)
      if (overlapInTime(request, requests[other]))
        neighbours.push_back(other);
    llvm::sort(neighbours, [&](size_t a, size_t b) {
      return placement.offsets[a] < placement.offsets[b];
    });
    // Walk the gaps between the neighbours, lowest first.
    int64_t candidate = 0, chosen = -1;
    int64_t chosenGap = std::numeric_limits<int64_t>::max();
    for (size_t other : neighbours) {
      int64_t start = placement.offsets[other];
      int64_t gap = start - candidate;
      if (gap >= request.size && choose(gap, chosenGap)) {
        chosen = candidate;
        chosenGap = gap;
      }
      candidate = std::max<int64_t>(
          candidate, llvm::alignTo(start + requests[other].size,
                                   request.alignment));
    }
    if (chosen < 0)
      chosen = candidate; // above every neighbour
    placement.offsets[index] = chosen;
    placement.size = std::max(placement.size, chosen + request.size);
    placed.push_back(index);
  }
  return placement;
}

} // namespace

Placement dlc::placeFirstFitByStart(llvm::ArrayRef<PlacementRequest> requests) {
  llvm::SmallVector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order, [&](size_t a, size_t b) {
    return requests[a].first < requests[b].first;
  });
  // The first gap that fits: take it only if none was chosen yet.
  Placement placement =
      placeInOrder(requests, order, [](int64_t, int64_t chosenGap) {
        return chosenGap == std::numeric_limits<int64_t>::max();
      });
  placement.strategy = "first fit by start";
  return placement;
}

namespace {
/// Best fit, in the order of decreasing `key` (ties: earlier first).
template <typename Key>
Placement placeBestFitBy(llvm::ArrayRef<PlacementRequest> requests, Key key,
                         const char *strategy) {
  llvm::SmallVector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order, [&](size_t a, size_t b) {
    auto ka = key(requests[a]), kb = key(requests[b]);
    if (ka != kb)
      return ka > kb;
    return requests[a].first < requests[b].first;
  });
  Placement placement = placeInOrder(
      requests, order,
      [](int64_t gap, int64_t chosenGap) { return gap < chosenGap; });
  placement.strategy = strategy;
  return placement;
}

int64_t duration(const PlacementRequest &r) {
  return r.last - r.first + 1 + (r.carried() ? r.carriedUntil + 2 : 0);
}

/// The lowest offset at which `index` fits among the other buffers live
/// with it, where they are now.
int64_t lowestFit(llvm::ArrayRef<PlacementRequest> requests,
                  const Placement &placement, size_t index) {
  const PlacementRequest &request = requests[index];
  llvm::SmallVector<size_t> neighbours;
  for (size_t other = 0; other < requests.size(); ++other)
    if (other != index && overlapInTime(request, requests[other]))
      neighbours.push_back(other);
  llvm::sort(neighbours, [&](size_t a, size_t b) {
    return placement.offsets[a] < placement.offsets[b];
  });
  int64_t candidate = 0;
  for (size_t other : neighbours) {
    if (placement.offsets[other] - candidate >= request.size)
      return candidate;
    candidate = std::max<int64_t>(
        candidate,
        llvm::alignTo(placement.offsets[other] + requests[other].size,
                      request.alignment));
  }
  return candidate;
}

/// Lets every buffer fall, lowest first, to the lowest offset where it fits
/// with the others where they are, until none moves: a heuristic's order
/// can leave a small long-lived buffer high, with large ones stacked
/// above it.
void compact(llvm::ArrayRef<PlacementRequest> requests, Placement &placement) {
  llvm::SmallVector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  for (int pass = 0; pass < 8; ++pass) {
    llvm::stable_sort(order, [&](size_t a, size_t b) {
      return placement.offsets[a] < placement.offsets[b];
    });
    bool moved = false;
    for (size_t index : order) {
      int64_t lowest = lowestFit(requests, placement, index);
      if (lowest < placement.offsets[index]) {
        placement.offsets[index] = lowest;
        moved = true;
      }
    }
    if (!moved)
      break;
  }
  placement.size = 0;
  for (auto [request, offset] : llvm::zip(requests, placement.offsets))
    placement.size = std::max(placement.size, offset + request.size);
}
} // namespace

Placement dlc::placeBestFitBySize(llvm::ArrayRef<PlacementRequest> requests) {
  return placeBestFitBy(
      requests, [](const PlacementRequest &r) { return r.size; },
      "best fit by size");
}

int64_t dlc::peakBytes(llvm::ArrayRef<PlacementRequest> requests) {
  std::map<int64_t, int64_t> delta;
  for (const PlacementRequest &request : requests) {
    delta[request.first] += request.size;
    delta[request.last + 1] -= request.size;
    if (request.carried()) {
      delta[-1] += request.size;
      delta[request.carriedUntil + 1] -= request.size;
    }
  }
  int64_t live = 0, peak = 0;
  for (auto [position, change] : delta)
    peak = std::max(peak, live += change);
  return peak;
}

Placement dlc::placeBest(llvm::ArrayRef<PlacementRequest> requests) {
  Placement candidates[] = {
      placeBestFitBySize(requests),
      placeFirstFitByStart(requests),
      // XLA's heap simulator also orders by the buffer's extent in time,
      // and by its area (bytes x time).
      placeBestFitBy(
          requests,
          [](const PlacementRequest &r) {
            return std::make_pair(duration(r), r.size);
          },
          "best fit by duration"),
      placeBestFitBy(
          requests,
          [](const PlacementRequest &r) {
            return static_cast<double>(r.size) * duration(r);
          },
          "best fit by area"),
  };
  for (Placement &candidate : candidates)
    compact(requests, candidate);
  Placement best = *llvm::min_element(
      candidates,
      [](const Placement &a, const Placement &b) { return a.size < b.size; });

  // Then a search (fixed seed), alternating two kinds of orders. Around
  // the best-fit-by-size order: sizes scaled by a random factor in
  // [0.5, 1.5), which lets a long-lived buffer go below a short-lived one
  // of similar size; on a plateau of many large overlapping buffers
  // (VGG's first layers) this finds placements within a few percent of
  // the peak where the fixed orders leave 10-20%. And any order at all,
  // which finds what those miss when one short-lived buffer (a library's
  // scratch) is much larger than the rest. Each try costs O(n^2): fewer
  // tries for larger steps.
  int64_t peak = peakBytes(requests);
  size_t n = std::max<size_t>(requests.size(), 1);
  int tries = static_cast<int>(
      std::clamp<size_t>((size_t(1) << 26) / (n * n), 8, 256));
  std::mt19937 random(0);
  std::uniform_real_distribution<double> noise(0.5, 1.5);
  llvm::SmallVector<double> key(requests.size());
  llvm::SmallVector<size_t> order(requests.size());
  for (int i = 0; i < tries && best.size > peak; ++i) {
    for (auto [k, request] : llvm::zip(key, requests))
      k = i % 2 ? noise(random)
                : static_cast<double>(request.size) * noise(random);
    std::iota(order.begin(), order.end(), 0);
    llvm::stable_sort(order, [&](size_t a, size_t b) { return key[a] > key[b]; });
    Placement tried = placeInOrder(
        requests, order,
        [](int64_t gap, int64_t chosenGap) { return gap < chosenGap; });
    if (tried.size < best.size) {
      best = std::move(tried);
      best.strategy = "best fit in a searched order";
    }
  }
  return best;
}
