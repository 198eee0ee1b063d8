//===- Error.h - trainer errors ---------------------------------*- C++ -*-===//
//
// The trainer reports bad input (flags, data files) by throwing Error; main()
// prints the message and exits non-zero.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_ERROR_H
#define DLC_RUNTIME_ERROR_H

#include <stdexcept>
#include <string>

namespace dlc::rt {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_ERROR_H
