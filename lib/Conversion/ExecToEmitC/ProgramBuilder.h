//===- ProgramBuilder.h - the C++ program of a planned exec module -*- C++ -*-===//
//
// What the EmitC lowering shares between the step functions and the model
// table: where each buffer lives in the arena, and the static constants
// (shape arrays, geometry structs) at the top of the program.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_CONVERSION_EXECTOEMITC_PROGRAMBUILDER_H
#define DLC_LIB_CONVERSION_EXECTOEMITC_PROGRAMBUILDER_H

#include "dlc/Dialect/Exec/ExecOps.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>

namespace dlc {

class ProgramBuilder {
public:
  /// Constants go before `firstOldOp`; functions and tables at the end.
  ProgramBuilder(mlir::ModuleOp module, mlir::Operation *firstOldOp);

  /// The byte offset in the arena of `buffer` (an alloc, a global, a
  /// function argument, or a view of one).
  int64_t offsetOf(mlir::Value buffer);

  /// `static void name(dlc::rt::Context &, char *arena)` from `func`.
  mlir::LogicalResult buildFunction(mlir::func::FuncOp func,
                                    llvm::StringRef name);
  /// `static void name(dlc::rt::Context &, char *arena)` that completes
  /// what `func` (the training step) carries into the next step: each of
  /// its exec.carried, in order.
  mlir::LogicalResult buildCarriedFlush(mlir::func::FuncOp func,
                                        llvm::StringRef name);

  /// A static const int64_t array at the top of the program, shared by
  /// equal contents; its name.
  llvm::StringRef arrayGlobal(llvm::ArrayRef<int64_t> values);

  mlir::OpBuilder &topBuilder() { return top; }

private:
  mlir::Location loc() { return module.getLoc(); }
  mlir::Attribute opaque(const std::string &text) {
    return mlir::emitc::OpaqueAttr::get(ctx, text);
  }
  int64_t offsetOfStorage(mlir::Value storage);
  mlir::Value pointer(int64_t offset, mlir::Type elementType);
  mlir::Value structGlobal(llvm::StringRef type, llvm::ArrayRef<int64_t> fields);
  /// Starts `name`, with `func`'s carried buffers numbered.
  mlir::LogicalResult beginFunction(mlir::func::FuncOp func,
                                    llvm::StringRef name);
  mlir::LogicalResult lowerOp(mlir::Operation &op);
  mlir::LogicalResult lowerKernel(exec::KernelOp kernel);
  mlir::LogicalResult lowerCarried(exec::CarriedOp carried);
  /// Calls `dlc::rt::callee(ctx, args...)`, where an arg is a Value or an
  /// attribute printed as it is.
  mlir::Value call(llvm::StringRef callee, llvm::ArrayRef<mlir::Value> values,
                   llvm::ArrayRef<mlir::Attribute> order,
                   mlir::Type resultType = {});

  mlir::ModuleOp module;
  mlir::MLIRContext *ctx;
  mlir::OpBuilder builder, top;
  mlir::Value context, arena;
  llvm::DenseMap<std::pair<int64_t, mlir::Type>, mlir::Value> pointers;
  llvm::DenseMap<mlir::Value, mlir::Value> handles;
  /// The runtime's slot of each buffer carried into the next step, in the
  /// order the next step needs them.
  llvm::DenseMap<mlir::Value, int64_t> carriedSlots;
  /// Each token's place in the order of its step's waits: its average's
  /// priority.
  llvm::DenseMap<mlir::Value, int64_t> waitOrder;
  std::map<std::vector<int64_t>, std::string> arrays;
  std::map<std::pair<std::string, std::vector<int64_t>>, std::string> structs;
};

/// Defines `dlc_model` (dlc/Runtime/Model.h) and the tables it points to,
/// after the step functions.
mlir::LogicalResult buildModelTable(mlir::ModuleOp module,
                                    ProgramBuilder &program,
                                    llvm::ArrayRef<int64_t> initialOffsets,
                                    llvm::StringRef trainingConfig,
                                    uint64_t programHash);

} // namespace dlc

#endif // DLC_LIB_CONVERSION_EXECTOEMITC_PROGRAMBUILDER_H
