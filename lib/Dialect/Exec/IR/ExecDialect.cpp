//===- ExecDialect.cpp - execution dialect registration -------------------===//

#include "dlc/Dialect/Exec/ExecDialect.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dlc::exec;

#include "dlc/Dialect/Exec/ExecOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dlc/Dialect/Exec/ExecAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dlc/Dialect/Exec/ExecOpsTypes.cpp.inc"

void ExecDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dlc/Dialect/Exec/ExecAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dlc/Dialect/Exec/ExecOpsTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dlc/Dialect/Exec/ExecOps.cpp.inc"
      >();
}
