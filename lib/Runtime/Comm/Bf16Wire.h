//===- Bf16Wire.h - gradient sums sent as bf16 ------------------*- C++ -*-===//
//
// A gradient whose values its format puts on bf16's grid (a weight gradient
// rounded to bf16, fp8 or int8 at its exponent: precision::bf16HoldsExactly)
// crosses the network as bf16 codes, half the bytes of fp32 and without
// losing a bit. The sum itself is MPI's reduction with the operation below:
// each step adds two codes in fp32 and rounds the result to bf16 (to nearest
// even), so that on two ranks the sum is rounded once; with more, once per
// step of MPI's reduction.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_COMM_BF16WIRE_H
#define DLC_LIB_RUNTIME_COMM_BF16WIRE_H

#include <mpi.h>

#include <cstdint>

namespace dlc::rt::comm::detail {

/// `n` floats as bf16 codes, rounded to nearest even; returns how many were
/// not on bf16's grid (0 where the caller's format promised it).
int64_t packBf16(const float *x, uint16_t *codes, int64_t n);
/// The codes' values times `scale` into `x`.
void unpackBf16(const uint16_t *codes, float *x, int64_t n, float scale);
/// MPI's sum of bf16 codes (on MPI_UINT16_T), made at the first call; call
/// freeBf16Sum() before MPI_Finalize.
MPI_Op bf16Sum();
void freeBf16Sum();

} // namespace dlc::rt::comm::detail

#endif // DLC_LIB_RUNTIME_COMM_BF16WIRE_H
