//===- ExecDialect.h - dlc execution dialect --------------------*- C++ -*-===//
//
// The dialect class of the execution dialect.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_EXEC_EXECDIALECT_H
#define DLC_DIALECT_EXEC_EXECDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dlc/Dialect/Exec/ExecOpsDialect.h.inc"

#endif // DLC_DIALECT_EXEC_EXECDIALECT_H
