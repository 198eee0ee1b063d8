//===- GraphOps.h - dlc graph dialect operations ----------------*- C++ -*-===//
//
// Operation classes of the graph dialect and its gradient interface.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_GRAPH_GRAPHOPS_H
#define DLC_DIALECT_GRAPH_GRAPHOPS_H

#include "dlc/Dialect/Graph/GraphDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dlc/Dialect/Graph/GraphInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dlc/Dialect/Graph/GraphOps.h.inc"

namespace dlc::graph {

/// The output length of a sliding window (ONNX floor mode): `input` padded by
/// `padBegin` and `padEnd`, a window of `kernel` taps `dilation` apart,
/// moved by `stride`. Zero or less when the window does not fit.
int64_t windowOutputSize(int64_t input, int64_t kernel, int64_t stride,
                         int64_t padBegin, int64_t padEnd, int64_t dilation);

} // namespace dlc::graph

#endif // DLC_DIALECT_GRAPH_GRAPHOPS_H
