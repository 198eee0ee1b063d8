//===- InitAllDialects.h - every dialect dlc's tools load -------*- C++ -*-===//

#ifndef DLC_INITALLDIALECTS_H
#define DLC_INITALLDIALECTS_H

#include "dlc/Dialect/Exec/ExecDialect.h"
#include "dlc/Dialect/Graph/GraphDialect.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"

namespace dlc {

inline void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<graph::GraphDialect, exec::ExecDialect,
                  mlir::func::FuncDialect,
                  mlir::emitc::EmitCDialect>();
}

} // namespace dlc

#endif // DLC_INITALLDIALECTS_H
