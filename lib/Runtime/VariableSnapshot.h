//===- VariableSnapshot.h - the variables as a step found them -*- C++ -*-===//
//
// A host copy of every variable (parameters, optimizer state, running
// statistics) taken before a step and put back after it, so that a step
// whose rounding overflowed leaves nothing behind (the trainer's
// --on-overflow=redo|skip, as loss scaling skips a step). The step's other
// writes are scratch the next step overwrites.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_VARIABLESNAPSHOT_H
#define DLC_LIB_RUNTIME_VARIABLESNAPSHOT_H

#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Model.h"

#include <cstdint>
#include <vector>

namespace dlc::rt {

class VariableSnapshot {
public:
  /// Copies the variables of `model` out of `arena`; the buffer is sized
  /// once, on the first take.
  void take(Context &ctx, const char *arena, const ModelInfo &model);
  /// Writes the last take back into `arena`.
  void restore(Context &ctx, char *arena, const ModelInfo &model) const;

private:
  std::vector<uint8_t> bytes;
};

} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_VARIABLESNAPSHOT_H
