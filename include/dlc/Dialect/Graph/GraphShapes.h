//===- GraphShapes.h - the result types of graph ops ------------*- C++ -*-===//
//
// Each function gives the result type of one kind of op from its operand
// types and attributes, or reports through `emitError` why there is none.
// The ops infer their result types with them (InferTypeOpInterface, so
// their verifiers compare against them), and the ONNX importer and the
// training forms build ops with them, their errors naming the ONNX node.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_GRAPH_GRAPHSHAPES_H
#define DLC_DIALECT_GRAPH_GRAPHSHAPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

namespace dlc::graph {

using EmitError = llvm::function_ref<mlir::InFlightDiagnostic()>;

/// op(a) x op(b), plus c broadcast to the result (graph.gemm).
mlir::FailureOr<mlir::RankedTensorType>
gemmType(EmitError emitError, mlir::RankedTensorType a,
         mlir::RankedTensorType b, mlir::RankedTensorType c, bool transA,
         bool transB);

/// The broadcast batch x M x N of a batched product (graph.matmul).
mlir::FailureOr<mlir::RankedTensorType>
matMulType(EmitError emitError, mlir::RankedTensorType a,
           mlir::RankedTensorType b, bool transA, bool transB);

/// The numpy broadcast of two operands (graph.add, sub, mul, div).
mlir::FailureOr<mlir::RankedTensorType>
broadcastType(EmitError emitError, mlir::RankedTensorType lhs,
              mlir::RankedTensorType rhs);

/// N x `channels` x OH x OW of a window over an N x C x H x W `input`
/// (convolution with a KH x KW `kernel`, pooling).
mlir::FailureOr<mlir::RankedTensorType>
windowType(EmitError emitError, mlir::RankedTensorType input,
           llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> strides,
           llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations,
           int64_t channels);

/// graph.conv2d: a window over the input, checked against the filter's
/// channels and the group (and the bias, if any).
mlir::FailureOr<mlir::RankedTensorType>
conv2DType(EmitError emitError, mlir::RankedTensorType input,
           mlir::RankedTensorType filter, mlir::RankedTensorType bias,
           llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
           llvm::ArrayRef<int64_t> dilations, int64_t group);

/// The input's dimensions in `permutation`'s order (graph.transpose).
mlir::FailureOr<mlir::RankedTensorType>
transposeType(EmitError emitError, mlir::RankedTensorType input,
              llvm::ArrayRef<int64_t> permutation);

/// The inputs joined along `axis` (graph.concat).
mlir::FailureOr<mlir::RankedTensorType>
concatType(EmitError emitError, mlir::TypeRange inputs, int64_t axis);

/// The input with low[d] + high[d] more elements in each dimension
/// (graph.pad).
mlir::FailureOr<mlir::RankedTensorType>
padType(EmitError emitError, mlir::RankedTensorType input,
        llvm::ArrayRef<int64_t> low, llvm::ArrayRef<int64_t> high);

} // namespace dlc::graph

#endif // DLC_DIALECT_GRAPH_GRAPHSHAPES_H
