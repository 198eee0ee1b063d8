/* Counts the process's large heap allocations (1 MiB or more), for the test
 * that the trainer allocates nothing per step. Preloaded with LD_PRELOAD;
 * the count is written to $DLC_ALLOCATION_COUNT_FILE at exit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_long large;
static const size_t kLarge = 1 << 20;

static void note(size_t bytes) {
  if (bytes >= kLarge)
    atomic_fetch_add(&large, 1);
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

void *malloc(size_t bytes) {
  static void *(*next)(size_t);
  if (!next)
    next = NEXT(malloc);
  note(bytes);
  return next(bytes);
}

void *calloc(size_t count, size_t bytes) {
  /* dlsym may call calloc: serve that one from a static buffer. */
  static char early[4096];
  static int resolving;
  static void *(*next)(size_t, size_t);
  if (!next) {
    if (resolving)
      return early;
    resolving = 1;
    next = NEXT(calloc);
    resolving = 0;
  }
  note(count * bytes);
  return next(count, bytes);
}

void *realloc(void *pointer, size_t bytes) {
  static void *(*next)(void *, size_t);
  if (!next)
    next = NEXT(realloc);
  note(bytes);
  return next(pointer, bytes);
}

int posix_memalign(void **out, size_t alignment, size_t bytes) {
  static int (*next)(void **, size_t, size_t);
  if (!next)
    next = NEXT(posix_memalign);
  note(bytes);
  return next(out, alignment, bytes);
}

void *aligned_alloc(size_t alignment, size_t bytes) {
  static void *(*next)(size_t, size_t);
  if (!next)
    next = NEXT(aligned_alloc);
  note(bytes);
  return next(alignment, bytes);
}

__attribute__((destructor)) static void report(void) {
  const char *path = getenv("DLC_ALLOCATION_COUNT_FILE");
  FILE *out = path ? fopen(path, "w") : NULL;
  if (!out)
    return;
  fprintf(out, "%ld\n", (long)atomic_load(&large));
  fclose(out);
}
