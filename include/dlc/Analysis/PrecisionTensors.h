//===- PrecisionTensors.h - the tensors a format is chosen for --*- C++ -*-===//
//
// The tensors of a training step whose number format matters, the ones
// statistics are gathered of (dlc-instrument-statistics) and formats are
// assigned to (dlc-assign-precision, dlc-lower-precision): the weights,
// the activations kept for the backward pass, the activation gradients and
// the weight gradients. One function finds them, so that the passes agree
// on the list and its order: a tensor's index in it is its slot in the
// runtime's tables.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_ANALYSIS_PRECISIONTENSORS_H
#define DLC_ANALYSIS_PRECISIONTENSORS_H

#include "dlc/Dialect/Exec/ExecOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace dlc {

struct PrecisionTensor {
  /// The buffer that holds it (a weight: a reference to its global).
  mlir::Value buffer;
  /// "weight", "activation", "activation_gradient" or "weight_gradient".
  llvm::StringRef kind;
  /// The ONNX initializer; "input"; the ONNX node whose kernel writes it;
  /// for a gradient, ":grad" after the node whose backward computes it (the
  /// gradient of that node's data input), "loss:grad" for the loss's, and
  /// after the parameter for a weight gradient. "#N" tells repeats apart.
  std::string name;
  /// The kernel that writes its final value; null: it holds its value at
  /// the step's start (the weights and the data input).
  mlir::Operation *writer = nullptr;
};

/// The kernel that rounds a tensor to its format (dlc-lower-precision).
inline constexpr llvm::StringLiteral kRoundKernel = "roundToFormat";
/// The kernels that keep an activation in its format's codes for the
/// backward pass, and give it back in fp32.
inline constexpr llvm::StringLiteral kPackKernel = "packToFormat";
inline constexpr llvm::StringLiteral kUnpackKernel = "unpackFromFormat";

/// The tensors of `step` (`@train_step`), weights first, then the data
/// input, then the others in the order their final values are written.
/// Empty when `step` is not a training step.
llvm::SmallVector<PrecisionTensor> findPrecisionTensors(mlir::func::FuncOp step);

/// A slot of the module attributes that list the tensors (dlc.statistics,
/// dlc.precision): its name, kind and elements, then `extra`.
mlir::DictionaryAttr describeSlot(mlir::Builder &builder,
                                  const PrecisionTensor &tensor,
                                  llvm::ArrayRef<mlir::NamedAttribute> extra = {});

/// Whether `kernel` is an optimizer's update (which reads the master
/// weight and its gradient).
bool isOptimizerUpdate(exec::KernelOp kernel);

} // namespace dlc

#endif // DLC_ANALYSIS_PRECISIONTENSORS_H
