//===- Comm.h - every MPI call the runtime makes ----------------*- C++ -*-===//
//
// The trainer and both backends talk to other ranks only through this
// module: start-up (MPI only under a launcher, so a single run needs no MPI
// installation), scalar reductions, checkpoint transfers, and the
// asynchronous in-place sum of a float buffer that gradient averaging is
// made of. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_COMM_COMM_H
#define DLC_RUNTIME_COMM_COMM_H

#include "dlc/Runtime/Precision/Formats.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace dlc::rt::comm {

struct World {
  int rank = 0, size = 1;
  bool mpi = false; ///< whether MPI was initialised
  bool leader() const { return rank == 0; }
};

/// Starts MPI when a launcher (mpirun, srun) started this process, and
/// installs an error handler that names this rank and `*currentStep`.
World initialize(int &argc, char **&argv, const int64_t *currentStep);
void finalize(const World &world);
/// This process's rank (0 without MPI).
int rank();
/// Ends every rank of the job (after an error on this one).
[[noreturn]] void abortJob(int status);

/// The link between ranks, as a short ping-pong between the first and the
/// last rank measured it at start-up (every rank gets the same figures): a
/// message of n bytes takes alpha + n / beta. Zeros on one rank.
struct Link {
  double alphaSeconds = 0.0, bytesPerSecond = 0.0;
  bool measured() const { return bytesPerSecond > 0.0; }
};
Link link();
/// The latency of one gradient sum as this module runs it, measured at
/// start-up with sums of 2 floats (0 on one rank, or on an emulated link).
double sumLatencySeconds();
/// The most bytes worth averaging in one collective: 9 alpha beta, as long
/// as alpha is over a tenth of the collective's cost, with alpha the sum's
/// latency and beta the link's bandwidth over the ring's 2 (n - 1) / n
/// (or the emulated link's, DLC_COMM_EMULATE_LINK), rounded down to a power
/// of two; DLC_COMM_BUCKET_BYTES sets it instead. 0 on one rank.
int64_t bucketBytes();
/// Whether gradient sums go out by priority (DLC_COMM_ORDER=priority) rather
/// than in the order they start.
bool sendsByPriority();

/// The sum over ranks (identity on one rank).
int64_t sum(int64_t value);
/// Two doubles summed over ranks without blocking: startScalarSum starts
/// summing `values` in place (the struct must stay put), finishScalarSum
/// completes it (both at once on one rank).
struct ScalarSum {
  double values[2] = {0.0, 0.0};
  void *request = nullptr;
};
void startScalarSum(ScalarSum &sum);
void finishScalarSum(ScalarSum &sum);
/// Whether every rank passed the same value (true on one rank).
bool sameOnEveryRank(uint64_t value);
void barrier();

/// Point-to-point transfers of any size (split into MPI's int counts).
void send(const void *data, size_t bytes, int to);
void receive(void *data, size_t bytes, int from);

/// An asynchronous in-place sum, then multiplied by `scale` (1 / ranks:
/// the mean), each chunk of a large one as soon as it has arrived, on the
/// communication thread; wait() completes it. Of the sums started and not
/// yet sent, the one with the lowest `priority` goes first (every rank must
/// pass the same priority for the same sum). With a `wire` format other
/// than fp32 (the same on every rank), the values cross the network in it
/// and the mean is rounded to it (NarrowSum.h): for values it holds.
struct Request {
  void *handle = nullptr;
};
Request startSum(float *data, int64_t count, float scale = 1.0f,
                 int64_t priority = 0,
                 precision::TensorFormat wire = precision::TensorFormat());
void wait(Request &request);
/// Whether the sum is complete; if so, the request is finished as by wait(),
/// without counting as blocked. Only where sums progress on their own.
bool test(Request &request);
/// Whether a thread of this module progresses the sums (MPI gave
/// MPI_THREAD_MULTIPLE), so that other threads may start and test them.
bool progressesAlone();
/// The floats of a chunk: sums larger than this are sent as a pipeline of
/// chunks (DLC_COMM_CHUNK_BYTES; 4 MiB by default).
int64_t chunkFloats();
/// Counts `seconds` that the compute spent waiting for averages outside
/// wait() (the CUDA backend's pipeline), and traces the wait.
void countBlocked(double startedAt, double seconds);
/// Rank `root`'s `bytes` at `data` on every rank.
void broadcast(void *data, size_t bytes, int root);
/// The seconds this rank has spent in wait() so far: the communication the
/// compute did not hide.
double blockedSeconds();
/// The sums this rank has started so far.
int64_t sumsStarted();

} // namespace dlc::rt::comm

#endif // DLC_RUNTIME_COMM_COMM_H
