//===- TrainingOptions.h - the choices the training step is built with -*- C++ -*-===//
//
// Parsed once, by the command-line parser of whoever takes them (`dlc`'s
// flags, the pass's and the pipeline's options in dlc-opt), into these
// enums; the passes never see the strings.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TRANSFORMS_TRAININGOPTIONS_H
#define DLC_TRANSFORMS_TRAININGOPTIONS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"

namespace dlc {

enum class Loss { CrossEntropy, Mse };
enum class BatchNormMode { Train, Frozen };
enum class DropoutMode { Train, Off };
enum class Optimizer { Sgd, Adam, AdamW };

/// The spelling each value has on the command line.
llvm::StringRef stringify(Loss loss);
llvm::StringRef stringify(BatchNormMode mode);
llvm::StringRef stringify(DropoutMode mode);
llvm::StringRef stringify(Optimizer optimizer);

} // namespace dlc

/// The values of each option, for `cl::values(...)` in tablegen'd pass
/// options and hand-written ones alike.
#define DLC_LOSS_VALUES                                                        \
  ::llvm::cl::values(                                                          \
      clEnumValN(::dlc::Loss::CrossEntropy, "cross-entropy",                   \
                 "softmax cross-entropy on class labels (default)"),           \
      clEnumValN(::dlc::Loss::Mse, "mse",                                      \
                 "mean squared error against one-hot labels"))
#define DLC_BATCHNORM_VALUES                                                   \
  ::llvm::cl::values(                                                          \
      clEnumValN(::dlc::BatchNormMode::Train, "train",                         \
                 "batch statistics, running statistics updated (default)"),    \
      clEnumValN(::dlc::BatchNormMode::Frozen, "frozen",                       \
                 "running statistics, not updated"))
#define DLC_DROPOUT_VALUES                                                     \
  ::llvm::cl::values(                                                          \
      clEnumValN(::dlc::DropoutMode::Train, "train",                           \
                 "a fresh seeded mask every step (default)"),                  \
      clEnumValN(::dlc::DropoutMode::Off, "off",                               \
                 "the identity, as in inference"))
#define DLC_OPTIMIZER_VALUES                                                   \
  ::llvm::cl::values(                                                          \
      clEnumValN(::dlc::Optimizer::Sgd, "sgd", "SGD with momentum (default)"), \
      clEnumValN(::dlc::Optimizer::Adam, "adam", "Adam"),                      \
      clEnumValN(::dlc::Optimizer::AdamW, "adamw",                             \
                 "Adam with decoupled weight decay"))

#endif // DLC_TRANSFORMS_TRAININGOPTIONS_H
