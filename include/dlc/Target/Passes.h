//===- Passes.h - dlc passes that ask a target's libraries ------*- C++ -*-===//

#ifndef DLC_TARGET_PASSES_H
#define DLC_TARGET_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace dlc {

#define GEN_PASS_DECL
#include "dlc/Target/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dlc/Target/Passes.h.inc"

} // namespace dlc

#endif // DLC_TARGET_PASSES_H
