//===- CudaStep.cu - CUDA backend: running the training step -------------===//
//
// A compiled training step is static: the same calls on the same addresses
// every time. After one step has run call by call (which also builds
// cuDNN's plans), the next replayable step is captured as a CUDA graph and
// every later one replays it: one launch instead of hundreds. What changes
// between steps (the learning rate, Adam's bias corrections, the dropout
// key) reaches the kernels through StepScalars in device memory, copied in
// before each step. The next batch is copied from pinned memory on a second
// stream while the step runs.
//
//===----------------------------------------------------------------------===//

#include "CudaContext.h"
#include "dlc/Runtime/Backend.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

namespace dlc::rt {

struct StepRunner {
  /// The step's scalars: written by the host (pinned), read by the kernels.
  StepScalars *hostScalars = nullptr;
  StepScalars *deviceScalars = nullptr;
  /// Recorded when the last copy of hostScalars has been made.
  cudaEvent_t scalarsCopied = nullptr;

  cudaGraphExec_t graph = nullptr;
  /// A capture failed once (the reason was printed): no more tries.
  bool captureFailed = false;
  int64_t stepsCallByCall = 0;

  /// The batch stage: pinned host memory, its device copy, the stream that
  /// copies it, and the events ordering that stream with the step's.
  char *stageHost = nullptr;
  char *stageDevice = nullptr;
  int64_t stageBytes = 0;
  cudaStream_t copyStream = nullptr;
  cudaEvent_t batchSent = nullptr, batchTaken = nullptr;

  /// Free device memory once the CUDA context existed, and the most taken
  /// since.
  size_t baselineFree = 0;
  int64_t peakBytes = 0;
};

namespace {

void notePeak(StepRunner &runner) {
  size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess)
    return;
  runner.peakBytes =
      std::max(runner.peakBytes, static_cast<int64_t>(runner.baselineFree) -
                                     static_cast<int64_t>(free));
}

/// Copies this step's scalars to the device, ahead of the step's calls.
void sendScalars(Context &ctx) {
  StepRunner &runner = *ctx.steps;
  // The host copy is read by the last step's copy until that has run.
  check(cudaEventSynchronize(runner.scalarsCopied), "waiting for a copy");
  StepScalars &s = *runner.hostScalars;
  s.lr = ctx.hyper.lr;
  s.momentum = ctx.hyper.momentum;
  s.weightDecay = ctx.hyper.weightDecay;
  s.adam[0] = adamStep(ctx.hyper, /*decoupled=*/false);
  s.adam[1] = adamStep(ctx.hyper, /*decoupled=*/true);
  s.randomKey = ctx.randomKey;
  check(cudaMemcpyAsync(runner.deviceScalars, runner.hostScalars,
                        sizeof(StepScalars), cudaMemcpyHostToDevice,
                        ctx.stream),
        "copying the step's scalars");
  check(cudaEventRecord(runner.scalarsCopied, ctx.stream),
        "recording an event");
}

/// Records `step`'s calls as a graph in runner.graph. Nothing runs while
/// capturing. On failure says why, once, and leaves runner.graph null.
void capture(Context &ctx, const std::function<void()> &step) {
  StepRunner &runner = *ctx.steps;
  check(cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeThreadLocal),
        "starting the step's capture");
  std::string failure;
  try {
    step();
  } catch (const std::exception &error) {
    failure = error.what();
  }
  cudaGraph_t graph = nullptr;
  cudaError_t ended = cudaStreamEndCapture(ctx.stream, &graph);
  if (failure.empty() && ended != cudaSuccess)
    failure = cudaGetErrorString(ended);
  if (failure.empty()) {
    cudaError_t made = cudaGraphInstantiate(&runner.graph, graph, 0);
    if (made != cudaSuccess) {
      failure = cudaGetErrorString(made);
      runner.graph = nullptr;
    }
  }
  if (graph)
    cudaGraphDestroy(graph);
  if (failure.empty())
    return;
  // A failed capture's error is not sticky: clear it and go on call by call.
  cudaGetLastError();
  runner.captureFailed = true;
  std::fprintf(stderr,
               "warning: the training step could not be captured as a CUDA "
               "graph (%s); running it call by call\n",
               failure.c_str());
}
} // namespace

