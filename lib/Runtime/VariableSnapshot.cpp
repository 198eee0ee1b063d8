//===- VariableSnapshot.cpp - the variables as a step found them ----------===//

#include "VariableSnapshot.h"

using namespace dlc::rt;

void VariableSnapshot::take(Context &ctx, const char *arena,
                            const ModelInfo &model) {
  size_t total = 0;
  for (int i = 0; i < model.numVariables; ++i)
    total += byteSize(model.variables[i]);
  bytes.resize(total);
  size_t at = 0;
  for (int i = 0; i < model.numVariables; ++i) {
    const VariableInfo &v = model.variables[i];
    copyToHost(ctx, &bytes[at], arena + v.arenaOffset, byteSize(v));
    at += byteSize(v);
  }
}

void VariableSnapshot::restore(Context &ctx, char *arena,
                               const ModelInfo &model) const {
  size_t at = 0;
  for (int i = 0; i < model.numVariables; ++i) {
    const VariableInfo &v = model.variables[i];
    copyToBackend(ctx, arena + v.arenaOffset, &bytes[at], byteSize(v));
    at += byteSize(v);
  }
}
