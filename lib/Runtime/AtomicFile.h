//===- AtomicFile.h - files that appear whole or not at all -----*- C++ -*-===//
//
// Every file a trainer writes (--save, checkpoints, gradients) goes through
// here: the bytes go to a temporary file unique to this process in the same
// directory, are flushed to disk, and the file is renamed over the target.
// A reader sees the old file or the new one, never a mix; two processes
// writing the same path never share a temporary file.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_ATOMICFILE_H
#define DLC_RUNTIME_ATOMICFILE_H

#include <string>

namespace dlc::rt {

/// Replaces `path` with `bytes`; throws Error naming the file on failure,
/// leaving no temporary file behind.
void writeFileAtomically(const std::string &path, const std::string &bytes);

} // namespace dlc::rt

#endif // DLC_RUNTIME_ATOMICFILE_H