void createStepRunner(Context &ctx) {
  auto *runner = new StepRunner;
  ctx.steps = runner;
  // Makes the CUDA context, so that the baseline leaves it out.
  check(cudaFree(nullptr), "starting CUDA");
  size_t total = 0;
  check(cudaMemGetInfo(&runner->baselineFree, &total),
        "reading the free device memory");
  check(cudaMallocHost(&runner->hostScalars, sizeof(StepScalars)),
        "allocating pinned memory");
  check(cudaMalloc(&runner->deviceScalars, sizeof(StepScalars)),
        "allocating the step's scalars");
  check(cudaMemset(runner->deviceScalars, 0, sizeof(StepScalars)),
        "clearing the step's scalars");
  check(
      cudaEventCreateWithFlags(&runner->scalarsCopied, cudaEventDisableTiming),
      "creating an event");
  ctx.scalars = runner->deviceScalars;
}

void destroyStepRunner(Context &ctx) {
  StepRunner *runner = ctx.steps;
  if (!runner)
    return;
  if (runner->graph)
    cudaGraphExecDestroy(runner->graph);
  if (runner->copyStream) {
    cudaStreamSynchronize(runner->copyStream);
    cudaStreamDestroy(runner->copyStream);
    cudaEventDestroy(runner->batchSent);
    cudaEventDestroy(runner->batchTaken);
    cudaFreeHost(runner->stageHost);
    cudaFree(runner->stageDevice);
  }
  cudaEventDestroy(runner->scalarsCopied);
  cudaFreeHost(runner->hostScalars);
  cudaFree(runner->deviceScalars);
  delete runner;
  ctx.steps = nullptr;
}

void runTrainStep(Context &ctx, const std::function<void()> &step,
                  bool replayable) {
  StepRunner &runner = *ctx.steps;
  sendScalars(ctx);
  // Gradient averages (host-staged, or NCCL's events) and the profile's
  // timers wait inside the step; such steps cannot be recorded. The first
  // step runs call by call: it builds cuDNN's plans, which a capture must
  // not.
  bool record = replayable && !runner.captureFailed && ctx.worldSize == 1 &&
                !ctx.nccl && !ctx.profile && runner.stepsCallByCall > 0;
  if (record && !runner.graph)
    capture(ctx, step);
  if (record && runner.graph) {
    check(cudaGraphLaunch(runner.graph, ctx.stream),
          "launching the step's CUDA graph");
  } else {
    step();
    ++runner.stepsCallByCall;
  }
  notePeak(runner);
}

char *createBatchStage(Context &ctx, int64_t bytes) {
  StepRunner &runner = *ctx.steps;
  if (runner.copyStream)
    throw Error("CUDA: the batch stage exists already");
  check(cudaStreamCreateWithFlags(&runner.copyStream, cudaStreamNonBlocking),
        "creating the copy stream");
  check(cudaEventCreateWithFlags(&runner.batchSent, cudaEventDisableTiming),
        "creating an event");
  check(cudaEventCreateWithFlags(&runner.batchTaken, cudaEventDisableTiming),
        "creating an event");
  check(cudaMallocHost(&runner.stageHost, std::max<int64_t>(bytes, 1)),
        "allocating the batch's pinned memory");
  check(cudaMalloc(&runner.stageDevice, std::max<int64_t>(bytes, 1)),
        "allocating the batch's device memory");
  runner.stageBytes = bytes;
  return runner.stageHost;
}

void awaitBatchStage(Context &ctx) {
  check(cudaEventSynchronize(ctx.steps->batchSent),
        "waiting for the batch's copy");
}

void sendBatchStage(Context &ctx) {
  StepRunner &runner = *ctx.steps;
  // The device copy is free once the step before has taken its batch.
  check(cudaStreamWaitEvent(runner.copyStream, runner.batchTaken, 0),
        "ordering the batch's copy");
  check(cudaMemcpyAsync(runner.stageDevice, runner.stageHost, runner.stageBytes,
                        cudaMemcpyHostToDevice, runner.copyStream),
        "copying the next batch");
  check(cudaEventRecord(runner.batchSent, runner.copyStream),
        "recording an event");
}

void takeBatchStage(Context &ctx, int64_t offset, void *dst, int64_t bytes) {
  StepRunner &runner = *ctx.steps;
  check(cudaStreamWaitEvent(ctx.stream, runner.batchSent, 0),
        "ordering the step after its batch's copy");
  check(cudaMemcpyAsync(dst, runner.stageDevice + offset, bytes,
                        cudaMemcpyDeviceToDevice, ctx.stream),
        "taking the batch");
  check(cudaEventRecord(runner.batchTaken, ctx.stream), "recording an event");
}

void setMeasuredConvolutions(Context &ctx, bool measured) {
  ctx.measureConvolutions = measured;
}

int64_t peakDeviceBytes(Context &ctx) {
  notePeak(*ctx.steps);
  return ctx.steps->peakBytes;
}

} // namespace dlc::rt
