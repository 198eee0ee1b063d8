//===- NarrowSum.h - a gradient average sent in the gradient's format -*- C++ -*-===//
//
// A chunk of gradients that roundToFormat put in a narrow format (bf16, fp16,
// fp8, int8 or int16 at an exponent every rank shares) crosses the network
// in that format's codes, with the sum taken in fp32 and the mean rounded
// once: the chunk is split in one segment per rank; each rank sends every
// other its segment's codes (phase 1), sums the codes it received for its
// own segment in fp32, in rank order, rounds their mean to the format and
// sends that to every other rank (phase 2). Each rank sends 2 (N - 1) / N of
// the chunk's codes, as a ring allreduce does, so the bytes on the wire
// shrink with the format: 4x for 8 bits. Messages are point to point,
// tagged by the chunk's place in the order chunks were sent (the same on
// every rank), so that neither phase needs the ranks to start collectives
// in the same order. The mean of values a format holds at its exponent is
// within its range: it does not saturate.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_COMM_NARROWSUM_H
#define DLC_LIB_RUNTIME_COMM_NARROWSUM_H

#include "dlc/Runtime/Precision/Formats.h"

#include <mpi.h>

#include <cstdint>
#include <vector>

namespace dlc::rt::comm::detail {

class NarrowSum {
public:
  /// The mean over `comm`'s ranks of the `count` floats at `data`, values
  /// of `format`, times `scale` (1 / ranks: the mean); `tag` tells this
  /// chunk's messages from the others'. Starts phase 1.
  NarrowSum(precision::TensorFormat format, float *data, int64_t count,
            float scale, int64_t tag, MPI_Comm comm);
  /// Whether the mean is in `data`; moves on to phase 2 when phase 1 is
  /// done. Drives MPI's progress.
  bool test();
  /// Completes both phases.
  void wait();

private:
  void startPhase(int phase);
  /// Phase 1 done: this rank's segment summed, its mean rounded and sent.
  void averageSegment();
  int64_t begin(int rank) const;
  int64_t end(int rank) const;

  precision::TensorFormat format;
  float *data;
  int64_t count, segment, codeBytes;
  float scale;
  int tag, rank = 0, ranks = 1, phase = 0;
  MPI_Comm comm;
  /// Phase 1: every value's codes (phase 2 receives the means into them);
  /// the codes of this rank's segment from every rank.
  std::vector<uint8_t> codes, received;
  std::vector<MPI_Request> requests;
};

} // namespace dlc::rt::comm::detail

#endif // DLC_LIB_RUNTIME_COMM_NARROWSUM_H
