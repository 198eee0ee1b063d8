//===- Trace.h - a Chrome trace of the trainer's run -------------*- C++
//-*-===//
//
// `./trainer --trace FILE.json` records, per rank, every kernel call of the
// step (as issued by the host: on a GPU, the enqueueing), each step, each
// gradient average from its start until the progress thread saw it done,
// and each wait for one; at exit it writes them in Chrome's trace format
// (Perfetto and chrome://tracing load it). Recording is off otherwise and
// costs a branch per call. No dependencies: the communication module and
// both backends record here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_TRACE_H
#define DLC_LIB_RUNTIME_TRACE_H

#include <cstdint>
#include <string>

namespace dlc::rt::trace {

/// The track an event goes on (Chrome's thread id).
enum Track : int { Compute = 0, Communication = 1 };

/// Starts recording, as rank `rank`.
void enable(int rank);
bool enabled();
/// Microseconds since recording started.
double now();

/// A span on this thread's compute track: begin() ... end(), nested.
void begin(const char *name, const char *category);
void end();
/// A span with its times given: a collective (`id`, the order it started
/// in, its `bytes` and `priority`) or a wait for one (`id`); -1 leaves
/// them out.
void span(const char *name, const char *category, double start, double end,
          Track track, int64_t id = -1, int64_t bytes = -1,
          int64_t priority = -1);

/// A figure for the trace's metadata ("otherData"), kept while recording:
/// `key` must be a string literal.
void note(const char *key, double value);

/// What was recorded, as a Chrome trace (JSON).
std::string json();

} // namespace dlc::rt::trace

#endif // DLC_LIB_RUNTIME_TRACE_H
