//===- Comm.cpp - every MPI call the runtime makes ------------------------===//
//
// Start-up (MPI with the thread level the progress thread needs, checked;
// the link measured), the trainer's blocking collectives and transfers,
// and the entry points of the gradient sums that Progress.cpp runs.
//
//===----------------------------------------------------------------------===//

#include "Comm.h"
#include "Progress.h"

#include <mpi.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace dlc::rt;

namespace {
const int64_t *stepOfErrors = nullptr;
int worldRank = 0;

/// Whether mpirun (Open MPI, MPICH/Hydra) or a PMI/PMIx launcher such as
/// srun started this process.
bool launchedByMpi() {
  for (const char *variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                               "MPI_LOCALNRANKS"})
    if (std::getenv(variable))
      return true;
  return false;
}

/// MPI_COMM_WORLD's error handler: instead of MPI's generic abort, say which
/// rank saw the failure, at which step, and how to continue.
extern "C" void reportMpiError(MPI_Comm *, int *code, ...) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(*code, text, &length);
  std::fprintf(stderr,
               "rank %d: error: communication failed at step %" PRId64
               " (%.*s): another rank has probably died; stopping the job. "
               "Continue from the last checkpoint with --resume DIR\n",
               worldRank, stepOfErrors ? *stepOfErrors : int64_t(0), length,
               text);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

constexpr size_t kChunk = size_t(1) << 30;

bool active() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  return initialised;
}

comm::detail::Progress progress;
/// Duplicates of MPI_COMM_WORLD for the gradient sums and the rounds that
/// order them, which the progress thread issues in an order of its own.
MPI_Comm sumComm = MPI_COMM_NULL, roundComm = MPI_COMM_NULL;
comm::Link measuredLink;
double sumLatency = 0.0;
int64_t bucketLimit = 0;

