//===- CudaAverages.cu - gradient averages on the CUDA backend ------------===//
//
// The mean over ranks of a gradient in device memory, two ways.
//
// Over MPI (the default), the seed's pipeline: the gradient goes to pinned
// host memory in chunks on a copy stream of its own, each chunk's sum
// starts as soon as that chunk is on the host (the communication module's
// thread scales it into the mean), and each chunk goes back on a third
// stream as soon as its sum is in: the device-to-host copy of chunk k+1,
// MPI on chunk k and the host-to-device copy of chunk k-1 at once. A thread
// of this file's own moves each chunk from stage to stage, in the order
// the averages started (the same on every rank, as MPI needs). The compute
// stream never waits for the host: a wait makes it wait, on the device,
// for the average's last copy back, once the host has queued that copy.
//
// Over NCCL (--comm=nccl): ncclAllReduce with ncclAvg, in place, on a
// stream of its own that first waits for the gradient; a wait makes the
// compute stream wait for it. NCCL is loaded when asked for, so that a
// trainer that does not use it runs where it is not installed.
//
//===----------------------------------------------------------------------===//

#include "Comm/Comm.h"
#include "CudaContext.h"
#include "Trace.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <dlfcn.h>
#include <memory>
#include <mutex>
#include <thread>

#if DLC_HAVE_NCCL
#include <nccl.h>
#endif

namespace dlc::rt {

/// An average in the pipeline over MPI.
struct HostAverage {
  float *device = nullptr, *host = nullptr;
  int64_t count = 0, chunkFloats = 0, priority = 0;
  /// Per chunk: its copy to the host done (on the copy-out stream), and its
  /// sum.
  std::vector<cudaEvent_t> copiedOut;
  std::vector<comm::Request> sums;
  size_t nextToSum = 0, nextToReturn = 0;
  /// After the last chunk's copy back (on the copy-in stream).
  cudaEvent_t copiedBack = nullptr;
  bool returned = false;

  size_t chunks() const { return copiedOut.size(); }
  int64_t at(size_t chunk) const { return int64_t(chunk) * chunkFloats; }
  int64_t floatsOf(size_t chunk) const {
    return std::min(chunkFloats, count - at(chunk));
  }
};

namespace {
cudaEvent_t newEvent() {
  cudaEvent_t event = nullptr;
  check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming),
        "creating an event");
  return event;
}
} // namespace

/// The pipeline's streams, pinned buffers and thread.
class HostPipeline {
public:
  explicit HostPipeline(int worldSize) : scale(1.0f / float(worldSize)) {
    check(cudaGetDevice(&device), "the current GPU");
    check(cudaStreamCreateWithFlags(&copyOut, cudaStreamNonBlocking),
          "creating the copy-out stream");
    check(cudaStreamCreateWithFlags(&copyIn, cudaStreamNonBlocking),
          "creating the copy-in stream");
    thread = std::thread([this] { run(); });
  }
  ~HostPipeline() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    thread.join();
    for (auto &[gradient, buffer] : pinned)
      cudaFreeHost(buffer.first);
    cudaStreamDestroy(copyOut);
    cudaStreamDestroy(copyIn);
  }

  std::shared_ptr<HostAverage> start(Context &ctx, float *x, int64_t n,
                                     int64_t priority) {
    auto average = std::make_shared<HostAverage>();
    average->device = x;
    average->host = pinnedFor(x, n);
    average->count = n;
    average->priority = priority;
    average->chunkFloats = std::max<int64_t>(comm::chunkFloats(), 1);
    // The chunks leave once the compute stream has made the gradient.
    cudaEvent_t made = newEvent();
    check(cudaEventRecord(made, ctx.stream), "marking a gradient");
    check(cudaStreamWaitEvent(copyOut, made), "ordering a copy");
    cudaEventDestroy(made);
    for (int64_t at = 0; at < n; at += average->chunkFloats) {
      int64_t floats = std::min(average->chunkFloats, n - at);
      check(cudaMemcpyAsync(average->host + at, x + at, floats * sizeof(float),
                            cudaMemcpyDeviceToHost, copyOut),
            "copying a gradient chunk to the host");
      cudaEvent_t copied = newEvent();
      check(cudaEventRecord(copied, copyOut), "marking a chunk");
      average->copiedOut.push_back(copied);
    }
    average->sums.resize(average->chunks());
    {
      std::lock_guard<std::mutex> lock(mutex);
      queue.push_back(average);
    }
    changed.notify_all();
    return average;
  }

  void wait(Context &ctx, HostAverage &average) {
    double begin = trace::now();
    auto since = std::chrono::steady_clock::now();
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return average.returned || !failure.empty(); });
      if (!failure.empty())
        throw Error(failure);
    }
    check(cudaStreamWaitEvent(ctx.stream, average.copiedBack),
          "waiting for an average");
    cudaEventDestroy(average.copiedBack);
    comm::countBlocked(begin, std::chrono::duration<double>(
                                  std::chrono::steady_clock::now() - since)
                                  .count());
  }

