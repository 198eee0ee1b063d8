//===- Progress.cpp - gradient sums in flight, sent by priority -----------===//

#include "Progress.h"
#include "../Trace.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/prctl.h>

using namespace dlc::rt;
using namespace dlc::rt::comm::detail;

namespace {
/// A round's bit masks: sums started (from the lowest unsent one on),
/// chunks received (from the lowest not known everywhere on), and one word
/// that is all ones where the rank is idle. Sums and chunks beyond the
/// masks wait for later rounds.
constexpr int64_t kSumBits = 1024, kChunkBits = 1024;
constexpr int64_t kSumWords = kSumBits / 64, kChunkWords = kChunkBits / 64;
constexpr int64_t kRoundWords = kSumWords + kChunkWords + 1;
constexpr uint64_t kIdle = ~uint64_t(0);

bool bit(const std::vector<uint64_t> &words, int64_t at) {
  return (words[at / 64] >> (at % 64)) & 1;
}
void setBit(std::vector<uint64_t> &words, int64_t at) {
  words[at / 64] |= uint64_t(1) << (at % 64);
}

/// Sums of more floats than this go as chunks of this many, each its own
/// collective: by default 4 MiB, whose transfer dwarfs a collective's
/// latency on any network (a third of a millisecond at 100 Gbit/s);
/// DLC_COMM_CHUNK_BYTES sets another size. (Chunks of a millisecond of a
/// 1 Gbit/s link, 128 KiB, cost ResNet-18 half the link's throughput.)
int64_t pipelineChunk() {
  int64_t bytes = int64_t(4) << 20;
  if (const char *text = std::getenv("DLC_COMM_CHUNK_BYTES"))
    bytes = std::max<int64_t>(std::atoll(text), 64);
  return bytes / int64_t(sizeof(float));
}

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

/// A chunk's sum is in: scale it (the mean), one vectorised pass while the
/// other chunks are still on the wire (a narrow exchange took the mean
/// itself).
void scale(const Sum &sum, Chunk &chunk) {
  chunk.arrived = true;
  if (chunk.narrow) {
    chunk.narrow.reset(); // the exchange took the mean
    return;
  }
  if (sum.scale == 1.0f)
    return;
  float *x = chunk.data;
  float factor = sum.scale;
  for (int64_t i = 0; i < chunk.count; ++i)
    x[i] *= factor;
}

int64_t wireBytes(const Sum &sum) {
  return precision::info(sum.wire.format).bits / 8;
}

void traceSum(const Sum &sum) {
  trace::span("allreduce", "comm", sum.started, trace::now(),
              trace::Communication, sum.sequence, sum.bytes, sum.priority);
}
} // namespace

Clock::duration EmulatedLink::transfer(double alpha, int64_t bytes) const {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(alpha + 8.0 * bytes / bitsPerSecond));
}

void Progress::start(MPI_Comm sums, MPI_Comm rounds, bool threaded) {
  link = emulatedLink();
  chunkFloats = pipelineChunk();
  // Two chunks: one on the wire while a round sees the other arrive.
  windowBytes = 2 * chunkFloats * int64_t(sizeof(float));
  sumComm = sums;
  roundComm = rounds;
  this->threaded = threaded;
  const char *order = std::getenv("DLC_COMM_ORDER");
  std::string orderName = order ? order : "program";
  if (orderName != "program" && orderName != "priority")
    std::fprintf(stderr,
                 "warning: DLC_COMM_ORDER='%s' is neither 'program' nor "
                 "'priority'; sending averages in the program's order\n",
                 order);
  agreed = threaded && orderName == "priority";
  roundIn.assign(kRoundWords, 0);
  roundOut.assign(kRoundWords, 0);
  if (threaded)
    thread = std::thread([this] { run(); });
}

void Progress::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  changed.notify_all();
  if (thread.joinable())
    thread.join();
}

Sum *Progress::startSum(float *data, int64_t count, float scale,
                        int64_t priority, precision::TensorFormat wire) {
  std::lock_guard<std::mutex> lock(mutex);
  Sum &sum = sums.emplace_back();
  sum.started = trace::now();
  sum.sequence = nextSequence++;
  sum.wire = wire;
  sum.bytes = count * wireBytes(sum);
  sum.scale = scale;
  sum.priority = priority;
  int64_t at = 0;
  do {
    Chunk &chunk = sum.chunks.emplace_back();
    chunk.data = data + at;
    chunk.count = std::min(chunkFloats, count - at);
    at += chunkFloats;
  } while (at < count);
  if (!agreed) {
    // Sent now, in the program's order.
    while (sum.nextToSend < sum.chunks.size())
      sendChunk(sum);
    changed.notify_all();
    return &sum;
  }
  unsent.emplace(sum.sequence, &sum);
  changed.notify_all();
  return &sum;
}

