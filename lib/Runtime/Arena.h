//===- Arena.h - the arena a generated program runs in ----------*- C++ -*-===//

#ifndef DLC_RUNTIME_ARENA_H
#define DLC_RUNTIME_ARENA_H

namespace dlc::rt {

struct Context;

/// Allocates dlc_model's arena in backend memory and copies every variable's
/// initial value into it (the rest starts at zero). Throws Error if the
/// memory cannot be had.
char *createArena(Context &ctx);

} // namespace dlc::rt

#endif // DLC_RUNTIME_ARENA_H
