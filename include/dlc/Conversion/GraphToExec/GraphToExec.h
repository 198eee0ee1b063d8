//===- GraphToExec.h - graph ops to exec kernels, by op family --*- C++ -*-===//
//
// Each family of graph ops has its own file and populate function; the
// pass (GraphToExec.cpp) gathers them. A pattern allocates a buffer for
// each result and calls the runtime kernel with destination passing.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_CONVERSION_GRAPHTOEXEC_GRAPHTOEXEC_H
#define DLC_CONVERSION_GRAPHTOEXEC_GRAPHTOEXEC_H

#include "dlc/Target/TargetInfo.h"
#include "mlir/Transforms/DialectConversion.h"

namespace dlc {

/// Tensors become buffers of the same shape and element type.
class TensorToBufferConverter : public mlir::TypeConverter {
public:
  TensorToBufferConverter();
};

/// Gemm (with the target's BLAS workspace planned for each call) and N-D
/// MatMul.
void populateLinearAlgebraPatterns(const mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns,
                                   const TargetInfo &target);
/// Broadcasting arithmetic, reductions, activations, clip, dropout masks.
void populateElementwisePatterns(const mlir::TypeConverter &converter,
                                 mlir::RewritePatternSet &patterns);
/// Convolution and its two gradients; max and average pooling and theirs.
void populateConvolutionAndPoolingPatterns(
    const mlir::TypeConverter &converter, mlir::RewritePatternSet &patterns);
/// Fused batch norm (training form) and LRN, with their gradients.
void populateNormalizationPatterns(const mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);
/// Softmax, log-softmax and the losses, with their gradients.
void populateSoftmaxAndLossPatterns(const mlir::TypeConverter &converter,
                                    mlir::RewritePatternSet &patterns);
/// Views (reshape, load), transpose, concat, slice, pad, crop.
void populateDataMovementPatterns(const mlir::TypeConverter &converter,
                                  mlir::RewritePatternSet &patterns);
/// Gradient averaging over ranks (an allreduce_start/wait pair per
/// gradient) and the updates of variables: SGD, Adam, running statistics.
void populateTrainingUpdatePatterns(const mlir::TypeConverter &converter,
                                    mlir::RewritePatternSet &patterns);

} // namespace dlc

#endif // DLC_CONVERSION_GRAPHTOEXEC_GRAPHTOEXEC_H
