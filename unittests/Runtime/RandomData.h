//===- RandomData.h - test inputs for the runtime's kernels -----*- C++ -*-===//

#ifndef DLC_UNITTESTS_RUNTIME_RANDOMDATA_H
#define DLC_UNITTESTS_RUNTIME_RANDOMDATA_H

#include <random>
#include <vector>

namespace dlc::rt::testing {

/// `n` floats uniform in [-1, 1), the same for the same seed.
inline std::vector<float> uniformVector(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = uniform(rng);
  return v;
}

} // namespace dlc::rt::testing

#endif // DLC_UNITTESTS_RUNTIME_RANDOMDATA_H
