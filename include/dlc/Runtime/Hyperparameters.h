//===- Hyperparameters.h - the optimizer's run-time settings ----*- C++ -*-===//
//
// What the compiled optimizer updates read at run time. The generated
// program records the compile-time values as defaults (ModelInfo); the
// trainer's flags override them and its learning-rate schedule sets `lr`
// before every step. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_HYPERPARAMETERS_H
#define DLC_RUNTIME_HYPERPARAMETERS_H

#include <cmath>
#include <cstdint>

namespace dlc::rt {

enum class Optimizer : int { Sgd, Adam, AdamW };

struct Hyperparameters {
  Optimizer optimizer = Optimizer::Sgd;
  float lr = 0.01f;
  /// SGD's momentum; a program compiled with 0 has no velocity to use more.
  float momentum = 0.0f;
  /// L2 penalty added to the gradient (SGD, Adam) or decoupled decay of the
  /// weights (AdamW).
  float weightDecay = 0.0f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  /// The 1-based number of the update being applied (Adam's bias
  /// correction).
  int64_t step = 1;
};

/// The scalars of one Adam/AdamW step, computed in double as PyTorch does
/// (its hyperparameters are Python floats) and rounded once.
struct AdamStep {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps;
  /// lr / (1 - beta1^step) and sqrt(1 - beta2^step).
  float stepSize, correction2Sqrt;
  /// Adam's L2 term (0 for AdamW) and AdamW's weight factor (1 for Adam).
  float l2, decay;
};

inline AdamStep adamStep(const Hyperparameters &h, bool decoupled) {
  double step = static_cast<double>(h.step);
  double beta1 = h.beta1, beta2 = h.beta2, lr = h.lr, wd = h.weightDecay;
  return {h.beta1,
          static_cast<float>(1.0 - beta1),
          h.beta2,
          static_cast<float>(1.0 - beta2),
          h.eps,
          static_cast<float>(lr / (1.0 - std::pow(beta1, step))),
          static_cast<float>(std::sqrt(1.0 - std::pow(beta2, step))),
          decoupled ? 0.0f : h.weightDecay,
          decoupled ? static_cast<float>(1.0 - lr * wd) : 1.0f};
}

} // namespace dlc::rt

#endif // DLC_RUNTIME_HYPERPARAMETERS_H
