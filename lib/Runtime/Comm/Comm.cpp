//===- Comm.cpp - every MPI call the runtime makes ------------------------===//

#include "Comm.h"

#include <mpi.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

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
} // namespace

comm::World comm::initialize(int &argc, char **&argv,
                             const int64_t *currentStep) {
  World world;
  world.mpi = launchedByMpi();
  if (!world.mpi)
    return world;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  worldRank = world.rank;
  stepOfErrors = currentStep;
  MPI_Errhandler handler;
  MPI_Comm_create_errhandler(reportMpiError, &handler);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, handler);
  return world;
}

void comm::finalize(const World &world) {
  if (world.mpi)
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

comm::Request comm::startSum(float *data, int64_t count) {
  Request request;
  if (!active())
    return request;
  auto *handle = new MPI_Request;
  MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_FLOAT,
                 MPI_SUM, MPI_COMM_WORLD, handle);
  request.handle = handle;
  return request;
}

void comm::wait(Request &request) {
  if (!request.handle)
    return;
  auto *handle = static_cast<MPI_Request *>(request.handle);
  MPI_Wait(handle, MPI_STATUS_IGNORE);
  delete handle;
  request.handle = nullptr;
}
