//===- Arena.cpp - the arena a generated program runs in ------------------===//

#include "Arena.h"
#include "Error.h"
#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace {
/// The embedded initial values are file-backed pages of the executable:
/// once copied into the arena nothing reads them again, so the whole pages
/// among them go back to the kernel instead of counting against the
/// process's memory for the rest of the run.
void releaseEmbedded(const unsigned char *begin, size_t bytes) {
  const uintptr_t page = sysconf(_SC_PAGESIZE);
  uintptr_t from = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
  uintptr_t to = (reinterpret_cast<uintptr_t>(begin) + bytes) / page * page;
  if (to > from)
    madvise(reinterpret_cast<void *>(from), to - from, MADV_DONTNEED);
}
} // namespace

char *dlc::rt::createArena(Context &ctx) {
  char *arena = allocateArena(ctx, dlc_model.arenaBytes);
  if (!arena)
    throw Error("cannot allocate the " + std::to_string(dlc_model.arenaBytes) +
                "-byte arena");
  for (int i = 0; i < dlc_model.numVariables; ++i) {
    const VariableInfo &v = dlc_model.variables[i];
    if (v.initOffset < 0)
      continue;
    // In pieces, each released once copied: the embedded values and their
    // copy are never both resident (a 400 MB layer would count twice).
    const size_t piece = size_t(64) << 20;
    size_t bytes = byteSize(v);
    for (size_t at = 0; at < bytes; at += piece) {
      size_t n = std::min(piece, bytes - at);
      copyToBackend(ctx, arena + v.arenaOffset + at,
                    dlc_init_data + v.initOffset + at, n);
      releaseEmbedded(dlc_init_data + v.initOffset + at, n);
    }
  }
  return arena;
}
