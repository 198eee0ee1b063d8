//===- Backend.h - device and communication services ------------*- C++ -*-===//
//
// What the trainer needs from a backend besides kernels: a context, the
// arena's memory, copies between host and backend memory. The CPU backend's
// "device" memory is host memory. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_BACKEND_H
#define DLC_RUNTIME_BACKEND_H

#include "dlc/Runtime/Hyperparameters.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace dlc::rt {

namespace precision {
struct Statistics;
struct TensorFormat;
} // namespace precision

struct Context;

/// Called by sgdUpdate with a parameter and its (rank-averaged) gradient,
/// both in backend memory, just before the update.
using GradientObserver =
    std::function<void(const float *param, const float *grad, int64_t n)>;

/// Name shown in the trainer's banner, e.g. "cpu (OpenBLAS, 2 threads)".
const char *backendName();

/// `threads` <= 0 keeps the library default. With `worldSize` > 1, MPI is
/// initialised and collectives go over MPI_COMM_WORLD.
Context *createContext(int threads, int worldSize);
void destroyContext(Context *ctx);

/// Zero-filled backend memory; nullptr when it cannot be had.
char *allocateArena(Context &ctx, int64_t bytes);
void freeArena(Context &ctx, char *arena);

void copyToBackend(Context &ctx, void *dst, const void *src, int64_t bytes);
void copyToHost(Context &ctx, void *dst, const void *src, int64_t bytes);
/// The bytes of the one workspace the backend keeps for library calls that
/// need more than the compiler planned (on the CPU: oneDNN on another CPU
/// than the compiling one), at most so far; 0 when every byte was planned.
int64_t libraryWorkspaceBytes();
/// Whether the host reads backend memory directly (the CPU backend), so
/// that nothing needs a host copy of it.
bool hostReadsBackendMemory();
/// Waits until every call issued so far has finished.
void synchronize(Context &ctx);

/// Runs one training step: `step` issues the compiled @train_step's calls.
/// `replayable` says nothing on the host needs to see inside this step (no
/// gradient observer): the CUDA backend then records the calls once, as a
/// CUDA graph, and replays the record from then on; otherwise, and on the
/// CPU, the calls run as they are issued.
void runTrainStep(Context &ctx, const std::function<void()> &step,
                  bool replayable);

/// The next step's inputs travel through one batch stage per context. The
/// trainer writes a batch into the stage's host memory while the step
/// before runs and sends it (CUDA: pinned memory, copied on a second stream
/// into device memory beside the arena); the step then takes it into the
/// arena in the step's own order. createBatchStage returns the host memory.
char *createBatchStage(Context &ctx, int64_t bytes);
/// Waits until the stage's host memory may be written again.
void awaitBatchStage(Context &ctx);
/// Starts copying the stage's host memory to the backend; returns at once.
void sendBatchStage(Context &ctx);
/// In the order of the step's calls: copies `bytes` at `offset` of the
/// batch last sent to `dst`, backend memory.
void takeBatchStage(Context &ctx, int64_t offset, void *dst, int64_t bytes);

/// The device memory this process has taken beyond the CUDA context itself
/// (arena, batch stage, library handles and their workspaces, captured
/// graphs), at most so far; -1 on the CPU, whose measure is the process's
/// peak RSS.
int64_t peakDeviceBytes(Context &ctx);

/// Whether each convolution's algorithm is chosen by timing the library's
/// candidates when it first runs (cuDNN's find) rather than from the
/// library's heuristics (the default); no effect on the CPU.
void setMeasuredConvolutions(Context &ctx, bool measured);

/// Averages gradients with NCCL, GPU memory to GPU memory, instead of
/// through the host over MPI (--comm=nccl; on one rank too, as a check).
/// Throws where the backend has no NCCL (the CPU).
void useNccl(Context &ctx);

/// The key of this step's random numbers (dropout masks).
void setRandomKey(Context &ctx, uint64_t seed, int rank, uint64_t step);

/// What the optimizer updates of the next steps use.
void setHyperparameters(Context &ctx, const Hyperparameters &hyper);

/// Installs (or, with an empty function, removes) the gradient observer.
void setGradientObserver(Context &ctx, GradientObserver observer);

/// Where recordStatistics adds the values of the steps to come, a record
/// per slot of dlc_model.statistics; null: nowhere (not gathering).
void setStatistics(Context &ctx, std::vector<precision::Statistics> *table);

/// What roundToFormat rounds each slot of dlc_model.precision to in the
/// steps to come (the trainer starts from the compiled plan).
void setTensorFormats(Context &ctx,
                      const std::vector<precision::TensorFormat> &formats);
/// Which slots of dlc_model.precision hold weight gradients: under mpirun
/// an average of gradients that roundToFormat last rounded to formats on
/// bf16's grid crosses the network as bf16.
void setWeightGradientSlots(Context &ctx, const std::vector<bool> &slots);
/// Which slots roundToFormat rounds stochastically (./trainer
/// --rounding=stochastic), each element with random bits of the step's key,
/// the slot and its index; the others to nearest, ties to even.
void setStochasticRoundingSlots(Context &ctx, const std::vector<bool> &slots);
/// Per slot, how many values roundToFormat saturated (past the format's
/// largest) since the last call; the counts start again from zero. Call
/// between steps.
std::vector<int64_t> takeOverflows(Context &ctx);

} // namespace dlc::rt

#endif // DLC_RUNTIME_BACKEND_H
