//===- Random.h - counter-based random numbers ------------------*- C++ -*-===//
//
// Dropout masks are a pure function of (seed, rank, step, stream, index):
// reproducible, different on every rank, and computable in any order, on
// the CPU or the GPU alike. splitmix64's finaliser does the mixing.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_RANDOM_H
#define DLC_RUNTIME_RANDOM_H

#include <cstdint>

#ifdef __CUDACC__
#define DLC_HOST_DEVICE __host__ __device__
#else
#define DLC_HOST_DEVICE
#endif

namespace dlc::rt {

DLC_HOST_DEVICE inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// The key of one step on one rank.
inline uint64_t stepKey(uint64_t seed, int rank, uint64_t step) {
  return mix64(mix64(mix64(seed) ^ uint64_t(rank)) ^ step);
}

/// A uniform number in [0, 1) for element `index` of mask `stream`.
DLC_HOST_DEVICE inline float uniform(uint64_t key, int64_t stream,
                                     int64_t index) {
  uint64_t bits = mix64(mix64(key ^ uint64_t(stream)) + uint64_t(index));
  return float(bits >> 40) * (1.0f / 16777216.0f);
}

} // namespace dlc::rt

#endif // DLC_RUNTIME_RANDOM_H
