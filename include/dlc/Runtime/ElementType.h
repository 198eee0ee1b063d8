//===- ElementType.h - what a tensor's elements are -------------*- C++ -*-===//
//
// Every tensor the generated program describes to the runtime (variables,
// the forward pass's inputs and outputs) says its element type, so that
// narrower formats fit the same tables. No MLIR or LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_ELEMENTTYPE_H
#define DLC_RUNTIME_ELEMENTTYPE_H

#include <cstdint>

namespace dlc::rt {

enum class ElementType : int32_t { F32, F16, BF16, I32, I8 };

constexpr int64_t elementBytes(ElementType type) {
  switch (type) {
  case ElementType::F32:
  case ElementType::I32:
    return 4;
  case ElementType::F16:
  case ElementType::BF16:
    return 2;
  case ElementType::I8:
    return 1;
  }
  return 0;
}

constexpr const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  case ElementType::I32:
    return "i32";
  case ElementType::I8:
    return "i8";
  }
  return "?";
}

} // namespace dlc::rt

#endif // DLC_RUNTIME_ELEMENTTYPE_H