void Progress::sendChunk(Sum &sum) {
  Chunk &chunk = sum.chunks[sum.nextToSend++];
  chunk.number = firstOnWire + static_cast<int64_t>(onWire.size());
  if (sum.wire.format != precision::Format::F32) {
    chunk.narrow = std::make_unique<NarrowSum>(
        sum.wire, chunk.data, chunk.count, sum.scale, narrowChunks++, sumComm);
  } else {
    MPI_Iallreduce(MPI_IN_PLACE, chunk.data, static_cast<int>(chunk.count),
                   MPI_FLOAT, MPI_SUM, sumComm, &chunk.request);
  }
  int64_t bytes = chunk.count * wireBytes(sum);
  if (agreed) {
    onWire.push_back({bytes});
    bytesOnWire += bytes;
  }
  if (link.on()) {
    double alpha = sum.nextToSend == 1 ? link.alphaSeconds : 0.0;
    chunk.due = std::max(Clock::now(), linkFree) + link.transfer(alpha, bytes);
    linkFree = chunk.due;
  }
}

void Progress::wait(Sum *sum) {
  Clock::time_point begin = Clock::now();
  double waitStarted = trace::now();
  std::unique_lock<std::mutex> lock(mutex);
  if (threaded) {
    // Wakes the progress thread, which tests often while anyone waits.
    ++waiting;
    changed.notify_all();
    changed.wait(lock, [&] { return sum->done; });
    --waiting;
  } else {
    Clock::time_point due{};
    for (Chunk &chunk : sum->chunks) {
      if (chunk.narrow)
        chunk.narrow->wait();
      else
        MPI_Wait(&chunk.request, MPI_STATUS_IGNORE);
      chunk.received = true;
      scale(*sum, chunk);
      due = std::max(due, chunk.due);
    }
    lock.unlock();
    std::this_thread::sleep_until(due);
    lock.lock();
    traceSum(*sum);
  }
  trace::span("wait", "wait", waitStarted, trace::now(), trace::Compute,
              sum->sequence);
  sums.remove_if([&](const Sum &s) { return &s == sum; });
  blocked += Clock::now() - begin;
}

bool Progress::test(Sum *sum) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!sum->done) {
    // Someone is waiting: the thread tests often.
    changed.notify_all();
    return false;
  }
  sums.remove_if([&](const Sum &s) { return &s == sum; });
  return true;
}

void Progress::countBlocked(double startedAt, double seconds) {
  trace::span("wait", "wait", startedAt, startedAt + seconds, trace::Compute,
              -1);
  std::lock_guard<std::mutex> lock(mutex);
  blocked += std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(seconds));
}

double Progress::blockedSeconds() const {
  return std::chrono::duration<double>(blocked).count();
}

bool Progress::settle(Sum &sum) {
  bool arrived = false;
  for (size_t i = 0; i < sum.nextToSend; ++i) {
    Chunk &chunk = sum.chunks[i];
    if (chunk.arrived)
      continue;
    if (!chunk.received || Clock::now() < chunk.due)
      break;
    scale(sum, chunk);
    if (agreed)
      onWire[chunk.number - firstOnWire].here = true;
    arrived = true;
  }
  if (sum.nextToSend == sum.chunks.size() && sum.chunks.back().arrived) {
    sum.done = true;
    traceSum(sum);
    changed.notify_all();
  }
  return arrived;
}

bool Progress::testChunks() {
  // Each sum's first chunk still on the wire, tested by one MPI_Testsome:
  // it drives MPI's progress once, where a test per sum would drive it
  // once per sum.
  std::vector<Sum *> front;
  std::vector<Chunk *> chunks;
  std::vector<MPI_Request> requests;
  bool arrived = false;
  for (Sum &sum : sums) {
    if (sum.done)
      continue;
    arrived = settle(sum) || arrived;
    for (size_t i = 0; i < sum.nextToSend && !sum.done; ++i)
      if (!sum.chunks[i].received && sum.chunks[i].narrow) {
        // Its own messages, tested apart.
        if (!sum.chunks[i].narrow->test())
          break;
        sum.chunks[i].received = true;
        arrived = settle(sum) || arrived;
      } else if (!sum.chunks[i].received) {
        front.push_back(&sum);
        chunks.push_back(&sum.chunks[i]);
        requests.push_back(sum.chunks[i].request);
        break;
      }
  }
  if (requests.empty())
    return arrived;
  int count = 0;
  std::vector<int> indices(requests.size());
  MPI_Testsome(static_cast<int>(requests.size()), requests.data(), &count,
               indices.data(), MPI_STATUSES_IGNORE);
  for (int k = 0; k < count; ++k) {
    chunks[indices[k]]->received = true;
    chunks[indices[k]]->request = MPI_REQUEST_NULL;
    arrived = settle(*front[indices[k]]) || arrived;
  }
  return arrived;
}

