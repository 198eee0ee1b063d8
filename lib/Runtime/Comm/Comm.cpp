//===- Comm.cpp - every MPI call the runtime makes ------------------------===//
//
// MPI moves a nonblocking collective on only inside MPI calls, and a step
// makes none between a gradient's allreduce start and its wait: a thread
// of this module's own (with MPI_THREAD_MULTIPLE, checked at start-up)
// tests the collectives in flight so that they progress while the compute
// runs; wait() sleeps until that thread has seen its request complete.
// A large sum goes as a pipeline of chunks, each its own collective: that
// thread scales each chunk (the mean) as soon as it has arrived, while the
// next ones are still on the wire.
//
//===----------------------------------------------------------------------===//

#include "Comm.h"
#include "../Trace.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <mutex>
#include <string>
#include <thread>
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

using Clock = std::chrono::steady_clock;

/// Sums of more floats than this go as chunks of this many, each its own
/// collective: by default 4 MiB, whose transfer dwarfs a collective's
/// latency on any network (a third of a millisecond at 100 Gbit/s);
/// DLC_COMM_CHUNK_BYTES sets another size.
int64_t pipelineChunk() {
  int64_t bytes = int64_t(4) << 20;
  if (const char *text = std::getenv("DLC_COMM_CHUNK_BYTES"))
    bytes = std::max<int64_t>(std::atoll(text), 64);
  return bytes / int64_t(sizeof(float));
}

/// One chunk of a started sum.
struct Chunk {
  MPI_Request request = MPI_REQUEST_NULL;
  float *data;
  int64_t count;
  bool arrived = false;
};

/// A started sum: its chunks, the factor each is scaled by on arrival, and
/// when the emulated link would have delivered it (DLC_COMM_EMULATE_LINK;
/// the epoch otherwise).
struct InFlight {
  std::vector<Chunk> chunks;
  float scale = 1.0f;
  Clock::time_point due;
  bool done = false;
  /// For --trace: when it started, its place in the order of starts, its
  /// bytes.
  double started = 0.0;
  int64_t id = 0, bytes = 0;
};

/// The link DLC_COMM_EMULATE_LINK="ALPHA_US:GBIT_PER_S" describes, a test
/// aid: sums cross it one after another in the order they started, each of
/// n floats taking alpha + 32 n / beta once the link is free.
struct EmulatedLink {
  double alphaSeconds = 0.0, bitsPerSecond = 0.0;
  bool on() const { return bitsPerSecond > 0.0; }
  Clock::duration transfer(int64_t count) const {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(alphaSeconds +
                                      32.0 * count / bitsPerSecond));
  }
};

EmulatedLink emulatedLink() {
  EmulatedLink link;
  const char *text = std::getenv("DLC_COMM_EMULATE_LINK");
  double alpha = 0.0, gbits = 0.0;
  if (text && std::sscanf(text, "%lf:%lf", &alpha, &gbits) == 2 &&
      alpha >= 0.0 && gbits > 0.0) {
    link.alphaSeconds = alpha * 1e-6;
    link.bitsPerSecond = gbits * 1e9;
  }
  return link;
}

/// The progress thread and the sums in flight.
class Progress {
public:
  void start(bool threaded) {
    link = emulatedLink();
    chunkFloats = pipelineChunk();
    if (!threaded)
      return;
    thread = std::thread([this] { run(); });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    if (thread.joinable())
      thread.join();
  }

  InFlight *startSum(float *data, int64_t count, float scale) {
    std::lock_guard<std::mutex> lock(mutex);
    inFlight.emplace_back();
    InFlight &sum = inFlight.back();
    sum.started = trace::now();
    sum.id = started++;
    sum.bytes = count * int64_t(sizeof(float));
    sum.scale = scale;
    for (int64_t at = 0; at < count; at += chunkFloats) {
      Chunk &chunk = sum.chunks.emplace_back();
      chunk.data = data + at;
      chunk.count = std::min(chunkFloats, count - at);
      MPI_Iallreduce(MPI_IN_PLACE, chunk.data, static_cast<int>(chunk.count),
                     MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &chunk.request);
    }
    if (link.on()) {
      sum.due = std::max(Clock::now(), linkFree) + link.transfer(count);
      linkFree = sum.due;
    }
    changed.notify_all();
    return &sum;
  }

