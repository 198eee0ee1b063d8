//===- Pending.h - collectives started and not yet waited for ---*- C++ -*-===//
//
// The runtime ABI's start/wait pairs hand out integer handles. Each backend
// keeps what a started collective needs at its wait (an `Entry`) here, by
// handle, until the wait takes it. Handles count up and are never reused:
// a pipelined step's collectives stay in flight into the next step, whose
// own start before all of them are waited for.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_COMM_PENDING_H
#define DLC_RUNTIME_COMM_PENDING_H

#include "Comm.h"

#include <cstdint>
#include <unordered_map>

namespace dlc::rt::comm {

template <typename Entry> class Pending {
public:
  /// Stores `entry`; returns its handle.
  int64_t add(Entry entry) {
    entries.emplace(next, std::move(entry));
    return next++;
  }
  Entry &operator[](int64_t handle) { return entries.at(handle); }
  /// Call after the wait: forgets the handle's entry.
  void forget(int64_t handle) { entries.erase(handle); }

private:
  std::unordered_map<int64_t, Entry> entries;
  int64_t next = 0;
};

} // namespace dlc::rt::comm

#endif // DLC_RUNTIME_COMM_PENDING_H
