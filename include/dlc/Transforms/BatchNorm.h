//===- BatchNorm.h - forms of graph.batch_norm ------------------*- C++ -*-===//
//
// graph.batch_norm is rewritten into plain arithmetic (reductions, broadcast
// sub/mul/add, rsqrt) before anything else sees it, so reverse-mode autodiff
// differentiates it like any other graph.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TRANSFORMS_BATCHNORM_H
#define DLC_TRANSFORMS_BATCHNORM_H

#include "dlc/Dialect/Graph/GraphOps.h"

namespace dlc {

/// Normalizes with the running statistics (inference, or frozen training).
mlir::Value expandBatchNormInference(mlir::OpBuilder &builder,
                                     graph::BatchNormOp op);

/// Normalizes with the batch's statistics and updates the running
/// statistics from them (PyTorch's unbiased running variance).
mlir::Value expandBatchNormTraining(mlir::OpBuilder &builder,
                                    graph::BatchNormOp op);

} // namespace dlc

#endif // DLC_TRANSFORMS_BATCHNORM_H
