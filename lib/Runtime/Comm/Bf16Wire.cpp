//===- Bf16Wire.cpp - gradient sums sent as bf16 --------------------------===//

#include "Bf16Wire.h"

#include <cstring>

using namespace dlc::rt::comm::detail;

namespace {
uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float valueOf(uint16_t code) {
  uint32_t bits = uint32_t(code) << 16;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

uint16_t nearestBf16(float value) {
  uint32_t bits = bitsOf(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: stays a (quiet) NaN
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

extern "C" void sumBf16Codes(void *in, void *inout, int *length,
                             MPI_Datatype *) {
  const auto *a = static_cast<const uint16_t *>(in);
  auto *b = static_cast<uint16_t *>(inout);
  for (int i = 0; i < *length; ++i)
    b[i] = nearestBf16(valueOf(a[i]) + valueOf(b[i]));
}

MPI_Op op = MPI_OP_NULL;
} // namespace

int64_t dlc::rt::comm::detail::packBf16(const float *x, uint16_t *codes,
                                        int64_t n) {
  int64_t offGrid = 0;
  for (int64_t i = 0; i < n; ++i) {
    codes[i] = nearestBf16(x[i]);
    offGrid += (bitsOf(x[i]) & 0xffffu) != 0;
  }
  return offGrid;
}

void dlc::rt::comm::detail::unpackBf16(const uint16_t *codes, float *x,
                                       int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i)
    x[i] = valueOf(codes[i]) * scale;
}

MPI_Op dlc::rt::comm::detail::bf16Sum() {
  if (op == MPI_OP_NULL)
    MPI_Op_create(sumBf16Codes, /*commute=*/1, &op);
  return op;
}

void dlc::rt::comm::detail::freeBf16Sum() {
  if (op != MPI_OP_NULL)
    MPI_Op_free(&op);
}
