//===- TrainingOptions.cpp - names and checks of the training options -----===//

#include "dlc/Transforms/Passes.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace dlc;

llvm::StringRef dlc::stringify(Loss loss) {
  return loss == Loss::Mse ? "mse" : "cross-entropy";
}

llvm::StringRef dlc::stringify(BatchNormMode mode) {
  return mode == BatchNormMode::Frozen ? "frozen" : "train";
}

llvm::StringRef dlc::stringify(DropoutMode mode) {
  return mode == DropoutMode::Off ? "off" : "train";
}

llvm::StringRef dlc::stringify(Optimizer optimizer) {
  switch (optimizer) {
  case Optimizer::Sgd:
    return "sgd";
  case Optimizer::Adam:
    return "adam";
  case Optimizer::AdamW:
    return "adamw";
  }
  llvm_unreachable("unknown optimizer");
}

namespace {
/// A float as printf's %g writes it: 1e-05, 0.9, inf.
std::string g(float value) {
  return llvm::formatv("{0}", llvm::format("%g", value)).str();
}
} // namespace

std::optional<std::string>
dlc::checkTrainingOptions(const BuildTrainingGraphOptions &options) {
  if (!(options.learningRate > 0.0f) || std::isinf(options.learningRate))
    return llvm::formatv("--lr={0}: the learning rate must be positive and "
                         "finite",
                         g(options.learningRate))
        .str();
  if (!(options.momentum >= 0.0f && options.momentum < 1.0f))
    return llvm::formatv("--momentum={0}: expected a value in [0, 1)",
                         g(options.momentum))
        .str();
  if (options.optimizer != Optimizer::Sgd && options.momentum != 0.0f)
    return ("--momentum is SGD's; " + stringify(options.optimizer) +
            " takes --beta1 and --beta2")
        .str();
  if (!(options.weightDecay >= 0.0f) || std::isinf(options.weightDecay))
    return llvm::formatv("--weight-decay={0}: must not be negative",
                         g(options.weightDecay))
        .str();
  if (!(options.beta1 >= 0.0f && options.beta1 < 1.0f) ||
      !(options.beta2 >= 0.0f && options.beta2 < 1.0f))
    return llvm::formatv("--beta1={0} --beta2={1}: expected values in [0, 1)",
                         g(options.beta1), g(options.beta2))
        .str();
  if (!(options.eps > 0.0f) || std::isinf(options.eps))
    return llvm::formatv("--eps={0}: must be positive and finite", g(options.eps))
        .str();
  return std::nullopt;
}
