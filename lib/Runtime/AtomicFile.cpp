//===- AtomicFile.cpp - files that appear whole or not at all -------------===//

#include "AtomicFile.h"
#include "Error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace dlc::rt;

namespace {
std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void writeAll(int fd, const std::string &bytes) {
  const char *data = bytes.data();
  size_t left = bytes.size();
  while (left) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw errno;
    data += n;
    left -= n;
  }
}
} // namespace

void dlc::rt::writeFileAtomically(const std::string &path,
                                  const std::string &bytes) {
  std::string pattern = path + ".tmp.XXXXXX";
  std::vector<char> temporary(pattern.begin(), pattern.end());
  temporary.push_back('\0');
  int fd = mkstemp(temporary.data());
  if (fd < 0)
    throw Error("cannot write '" + path + "': " + std::strerror(errno));
  try {
    // mkstemp makes the file private; give it the usual permissions.
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0)
      throw errno;
    writeAll(fd, bytes);
    if (fsync(fd) != 0)
      throw errno;
  } catch (int error) {
    ::close(fd);
    std::remove(temporary.data());
    throw Error("cannot write '" + path + "': " + std::strerror(error));
  }
  ::close(fd);
  if (std::rename(temporary.data(), path.c_str()) != 0) {
    int error = errno;
    std::remove(temporary.data());
    throw Error("cannot write '" + path + "': " + std::strerror(error));
  }
  // Make the rename itself durable.
  int dir = ::open(directoryOf(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    fsync(dir);
    ::close(dir);
  }
}