private:
  /// The pinned host copy of the gradient at `x`, made once and kept.
  float *pinnedFor(float *x, int64_t n) {
    auto &[buffer, floats] = pinned[x];
    if (floats < n) {
      if (buffer)
        check(cudaFreeHost(buffer), "freeing pinned memory");
      check(cudaHostAlloc(reinterpret_cast<void **>(&buffer), n * sizeof(float),
                          cudaHostAllocDefault),
            "allocating pinned memory for a gradient");
      floats = n;
    }
    return buffer;
  }

  /// Starts the sums of the chunks on the host, in order; whether any
  /// started.
  bool startSums() {
    bool progressed = false;
    for (const std::shared_ptr<HostAverage> &average : queue) {
      while (average->nextToSum < average->chunks()) {
        size_t chunk = average->nextToSum;
        cudaError_t status = cudaEventQuery(average->copiedOut[chunk]);
        if (status == cudaErrorNotReady)
          return progressed;
        check(status, "copying a gradient chunk to the host");
        cudaEventDestroy(average->copiedOut[chunk]);
        average->sums[chunk] =
            comm::startSum(average->host + average->at(chunk),
                           average->floatsOf(chunk), scale, average->priority);
        ++average->nextToSum;
        progressed = true;
      }
    }
    return progressed;
  }

  /// Sends back each chunk whose mean is in, in order, and marks each
  /// average whose last chunk is on its way; whether any went.
  bool returnMeans() {
    bool progressed = false;
    while (!queue.empty()) {
      HostAverage &average = *queue.front();
      while (average.nextToReturn < average.nextToSum &&
             comm::test(average.sums[average.nextToReturn])) {
        size_t chunk = average.nextToReturn++;
        check(cudaMemcpyAsync(average.device + average.at(chunk),
                              average.host + average.at(chunk),
                              average.floatsOf(chunk) * sizeof(float),
                              cudaMemcpyHostToDevice, copyIn),
              "copying an average back to the GPU");
        progressed = true;
      }
      if (average.nextToReturn < average.chunks())
        return progressed;
      average.copiedBack = newEvent();
      check(cudaEventRecord(average.copiedBack, copyIn), "marking an average");
      average.returned = true;
      queue.pop_front();
      changed.notify_all();
      progressed = true;
    }
    return progressed;
  }

  void run() {
    cudaSetDevice(device);
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      changed.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty())
        return;
      bool progressed = false;
      try {
        progressed = startSums() | returnMeans();
      } catch (const Error &error) {
        failure = error.what();
        changed.notify_all();
        return;
      }
      if (!progressed)
        changed.wait_for(lock, std::chrono::microseconds(20));
    }
  }

  float scale;
  int device = 0;
  cudaStream_t copyOut = nullptr, copyIn = nullptr;
  /// Pinned host memory by gradient: the buffer and its floats.
  std::unordered_map<const float *, std::pair<float *, int64_t>> pinned;
  std::mutex mutex;
  std::condition_variable changed;
  /// Averages not yet sent back whole, in the order they started.
  std::deque<std::shared_ptr<HostAverage>> queue;
  std::string failure;
  bool stopping = false;
  std::thread thread;
};

