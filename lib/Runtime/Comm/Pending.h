//===- Pending.h - collectives started and not yet waited for ---*- C++ -*-===//
//
// The runtime ABI's start/wait pairs hand out integer handles. Each backend
// keeps what a started collective needs at its wait (an `Entry` with a
// `comm::Request request` member) here. Handles count up within a step; once
// every started collective has been waited for, the list starts over.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_COMM_PENDING_H
#define DLC_RUNTIME_COMM_PENDING_H

#include "Comm.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace dlc::rt::comm {

template <typename Entry> class Pending {
public:
  /// Stores `entry`; returns its handle.
  int64_t add(Entry entry) {
    entries.push_back(std::move(entry));
    return static_cast<int64_t>(entries.size()) - 1;
  }
  Entry &operator[](int64_t handle) { return entries[handle]; }
  /// Call after a wait: forgets every entry once none is in flight.
  void forgetIfAllDone() {
    if (std::all_of(entries.begin(), entries.end(), [](const Entry &e) {
          return e.request.handle == nullptr;
        }))
      entries.clear();
  }

private:
  std::vector<Entry> entries;
};

} // namespace dlc::rt::comm

#endif // DLC_RUNTIME_COMM_PENDING_H
