//===- Passes.h - dlc conversion passes -------------------------*- C++ -*-===//
//
// Lowerings out of the graph dialect, and the layout of the initial values
// they share with the driver.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_CONVERSION_PASSES_H
#define DLC_CONVERSION_PASSES_H

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <vector>

namespace dlc {

#define GEN_PASS_DECL
#include "dlc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dlc/Conversion/Passes.h.inc"

} // namespace dlc

#endif // DLC_CONVERSION_PASSES_H
