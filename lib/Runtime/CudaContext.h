//===- CudaContext.h - the CUDA backend's per-run state ---------*- C++ -*-===//
//
// Shared by the CUDA backend's files: the stream every call of the step is
// queued on, the library handles bound to it, and the status checks that
// turn a failed CUDA, cuBLAS or cuDNN call into an Error.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_CUDACONTEXT_H
#define DLC_LIB_RUNTIME_CUDACONTEXT_H

#include "BackendServices.h"
#include "Comm/Pending.h"
#include "Error.h"
#include "dlc/Runtime/Kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dlc::rt {

inline void check(cudaError_t status, const char *what) {
  if (status != cudaSuccess)
    throw Error(std::string("CUDA: ") + what + ": " +
                cudaGetErrorString(status));
}
inline void check(cublasStatus_t status, const char *what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS: ") + what + " failed with status " +
                std::to_string(static_cast<int>(status)));
}
inline void check(cudnnStatus_t status, const char *what) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw Error(std::string("cuDNN: ") + what + ": " +
                cudnnGetErrorString(status));
}

/// Threads of a block, and the blocks that give each of n elements one.
constexpr int kThreads = 256;
inline unsigned blocksFor(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

/// cuDNN's descriptors and chosen algorithms, made once per convolution or
/// pooling shape (CudaDnn.cu).
struct DnnPlans;

/// What changes from step to step and kernels read. It lives in device
/// memory, refreshed before every step, so that a captured step replays
/// with the current step's values (CudaStep.cu).
struct StepScalars {
  float lr, momentum, weightDecay;
  /// Adam's scalars, [0] for Adam and [1] for AdamW.
  AdamStep adam[2];
  uint64_t randomKey;
};

/// The step's graph, the batch stage and the device memory figure
/// (CudaStep.cu).
struct StepRunner;

/// Gradient averages over NCCL, and through the host over MPI
/// (CudaAverages.cu).
class NcclAverages;
class HostPipeline;
struct HostAverage;

struct Context : ContextBase {
  /// Every kernel, copy and library call of the step is queued here, in
  /// order.
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cudnnHandle_t dnn = nullptr;
  DnnPlans *dnnPlans = nullptr;
  /// Convolution algorithms from cuDNN's find instead of its heuristics.
  bool measureConvolutions = false;
  StepRunner *steps = nullptr;
  /// Device memory: this step's scalars.
  const StepScalars *scalars = nullptr;
  /// Gradient averages (CudaAverages.cu): over NCCL (--comm=nccl), or
  /// through the host over MPI, in a pipeline of chunks where a thread of
  /// the communication module progresses MPI, else within each wait.
  NcclAverages *nccl = nullptr;
  HostPipeline *hostPipeline = nullptr;
  /// A started average, by handle: NCCL's event, the pipeline's average,
  /// or the host copy being summed and the device buffer it returns to.
  struct PendingMean {
    cudaEvent_t done = nullptr;
    std::shared_ptr<HostAverage> host;
    comm::Request request;
    std::vector<float> *staging = nullptr;
    float *device = nullptr;
  };
  comm::Pending<PendingMean> pending;
  /// Without the pipeline: the host copy of each gradient that is averaged,
  /// by its device buffer.
  std::unordered_map<const float *, std::vector<float>> staging;
  /// DLC_CUDA_PROFILE=1: device milliseconds and calls by kind of call.
  std::map<std::string, std::pair<double, int64_t>> *profile = nullptr;
};

/// Under DLC_CUDA_PROFILE=1, times the runtime call it lives in on the
/// stream (waiting for it: a profile shows where the time goes, it does not
/// time the step); otherwise nothing.
class CallTimer {
public:
  CallTimer(Context &ctx, const char *kind) : ctx(ctx), kind(kind) {
    if (!ctx.profile)
      return;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    cudaEventRecord(start, ctx.stream);
  }
  ~CallTimer() {
    if (!ctx.profile)
      return;
    cudaEventRecord(stop, ctx.stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    auto &[total, calls] = (*ctx.profile)[kind];
    total += ms;
    ++calls;
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }

private:
  Context &ctx;
  const char *kind;
  cudaEvent_t start = nullptr, stop = nullptr;
};

/// Creates the cuDNN handle on `ctx`'s stream, and frees it with its plans.
void createDnn(Context &ctx);
void destroyDnn(Context &ctx);

/// cuDNN descriptors made on first use and kept with the context's plans
/// (CudaDnn.cu): a float NCHW tensor of n x c x h x w, and an LRN window.
cudnnTensorDescriptor_t tensorDescriptor(Context &ctx, int64_t n, int64_t c,
                                         int64_t h, int64_t w);
cudnnLRNDescriptor_t lrnDescriptor(Context &ctx, int64_t size, float alpha,
                                   float beta, float bias);

/// Pooling cuDNN takes: even padding, no dilation. The rest goes to
/// poolWindows and poolWindowsGrad (CudaPoolingWindows.cu; `x` is unused
/// by average pooling's gradient).
bool cudnnTakesPooling(const Pool2DGeometry &g);
void poolWindows(Context &ctx, const Pool2DGeometry &g, bool max,
                 const float *x, float *y);
void poolWindowsGrad(Context &ctx, const Pool2DGeometry &g, bool max,
                     const float *dy, const float *x, float *dx);

/// Frees the averages' streams, buffers and thread (after the last wait).
void destroyAverages(Context &ctx);

/// Creates the step runner (after the CUDA context exists, before anything
/// is allocated: it takes the device memory baseline), and frees it.
void createStepRunner(Context &ctx);
void destroyStepRunner(Context &ctx);

} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_CUDACONTEXT_H