  void wait(InFlight *sum) {
    Clock::time_point begin = Clock::now();
    double waitStarted = trace::now();
    std::unique_lock<std::mutex> lock(mutex);
    if (thread.joinable()) {
      // Wakes the progress thread, which tests often while anyone waits.
      ++waiting;
      changed.notify_all();
      changed.wait(lock, [&] { return sum->done; });
      --waiting;
    } else {
      for (Chunk &chunk : sum->chunks) {
        MPI_Wait(&chunk.request, MPI_STATUS_IGNORE);
        arrive(*sum, chunk);
      }
      lock.unlock();
      std::this_thread::sleep_until(sum->due);
      lock.lock();
      trace::span("allreduce", "comm", sum->started, trace::now(),
                  trace::Communication, sum->id, sum->bytes);
    }
    trace::span("wait", "wait", waitStarted, trace::now(), trace::Compute,
                sum->id);
    inFlight.remove_if([&](const InFlight &s) { return &s == sum; });
    blocked += Clock::now() - begin;
  }

  double blockedSeconds() const {
    return std::chrono::duration<double>(blocked).count();
  }

private:
  /// A chunk's sum is in: scale it (the mean), one vectorised pass while
  /// the other chunks are still on the wire.
  static void arrive(InFlight &sum, Chunk &chunk) {
    chunk.arrived = true;
    if (sum.scale == 1.0f)
      return;
    float *x = chunk.data;
    float scale = sum.scale;
    for (int64_t i = 0; i < chunk.count; ++i)
      x[i] *= scale;
  }

  /// While anything is in flight, tests it and sleeps: 50 us while the
  /// step waits for a sum or after a chunk arrived or a sum started, twice
  /// as long after each test that found nothing otherwise, up to 800 us
  /// (each test costs a round of MPI's progress engine on the compute's
  /// cores). Sleeps until a sum starts otherwise.
  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    auto pause = std::chrono::microseconds(50);
    int64_t startedBefore = started;
    while (!stopping) {
      bool pending = false, arrived = started != startedBefore;
      startedBefore = started;
      for (InFlight &sum : inFlight) {
        if (sum.done)
          continue;
        // One test drives MPI's progress for every request, and chunks
        // arrive in the order they started: testing stops at the first
        // one still on the wire.
        bool all = true;
        for (Chunk &chunk : sum.chunks) {
          if (chunk.arrived)
            continue;
          int flag = 0;
          MPI_Test(&chunk.request, &flag, MPI_STATUS_IGNORE);
          if (!flag) {
            all = false;
            break;
          }
          arrive(sum, chunk);
          arrived = true;
        }
        if (all && Clock::now() >= sum.due) {
          sum.done = true;
          trace::span("allreduce", "comm", sum.started, trace::now(),
                      trace::Communication, sum.id, sum.bytes);
          changed.notify_all();
        } else {
          pending = true;
          if (!all)
            break;
        }
      }
      if (!pending) {
        changed.wait(lock);
        pause = std::chrono::microseconds(50);
        continue;
      }
      pause = arrived || waiting
                  ? std::chrono::microseconds(50)
                  : std::min(2 * pause, std::chrono::microseconds(800));
      changed.wait_for(lock, pause);
    }
  }

  EmulatedLink link;
  int64_t chunkFloats = 0;
  /// How many threads are in wait().
  int waiting = 0;
  /// When the emulated link has carried every sum started so far.
  Clock::time_point linkFree{};
  /// Sums started so far (their trace ids).
  int64_t started = 0;
  std::mutex mutex;
  std::condition_variable changed;
  std::list<InFlight> inFlight;
  bool stopping = false;
  std::thread thread;
  Clock::duration blocked{};
};

Progress progress;
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
  bool threaded = provided >= MPI_THREAD_MULTIPLE;
  if (!threaded && world.rank == 0)
    std::fprintf(stderr,
                 "warning: this MPI gives no MPI_THREAD_MULTIPLE: gradient "
                 "averages progress only while the step waits for them\n");
  progress.start(threaded && world.size > 1);
  return world;
}

void comm::finalize(const World &world) {
  if (!world.mpi)
    return;
  progress.stop();
  MPI_Finalize();
}

void comm::abortJob(int status) {
  if (active())
    MPI_Abort(MPI_COMM_WORLD, status);
  std::exit(status);
}

double comm::sum(double value) {
  double total = value;
  if (active())
    MPI_Allreduce(&value, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

int64_t comm::sum(int64_t value) {
  int64_t total = value;
  if (active())
    MPI_Allreduce(&value, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

int comm::max(int value) {
  int largest = value;
  if (active())
    MPI_Allreduce(&value, &largest, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return largest;
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

comm::Request comm::startSum(float *data, int64_t count, float scale) {
  Request request;
  if (!active())
    return request;
  request.handle = progress.startSum(data, count, scale);
  return request;
}

void comm::wait(Request &request) {
  if (!request.handle)
    return;
  progress.wait(static_cast<InFlight *>(request.handle));
  request.handle = nullptr;
}

double comm::blockedSeconds() { return progress.blockedSeconds(); }
