//===- Arena.cpp - the arena a generated program runs in ------------------===//

#include "Arena.h"
#include "Error.h"
#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Model.h"

#include <string>

char *dlc::rt::createArena(Context &ctx) {
  char *arena = allocateArena(ctx, dlc_model.arenaBytes);
  if (!arena)
    throw Error("cannot allocate the " + std::to_string(dlc_model.arenaBytes) +
                "-byte arena");
  for (int i = 0; i < dlc_model.numVariables; ++i) {
    const VariableInfo &v = dlc_model.variables[i];
    if (v.initOffset >= 0)
      copyToBackend(ctx, arena + v.arenaOffset, dlc_init_data + v.initOffset,
                    v.numElements * sizeof(float));
  }
  return arena;
}
