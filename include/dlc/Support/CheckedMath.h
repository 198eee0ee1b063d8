//===- CheckedMath.h - size arithmetic that refuses to wrap -----*- C++ -*-===//
//
// Element counts, byte sizes and arena offsets come from untrusted files
// (ONNX dims, .npy headers, TensorProtos) and from flags (--batch). Every
// product or sum of them goes through these helpers, which report overflow
// instead of wrapping. Plain C++: the importer, the planner and the runtime
// all use it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_SUPPORT_CHECKEDMATH_H
#define DLC_SUPPORT_CHECKEDMATH_H

#include <cstdint>
#include <optional>

namespace dlc {

/// The largest tensor or arena dlc accepts, in bytes: 1 TiB. Anything larger
/// is a corrupt header or a typo in a flag, not a model that will train.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

inline std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t result;
  if (__builtin_mul_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

inline std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t result;
  if (__builtin_add_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

/// The product of `dims`; nullopt if a dim is negative or the product
/// overflows int64.
template <typename Range>
std::optional<int64_t> checkedElementCount(const Range &dims) {
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return std::nullopt;
    std::optional<int64_t> next = checkedMul(count, d);
    if (!next)
      return std::nullopt;
    count = *next;
  }
  return count;
}

/// The byte size of `dims` elements of `elementBytes` each, if it is at most
/// kMaxTensorBytes.
template <typename Range>
std::optional<int64_t> checkedByteSize(const Range &dims,
                                       int64_t elementBytes) {
  std::optional<int64_t> count = checkedElementCount(dims);
  if (!count)
    return std::nullopt;
  std::optional<int64_t> bytes = checkedMul(*count, elementBytes);
  if (!bytes || *bytes > kMaxTensorBytes)
    return std::nullopt;
  return bytes;
}

} // namespace dlc

#endif // DLC_SUPPORT_CHECKEDMATH_H