#if DLC_HAVE_NCCL
/// NCCL's entry points, from the library loaded at run time.
class NcclAverages {
public:
  explicit NcclAverages(int worldSize, int rank) {
    library = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!library)
      throw Error(
          std::string("--comm=nccl: cannot load NCCL (libnccl.so.2): ") +
          dlerror());
    load(getUniqueId, "ncclGetUniqueId");
    load(commInitRank, "ncclCommInitRank");
    load(commDestroy, "ncclCommDestroy");
    load(allReduce, "ncclAllReduce");
    load(errorString, "ncclGetErrorString");
    ncclUniqueId id;
    if (rank == 0)
      checkNccl(getUniqueId(&id), "making the communicator's id");
    comm::broadcast(&id, sizeof(id), 0);
    checkNccl(commInitRank(&communicator, worldSize, id, rank),
              "joining the communicator");
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking),
          "creating NCCL's stream");
  }
  ~NcclAverages() {
    cudaStreamSynchronize(stream);
    commDestroy(communicator);
    cudaStreamDestroy(stream);
    dlclose(library);
  }

  cudaEvent_t start(Context &ctx, float *x, int64_t n) {
    cudaEvent_t made = newEvent();
    check(cudaEventRecord(made, ctx.stream), "marking a gradient");
    check(cudaStreamWaitEvent(stream, made), "ordering an allreduce");
    cudaEventDestroy(made);
    checkNccl(
        allReduce(x, x, size_t(n), ncclFloat32, ncclAvg, communicator, stream),
        "ncclAllReduce");
    cudaEvent_t done = newEvent();
    check(cudaEventRecord(done, stream), "marking an allreduce");
    return done;
  }

private:
  template <typename Function> void load(Function &function, const char *name) {
    function = reinterpret_cast<Function>(dlsym(library, name));
    if (!function)
      throw Error(std::string("--comm=nccl: NCCL has no ") + name);
  }
  void checkNccl(ncclResult_t status, const char *what) {
    if (status != ncclSuccess)
      throw Error(std::string("NCCL: ") + what + ": " + errorString(status));
  }

  void *library = nullptr;
  ncclResult_t (*getUniqueId)(ncclUniqueId *) = nullptr;
  ncclResult_t (*commInitRank)(ncclComm_t *, int, ncclUniqueId, int) = nullptr;
  ncclResult_t (*commDestroy)(ncclComm_t) = nullptr;
  ncclResult_t (*allReduce)(const void *, void *, size_t, ncclDataType_t,
                            ncclRedOp_t, ncclComm_t, cudaStream_t) = nullptr;
  const char *(*errorString)(ncclResult_t) = nullptr;
  ncclComm_t communicator = nullptr;
  cudaStream_t stream = nullptr;
};
#else
class NcclAverages {
public:
  NcclAverages(int, int) {
    throw Error("--comm=nccl: this dlc was built without NCCL (nccl.h)");
  }
  cudaEvent_t start(Context &, float *, int64_t) { return nullptr; }
};
#endif

void useNccl(Context &ctx) {
  ctx.nccl = new NcclAverages(ctx.worldSize, comm::rank());
}

void destroyAverages(Context &ctx) {
  delete ctx.hostPipeline;
  delete ctx.nccl;
  ctx.hostPipeline = nullptr;
  ctx.nccl = nullptr;
}

int64_t allReduceMeanStart(Context &ctx, float *x, int64_t n,
                           int64_t priority) {
  // NCCL averages even on one rank (a check of the path: a copy).
  if (ctx.nccl)
    return ctx.pending.add({ctx.nccl->start(ctx, x, n), nullptr});
  if (ctx.worldSize == 1)
    return -1;
  if (!comm::progressesAlone()) {
    // No thread may progress MPI beside this one: copy, sum and copy back
    // within the wait.
    std::vector<float> &staging = ctx.staging[x];
    staging.resize(n);
    copyToHost(ctx, staging.data(), x, n * sizeof(float));
    Context::PendingMean mean;
    mean.request = comm::startSum(
        staging.data(), n, 1.0f / static_cast<float>(ctx.worldSize), priority);
    mean.staging = &staging;
    mean.device = x;
    return ctx.pending.add(std::move(mean));
  }
  if (!ctx.hostPipeline)
    ctx.hostPipeline = new HostPipeline(ctx.worldSize);
  Context::PendingMean mean;
  mean.host = ctx.hostPipeline->start(ctx, x, n, priority);
  return ctx.pending.add(std::move(mean));
}

void allReduceMeanWait(Context &ctx, int64_t handle) {
  if (handle < 0)
    return;
  Context::PendingMean &mean = ctx.pending[handle];
  if (mean.done) {
    check(cudaStreamWaitEvent(ctx.stream, mean.done), "waiting for NCCL");
    cudaEventDestroy(mean.done);
  } else if (mean.host) {
    ctx.hostPipeline->wait(ctx, *mean.host);
  } else {
    comm::wait(mean.request);
    copyToBackend(ctx, mean.device, mean.staging->data(),
                  mean.staging->size() * sizeof(float));
  }
  ctx.pending.forget(handle);
}

} // namespace dlc::rt
