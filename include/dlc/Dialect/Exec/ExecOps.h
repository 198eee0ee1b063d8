//===- ExecOps.h - dlc execution dialect types and operations ---*- C++ -*-===//

#ifndef DLC_DIALECT_EXEC_EXECOPS_H
#define DLC_DIALECT_EXEC_EXECOPS_H

#include "dlc/Dialect/Exec/ExecDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_ATTRDEF_CLASSES
#include "dlc/Dialect/Exec/ExecAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dlc/Dialect/Exec/ExecOpsTypes.h.inc"

#define GET_OP_CLASSES
#include "dlc/Dialect/Exec/ExecOps.h.inc"

namespace dlc::exec {
/// The buffer whose bytes `buffer` is: itself, or what its views (of
/// views) see.
mlir::Value storageOf(mlir::Value buffer);
/// Where `buffer`'s bytes start in storageOf(buffer)'s: the sum of the
/// byte offsets of the views in between.
int64_t byteOffsetInStorage(mlir::Value buffer);
/// Moves `value`'s definition, and those of its operands, before `point`
/// where they come later in its block. For values that only name bytes
/// (allocations, views, global references, streams), whose position
/// changes nothing else.
void defineBefore(mlir::Value value, mlir::Operation *point);
} // namespace dlc::exec

#endif // DLC_DIALECT_EXEC_EXECOPS_H