/// The median seconds of `trips` round trips of `bytes` between ranks 0 and
/// `peer`, after one to warm the connection; 0 on the other ranks.
double medianRoundTrip(int rank, int peer, int bytes, int trips) {
  std::vector<char> buffer(rank == 0 || rank == peer ? bytes : 0);
  std::vector<double> seconds;
  for (int trip = 0; trip <= trips; ++trip) {
    double begin = MPI_Wtime();
    if (rank == 0) {
      MPI_Send(buffer.data(), bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
      MPI_Recv(buffer.data(), bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
    } else if (rank == peer) {
      MPI_Recv(buffer.data(), bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
      MPI_Send(buffer.data(), bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
    }
    if (trip > 0)
      seconds.push_back(MPI_Wtime() - begin);
  }
  std::nth_element(seconds.begin(), seconds.begin() + trips / 2, seconds.end());
  return seconds[trips / 2];
}

/// Alpha from round trips of 8 bytes; beta from the difference between
/// round trips of 1 and 4 MiB (30 ms at 1 Gbit/s), which leaves out what
/// both share: latency, and a shaper's burst allowance. Between the first
/// and the last rank, which a launcher that fills nodes in order puts on
/// different nodes.
comm::Link measureLink(const comm::World &world) {
  constexpr int kMiB = 1 << 20;
  int peer = world.size - 1;
  double small = medianRoundTrip(world.rank, peer, 8, 16) / 2;
  double oneMiB = medianRoundTrip(world.rank, peer, kMiB, 3) / 2;
  double fourMiB = medianRoundTrip(world.rank, peer, 4 * kMiB, 3) / 2;
  double figures[2] = {small, 3 * kMiB / std::max(fourMiB - oneMiB, 1e-9)};
  MPI_Bcast(figures, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return {figures[0], figures[1]};
}
/// The latency of one sum as the runtime runs it (MPI's nonblocking
/// allreduce, its rounds progressed by this module's thread): the median of
/// 16 sums of 2 floats, rank 0's on every rank. Start-up sums do not count
/// as the training's.
double measureSumLatency() {
  float data[2] = {};
  std::vector<double> seconds;
  for (int trip = 0; trip <= 16; ++trip) {
    double begin = MPI_Wtime();
    comm::Request request = comm::startSum(data, 2);
    comm::wait(request);
    if (trip > 0)
      seconds.push_back(MPI_Wtime() - begin);
  }
  std::nth_element(seconds.begin(), seconds.begin() + 8, seconds.end());
  double latency = seconds[8];
  MPI_Bcast(&latency, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  progress.forgetStartup();
  return latency;
}

/// 9 alpha beta of the collective the sums see, rounded down to a power of two
/// so that the jitter of the measurement seldom moves a bucket's bounds
/// between runs; DLC_COMM_BUCKET_BYTES fixes it instead (with more than two
/// ranks, MPI's reduction order depends on the buckets, so bit-identical
/// reruns need it fixed).
int64_t chooseBucketBytes(const comm::detail::EmulatedLink &emulated,
                          int ranks) {
  if (const char *text = std::getenv("DLC_COMM_BUCKET_BYTES")) {
    char *end = nullptr;
    long long bytes = std::strtoll(text, &end, 10);
    if (end != text && *end == '\0' && bytes >= 0)
      return bytes;
    if (worldRank == 0)
      std::fprintf(stderr,
                   "warning: DLC_COMM_BUCKET_BYTES='%s' is not a number of "
                   "bytes; bucketing by the measured link\n",
                   text);
  }
  // A ring allreduce on n ranks sends 2 (n - 1) / n of the bytes each way.
  comm::Link seen =
      emulated.on()
          ? comm::Link{emulated.alphaSeconds, emulated.bitsPerSecond / 8}
          : comm::Link{sumLatency, measuredLink.bytesPerSecond * ranks /
                                       (2.0 * (ranks - 1))};
  auto bytes =
      static_cast<int64_t>(9.0 * seen.alphaSeconds * seen.bytesPerSecond);
  int64_t power = 1;
  while (power <= bytes / 2)
    power *= 2;
  return bytes > 0 ? power : 0;
}
} // namespace

comm::World comm::initialize(int &argc, char **&argv,
                             const int64_t *currentStep) {
  World world;
  world.mpi = launchedByMpi();
  if (!world.mpi)
    return world;
  // Open MPI's nonblocking allreduce otherwise takes a binomial tree for
  // two ranks, which sends the whole buffer twice: its ring halves the
  // bytes (measured over a 1 Gbit/s link: 0.73 s of ResNet-18's gradients
  // against 0.41 s). A value the user set wins; other MPIs ignore it.
  setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", /*overwrite=*/0);
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  worldRank = world.rank;
  stepOfErrors = currentStep;
  MPI_Errhandler handler;
  MPI_Comm_create_errhandler(reportMpiError, &handler);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, handler);
  if (world.size > 1)
    measuredLink = measureLink(world);
  bool threaded = provided >= MPI_THREAD_MULTIPLE;
  if (!threaded && world.rank == 0)
    std::fprintf(stderr,
                 "warning: this MPI gives no MPI_THREAD_MULTIPLE: gradient "
                 "averages progress only while the step waits for them\n");
  MPI_Comm_dup(MPI_COMM_WORLD, &sumComm);
  MPI_Comm_dup(MPI_COMM_WORLD, &roundComm);
  progress.start(sumComm, roundComm, threaded && world.size > 1);
  if (world.size > 1) {
    if (!progress.emulated().on())
      sumLatency = measureSumLatency();
    bucketLimit = chooseBucketBytes(progress.emulated(), world.size);
  }
  return world;
}

void comm::finalize(const World &world) {
  if (!world.mpi)
    return;
  progress.stop();
  MPI_Comm_free(&sumComm);
  MPI_Comm_free(&roundComm);
  MPI_Finalize();
}

void comm::abortJob(int status) {
  if (active())
    MPI_Abort(MPI_COMM_WORLD, status);
  std::exit(status);
}

int comm::rank() { return worldRank; }

comm::Link comm::link() { return measuredLink; }

bool comm::sendsByPriority() { return progress.byPriority(); }

int64_t comm::bucketBytes() { return bucketLimit; }

double comm::sumLatencySeconds() { return sumLatency; }

int64_t comm::sumsStarted() { return progress.sumsStarted(); }

int64_t comm::sum(int64_t value) {
  int64_t total = value;
  if (active())
    MPI_Allreduce(&value, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

void comm::startScalarSum(ScalarSum &sum) {
  if (!active())
    return;
  auto *request = new MPI_Request;
  MPI_Iallreduce(MPI_IN_PLACE, sum.values, 2, MPI_DOUBLE, MPI_SUM,
                 MPI_COMM_WORLD, request);
  sum.request = request;
}

void comm::finishScalarSum(ScalarSum &sum) {
  if (!sum.request)
    return;
  auto *request = static_cast<MPI_Request *>(sum.request);
  MPI_Wait(request, MPI_STATUS_IGNORE);
  delete request;
  sum.request = nullptr;
}

bool comm::sameOnEveryRank(uint64_t value) {
  if (!active())
    return true;
  uint64_t low = value, high = value;
  MPI_Allreduce(&value, &low, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&value, &high, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  return low == high;
}

void comm::barrier() {
  if (active())
    MPI_Barrier(MPI_COMM_WORLD);
}

void comm::send(const void *data, size_t bytes, int to) {
  const char *at = static_cast<const char *>(data);
  for (size_t done = 0; done < bytes; done += kChunk)
    MPI_Send(at + done, int(std::min(kChunk, bytes - done)), MPI_BYTE, to, 0,
             MPI_COMM_WORLD);
}

void comm::receive(void *data, size_t bytes, int from) {
  char *at = static_cast<char *>(data);
  for (size_t done = 0; done < bytes; done += kChunk)
    MPI_Recv(at + done, int(std::min(kChunk, bytes - done)), MPI_BYTE, from, 0,
             MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

comm::Request comm::startSum(float *data, int64_t count, float scale,
                             int64_t priority,
                             precision::TensorFormat wire) {
  Request request;
  if (!active())
    return request;
  request.handle =
      progress.startSum(data, count, scale, priority, wire);
  return request;
}

void comm::wait(Request &request) {
  if (!request.handle)
    return;
  progress.wait(static_cast<comm::detail::Sum *>(request.handle));
  request.handle = nullptr;
}

bool comm::test(Request &request) {
  if (!request.handle)
    return true;
  if (!progress.test(static_cast<comm::detail::Sum *>(request.handle)))
    return false;
  request.handle = nullptr;
  return true;
}

bool comm::progressesAlone() { return active() && progress.threadedProgress(); }

int64_t comm::chunkFloats() { return progress.chunkSize(); }

void comm::countBlocked(double startedAt, double seconds) {
  progress.countBlocked(startedAt, seconds);
}

void comm::broadcast(void *data, size_t bytes, int root) {
  if (!active())
    return;
  char *at = static_cast<char *>(data);
  for (size_t done = 0; done < bytes; done += kChunk)
    MPI_Bcast(at + done, int(std::min(kChunk, bytes - done)), MPI_BYTE, root,
              MPI_COMM_WORLD);
}

double comm::blockedSeconds() { return progress.blockedSeconds(); }
