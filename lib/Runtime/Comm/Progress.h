//===- Progress.h - gradient sums in flight ---------------------*- C++ -*-===//
//
// The asynchronous sums that gradient averaging is made of. With
// MPI_THREAD_MULTIPLE a thread of this module's own runs them: it tests
// the collectives in flight so that they progress while the compute runs,
// and scales each chunk of a large sum into the mean as soon as it
// arrives. By default each sum goes on the wire whole when it starts, in
// the program's order.
//
// With DLC_COMM_ORDER=priority the thread decides which sum goes next: of
// those every rank has started, the one the step needs first (the lowest
// priority number). Every rank must start the same collectives in the
// same order, but a rank's own view of what is ready depends on its
// timing, so the ranks agree first: each round, one small MPI_BAND
// allreduce of bit masks says which sums every rank has started, which
// chunks every rank has received, and whether every rank is idle; every
// rank then takes the same decision from the same bits (a scheme like
// Horovod's negotiation, without a coordinator). At most two chunks'
// bytes are on the wire at a time, so a sum that is needed first does not
// queue behind megabytes started before it. The price: a sum waits for a
// round before it is sent, and on a congested link the rounds' messages
// queue behind the chunks (docs/benchmarks.md measures both orders).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_COMM_PROGRESS_H
#define DLC_RUNTIME_COMM_PROGRESS_H

#include "NarrowSum.h"

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <memory>
#include <vector>

namespace dlc::rt::comm::detail {

using Clock = std::chrono::steady_clock;

/// One chunk of a sum: its own collective.
struct Chunk {
  MPI_Request request = MPI_REQUEST_NULL;
  float *data;
  int64_t count;
  int64_t number = -1; ///< its place in the order chunks were sent
  /// Where its sum goes in a narrow format: that exchange, which stands in
  /// for `request`.
  std::unique_ptr<NarrowSum> narrow;
  /// Whether MPI has completed it, and whether it counts as arrived (its
  /// sum scaled into the mean; no earlier than the emulated link allows).
  bool received = false, arrived = false;
  /// When the emulated link delivers it (the epoch without one).
  Clock::time_point due;
};

/// A started sum.
struct Sum {
  std::vector<Chunk> chunks;
  size_t nextToSend = 0;
  float scale = 1.0f;
  int64_t priority = 0;
  bool done = false;
  /// The format its values cross the network in (NarrowSum.h); fp32: an
  /// MPI allreduce.
  precision::TensorFormat wire;
  /// Its place in the order of starts (the same on every rank; its trace
  /// id), when it started (for --trace), its bytes on the wire.
  int64_t sequence = 0;
  double started = 0.0;
  int64_t bytes = 0;
};

/// The link DLC_COMM_EMULATE_LINK="ALPHA_US:GBIT_PER_S" describes, a test
/// aid: chunks cross it one after another in the order they are sent, each
/// of n bytes taking 8 n / beta once the link is free, and a sum's first
/// alpha more. A chunk counts as arrived no earlier.
struct EmulatedLink {
  double alphaSeconds = 0.0, bitsPerSecond = 0.0;
  bool on() const { return bitsPerSecond > 0.0; }
  Clock::duration transfer(double alpha, int64_t bytes) const;
};

class Progress {
public:
  /// Sums go over `sums`; the rounds that decide what to send over `rounds`
  /// (both duplicates of MPI_COMM_WORLD, so that neither mixes with the
  /// other nor with the trainer's collectives). Without `threaded`, each sum
  /// is sent whole at its start and progresses only inside wait().
  void start(MPI_Comm sums, MPI_Comm rounds, bool threaded);
  /// Call on every rank once every sum has been waited for.
  void stop();

  Sum *startSum(float *data, int64_t count, float scale, int64_t priority,
                precision::TensorFormat wire);
  /// Whether sums go out by priority (DLC_COMM_ORDER=priority).
  bool byPriority() const { return agreed; }
  const EmulatedLink &emulated() const { return link; }
  int64_t sumsStarted() const { return nextSequence - startupSums; }
  /// Leaves the sums so far (start-up's measurements) out of the counts.
  void forgetStartup() {
    std::lock_guard<std::mutex> lock(mutex);
    startupSums = nextSequence;
    blocked = {};
  }
  void wait(Sum *sum);
  /// Whether `sum` is done (then forgotten, as after wait); threaded only.
  bool test(Sum *sum);
  bool threadedProgress() const { return threaded; }
  int64_t chunkSize() const { return chunkFloats; }
  void countBlocked(double startedAt, double seconds);
  double blockedSeconds() const;

private:
  void run();
  /// Tests the chunks on the wire; whether any arrived.
  bool testChunks();
  /// Takes in `sum`'s chunks that MPI has completed, in order (and marks it
  /// done after its last); whether any arrived.
  bool settle(Sum &sum);
  void sendChunk(Sum &sum);
  void startRound();
  /// Acts on the round's result; whether it changed anything.
  bool applyRound();
  bool idleHere() const;

  // Settings.
  EmulatedLink link;
  int64_t chunkFloats = 0, windowBytes = 0;
  MPI_Comm sumComm = MPI_COMM_NULL, roundComm = MPI_COMM_NULL;
  bool threaded = false;
  /// Whether the ranks agree in rounds on what to send (DLC_COMM_ORDER=
  /// priority); otherwise each sum is sent whole at its start.
  bool agreed = false;

  std::mutex mutex;
  std::condition_variable changed;
  std::list<Sum> sums;
  /// Sums started here and not yet sent, by sequence.
  std::map<int64_t, Sum *> unsent;
  int64_t nextSequence = 0, startupSums = 0;
  /// The lowest sequence not yet sent, and the sequences above it that
  /// were: the same on every rank (decided from the rounds alone).
  int64_t firstUnsent = 0;
  std::set<int64_t> sentAhead;
  /// Chunks sent and not yet known to have arrived everywhere, from
  /// `firstOnWire` on: their bytes, whether every rank has them, whether
  /// this rank has.
  struct Sent {
    int64_t bytes;
    bool everywhere = false, here = false;
  };
  std::deque<Sent> onWire;
  int64_t firstOnWire = 0, bytesOnWire = 0;
  /// The chunks sent in a narrow format so far: the next one's tag.
  int64_t narrowChunks = 0;
  /// The round in flight, and whether the last one found a rank busy.
  MPI_Request round = MPI_REQUEST_NULL;
  std::vector<uint64_t> roundIn, roundOut;
  bool busyElsewhere = false;
  /// When the emulated link has carried every sum sent so far.
  Clock::time_point linkFree{};
  /// How many threads are in wait(); sums started as the thread last saw.
  int waiting = 0;
  int64_t startsSeen = 0;
  bool stopping = false;
  std::thread thread;
  Clock::duration blocked{};
};

} // namespace dlc::rt::comm::detail

#endif // DLC_RUNTIME_COMM_PROGRESS_H
