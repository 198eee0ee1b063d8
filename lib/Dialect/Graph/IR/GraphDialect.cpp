//===- GraphDialect.cpp - graph dialect registration ----------------------===//
//
// Registers the graph dialect's operations and defines its interfaces.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/Graph/GraphDialect.h"
#include "dlc/Dialect/Graph/GraphOps.h"

using namespace mlir;
using namespace dlc::graph;

#include "dlc/Dialect/Graph/GraphInterfaces.cpp.inc"
#include "dlc/Dialect/Graph/GraphOpsDialect.cpp.inc"

void GraphDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dlc/Dialect/Graph/GraphOps.cpp.inc"
      >();
}
