//===- TrainingForms.h - ops that train differently than they infer -*- C++ -*-===//
//
// graph.batch_norm and graph.dropout are written with their inference
// semantics. The training step gets their training forms, the rest their
// inference forms, all in plain graph arithmetic, before anything else sees
// them, so reverse-mode autodiff differentiates them like any other graph.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TRANSFORMS_TRAININGFORMS_H
#define DLC_TRANSFORMS_TRAININGFORMS_H

#include "dlc/Dialect/Graph/GraphOps.h"

namespace dlc {

/// Normalizes with the running statistics in differentiable arithmetic
/// (training with frozen statistics).
mlir::Value expandBatchNormInference(mlir::OpBuilder &builder,
                                     graph::BatchNormOp op);

/// Normalizes with the batch's statistics and updates the running
/// statistics from them (PyTorch's unbiased running variance): one fused
/// batch_norm_train op, or elementwise arithmetic when `fused` is false.
mlir::Value expandBatchNormTraining(mlir::OpBuilder &builder,
                                    graph::BatchNormOp op, bool fused);

/// input * a fresh mask; `stream` tells this dropout's mask from others.
mlir::Value expandDropoutTraining(mlir::OpBuilder &builder,
                                  graph::DropoutOp op, int64_t stream);

} // namespace dlc

#endif // DLC_TRANSFORMS_TRAININGFORMS_H
