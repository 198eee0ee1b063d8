//===- GraphDialect.h - dlc graph dialect -----------------------*- C++ -*-===//
//
// The dialect class of the graph dialect.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_GRAPH_GRAPHDIALECT_H
#define DLC_DIALECT_GRAPH_GRAPHDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dlc/Dialect/Graph/GraphOpsDialect.h.inc"

#endif // DLC_DIALECT_GRAPH_GRAPHDIALECT_H
