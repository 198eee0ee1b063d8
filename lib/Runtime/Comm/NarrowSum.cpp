//===- NarrowSum.cpp - a gradient average sent in the gradient's format ---===//

#include "NarrowSum.h"

#include <algorithm>

using namespace dlc::rt;
using namespace dlc::rt::comm::detail;

NarrowSum::NarrowSum(precision::TensorFormat format, float *data,
                     int64_t count, float scale, int64_t tag, MPI_Comm comm)
    : format(format), data(data), count(count),
      codeBytes(precision::info(format.format).bits / 8), scale(scale),
      // Two tags a chunk, below MPI's guaranteed bound of 32767.
      tag(static_cast<int>(tag % 16000) * 2), comm(comm) {
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  segment = (count + ranks - 1) / ranks;
  codes.resize(count * codeBytes);
  precision::quantize(format.format, format.exponent, data, codes.data(),
                      count);
  startPhase(1);
}

int64_t NarrowSum::begin(int r) const {
  return std::min(count, r * segment);
}
int64_t NarrowSum::end(int r) const {
  return std::min(count, (r + 1) * segment);
}

void NarrowSum::startPhase(int next) {
  phase = next;
  requests.clear();
  int64_t mine = end(rank) - begin(rank);
  if (phase == 1)
    received.assign(ranks * mine * codeBytes, 0);
  for (int peer = 0; peer < ranks; ++peer) {
    if (peer == rank)
      continue;
    // Phase 1: the peer's segment of our codes out, our segment of its in.
    // Phase 2: our segment's mean out, the peer's segment's mean in.
    uint8_t *out = codes.data() + (phase == 1 ? begin(peer) : begin(rank)) *
                                      codeBytes;
    int64_t outCount = phase == 1 ? end(peer) - begin(peer) : mine;
    uint8_t *in = phase == 1 ? received.data() + peer * mine * codeBytes
                             : codes.data() + begin(peer) * codeBytes;
    int64_t inCount = phase == 1 ? mine : end(peer) - begin(peer);
    MPI_Request send, receive;
    MPI_Isend(out, static_cast<int>(outCount * codeBytes), MPI_BYTE, peer,
              tag + phase - 1, comm, &send);
    MPI_Irecv(in, static_cast<int>(inCount * codeBytes), MPI_BYTE, peer,
              tag + phase - 1, comm, &receive);
    requests.push_back(send);
    requests.push_back(receive);
  }
}

void NarrowSum::averageSegment() {
  int64_t first = begin(rank), mine = end(rank) - first;
  // Our own codes stand in for what we would have sent ourselves.
  std::copy_n(codes.data() + first * codeBytes, mine * codeBytes,
              received.data() + rank * mine * codeBytes);
  std::vector<float> sum(mine, 0.0f), values(mine);
  for (int r = 0; r < ranks; ++r) {
    precision::dequantize(format.format, format.exponent,
                          received.data() + r * mine * codeBytes,
                          values.data(), mine);
    for (int64_t i = 0; i < mine; ++i)
      sum[i] += values[i];
  }
  for (float &value : sum)
    value *= scale;
  precision::quantize(format.format, format.exponent, sum.data(),
                      codes.data() + first * codeBytes, mine);
  std::vector<uint8_t>().swap(received);
  startPhase(2);
}

bool NarrowSum::test() {
  if (phase == 0)
    return true;
  int done = 0;
  MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done,
              MPI_STATUSES_IGNORE);
  if (!done)
    return false;
  if (phase == 1) {
    averageSegment();
    return false;
  }
  precision::dequantize(format.format, format.exponent, codes.data(), data,
                        count);
  std::vector<uint8_t>().swap(codes);
  phase = 0;
  return true;
}

void NarrowSum::wait() {
  while (phase != 0) {
    MPI_Waitall(static_cast<int>(requests.size()), requests.data(),
                MPI_STATUSES_IGNORE);
    test();
  }
}