bool Progress::idleHere() const {
  if (!unsent.empty())
    return false;
  return std::all_of(sums.begin(), sums.end(),
                     [](const Sum &sum) { return sum.done; });
}

void Progress::startRound() {
  std::fill(roundIn.begin(), roundIn.end(), 0);
  for (const auto &[sequence, sum] : unsent) {
    if (sequence - firstUnsent >= kSumBits)
      break;
    setBit(roundIn, sequence - firstUnsent);
  }
  for (int64_t i = 0; i < std::min<int64_t>(onWire.size(), kChunkBits); ++i)
    if (onWire[i].here)
      setBit(roundIn, kSumBits + i);
  roundIn.back() = idleHere() ? kIdle : 0;
  MPI_Iallreduce(roundIn.data(), roundOut.data(), kRoundWords, MPI_UINT64_T,
                 MPI_BAND, roundComm, &round);
}

bool Progress::applyRound() {
  // Every rank computes the same from the same bits: the chunks every rank
  // has received leave the window...
  bool changedAnything = false;
  for (int64_t i = 0; i < std::min<int64_t>(onWire.size(), kChunkBits); ++i)
    if (bit(roundOut, kSumBits + i) && !onWire[i].everywhere) {
      onWire[i].everywhere = true;
      bytesOnWire -= onWire[i].bytes;
      changedAnything = true;
    }
  while (!onWire.empty() && onWire.front().everywhere) {
    onWire.pop_front();
    ++firstOnWire;
  }
  busyElsewhere = roundOut.back() != kIdle;
  // ... and of the sums every rank has started, those needed first fill
  // it (a sum's remaining chunks wait for a later round if it is full).
  std::vector<Sum *> ready;
  for (int64_t i = 0; i < kSumBits; ++i)
    if (bit(roundOut, i))
      ready.push_back(unsent.at(firstUnsent + i));
  std::stable_sort(ready.begin(), ready.end(),
                   [](Sum *a, Sum *b) { return a->priority < b->priority; });
  for (Sum *sum : ready) {
    while (sum->nextToSend < sum->chunks.size()) {
      int64_t bytes =
          sum->chunks[sum->nextToSend].count * int64_t(sizeof(float));
      if ((bytesOnWire > 0 && bytesOnWire + bytes > windowBytes) ||
          static_cast<int64_t>(onWire.size()) >= kChunkBits)
        return true;
      sendChunk(*sum);
      changedAnything = true;
    }
    unsent.erase(sum->sequence);
    sentAhead.insert(sum->sequence);
    while (sentAhead.erase(firstUnsent))
      ++firstUnsent;
  }
  return changedAnything;
}

/// Tests what is on the wire and runs rounds while any rank has a sum to
/// send or on the wire; sleeps 10 us while the step waits (its cores are
/// idle then: each of MPI's rounds of a sum is taken at once; a sum of 2
/// floats took 390 us between two ranks on one machine at 50 us, 90 us at
/// 10), 50 us after a round or a test that changed something, twice as
/// long after one that did not, up to 800 us (each test costs a round of
/// MPI's progress engine on the compute's cores). Sleeps until a sum starts
/// when every rank is idle. Every rank sees the same rounds, so all stop
/// together.
void Progress::run() {
  // Sleeps as short as asked (the default slack adds 50 us to each).
  prctl(PR_SET_TIMERSLACK, 1000UL);
  std::unique_lock<std::mutex> lock(mutex);
  auto pause = std::chrono::microseconds(50);
  while (true) {
    bool progressed = testChunks() || nextSequence != startsSeen;
    startsSeen = nextSequence;
    if (round != MPI_REQUEST_NULL) {
      int flag = 0;
      MPI_Test(&round, &flag, MPI_STATUS_IGNORE);
      if (flag)
        progressed = applyRound() || progressed;
    }
    bool busy = busyElsewhere || !idleHere();
    if (agreed && round == MPI_REQUEST_NULL && busy)
      startRound();
    if (!busy && round == MPI_REQUEST_NULL) {
      if (stopping)
        return;
      changed.wait(lock);
      pause = std::chrono::microseconds(50);
      continue;
    }
    // Sums waiting for a round to send them are waited for soon.
    pause = waiting ? std::chrono::microseconds(10)
            : progressed || !unsent.empty()
                ? std::chrono::microseconds(50)
                : std::min(2 * pause, std::chrono::microseconds(800));
    changed.wait_for(lock, pause);
  }
}
