//===- Checkpoint.cpp - checkpoint files ----------------------------------===//
//
// Layout (little-endian): "DLCCKPT1", then length-prefixed fields in a fixed
// order, then a CRC-32 of everything before it.
//
//===----------------------------------------------------------------------===//

#include "Checkpoint.h"
#include "AtomicFile.h"
#include "Error.h"
#include "dlc/Runtime/Model.h"

#include <dirent.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace dlc::rt;

namespace {
constexpr char kMagic[] = "DLCCKPT1";
constexpr char kPrefix[] = "checkpoint-";
constexpr char kSuffix[] = ".dlc";

class Writer {
public:
  void u64(uint64_t value) { out.append(reinterpret_cast<char *>(&value), 8); }
  void f64(double value) { out.append(reinterpret_cast<char *>(&value), 8); }
  void bytes(const std::string &value) {
    u64(value.size());
    out += value;
  }
  std::string finish() {
    uint32_t crc = crc32(0, reinterpret_cast<const Bytef *>(out.data()),
                         out.size());
    out.append(reinterpret_cast<char *>(&crc), 4);
    return std::move(out);
  }
  std::string out = kMagic;
};

class Reader {
public:
  Reader(const std::string &data, const std::string &path)
      : data(data), path(path), at(sizeof(kMagic) - 1) {}
  uint64_t u64() {
    uint64_t value;
    std::memcpy(&value, take(8), 8);
    return value;
  }
  double f64() {
    double value;
    std::memcpy(&value, take(8), 8);
    return value;
  }
  std::string bytes() {
    uint64_t size = u64();
    return std::string(take(size), size);
  }

private:
  const char *take(uint64_t size) {
    if (size > data.size() - 4 - at)
      throw Error("checkpoint '" + path + "' is truncated");
    const char *p = data.data() + at;
    at += size;
    return p;
  }
  const std::string &data;
  const std::string &path;
  size_t at;
};

uint64_t fnv1a(uint64_t hash, const void *data, size_t size) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i)
    hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}
uint64_t fnv1a(uint64_t hash, const char *text) {
  return fnv1a(hash, text ? text : "", text ? std::strlen(text) + 1 : 1);
}
template <typename T> uint64_t fnv1a(uint64_t hash, T value) {
  return fnv1a(hash, &value, sizeof(value));
}

/// The checkpoint files in `dir`, oldest first (by step).
std::vector<std::pair<int64_t, std::string>> listCheckpoints(
    const std::string &dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  DIR *handle = opendir(dir.c_str());
  if (!handle)
    return found;
  size_t prefix = std::strlen(kPrefix), suffix = std::strlen(kSuffix);
  while (dirent *entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name.size() <= prefix + suffix || name.rfind(kPrefix, 0) != 0 ||
        name.compare(name.size() - suffix, suffix, kSuffix) != 0)
      continue;
    std::string digits = name.substr(prefix, name.size() - prefix - suffix);
    if (digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    found.push_back({std::stoll(digits), dir + "/" + name});
  }
  closedir(handle);
  std::sort(found.begin(), found.end());
  return found;
}
} // namespace

uint64_t dlc::rt::modelFingerprint(const ModelInfo &model) {
  uint64_t hash = 0xcbf29ce484222325ull;
  hash = fnv1a(hash, dlc_onnx_model, dlc_onnx_model_end - dlc_onnx_model);
  hash = fnv1a(hash, model.trainingConfig);
  hash = fnv1a(hash, model.arenaBytes);
  for (int d = 0; d < model.inputRank; ++d)
    hash = fnv1a(hash, model.inputShape[d]);
  hash = fnv1a(hash, model.numClasses);
  for (int i = 0; i < model.numVariables; ++i) {
    const VariableInfo &v = model.variables[i];
    hash = fnv1a(hash, v.onnxName);
    hash = fnv1a(hash, v.arenaOffset);
    hash = fnv1a(hash, v.numElements);
    hash = fnv1a(hash, static_cast<int64_t>(v.elementType));
  }
  return hash;
}

std::string dlc::rt::writeCheckpoint(const std::string &dir,
                                     const Checkpoint &checkpoint,
                                     int64_t keep) {
  if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw Error("cannot create checkpoint directory '" + dir +
                "': " + std::strerror(errno));
  const TrainingPosition &p = checkpoint.position;
  Writer w;
  w.u64(checkpoint.fingerprint);
  w.u64(p.stepsDone);
  w.u64(p.epoch);
  w.u64(p.stepInEpoch);
  w.f64(p.epochLossSum);
  w.bytes(p.shuffleState);
  w.bytes(std::string(reinterpret_cast<const char *>(p.order.data()),
                      p.order.size() * sizeof(int64_t)));
  w.u64(checkpoint.rankVariables.size());
  for (const std::string &blob : checkpoint.rankVariables)
    w.bytes(blob);
  char name[64];
  std::snprintf(name, sizeof(name), "%s%010lld%s", kPrefix,
                static_cast<long long>(p.stepsDone), kSuffix);
  std::string path = dir + "/" + name;
  writeFileAtomically(path, w.finish());

  auto existing = listCheckpoints(dir);
  for (size_t i = 0; i + keep < existing.size(); ++i)
    std::remove(existing[i].second.c_str());
  return path;
}

Checkpoint dlc::rt::readLatestCheckpoint(const std::string &dir,
                                         uint64_t fingerprint, int worldSize,
                                         std::string &path) {
  auto existing = listCheckpoints(dir);
  if (existing.empty())
    throw Error("no checkpoint (" + std::string(kPrefix) + "N" + kSuffix +
                ") in '" + dir + "'");
  path = existing.back().second;
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in)
    throw Error("cannot read checkpoint '" + path + "': " +
                std::strerror(errno));
  std::string data = buffer.str();
  size_t magic = sizeof(kMagic) - 1;
  if (data.size() < magic + 4 || data.compare(0, magic, kMagic) != 0)
    throw Error("'" + path + "' is not a dlc checkpoint");
  uint32_t stored;
  std::memcpy(&stored, data.data() + data.size() - 4, 4);
  if (stored != crc32(0, reinterpret_cast<const Bytef *>(data.data()),
                      data.size() - 4))
    throw Error("checkpoint '" + path + "' is damaged (CRC mismatch)");

  Reader r(data, path);
  Checkpoint checkpoint;
  checkpoint.fingerprint = r.u64();
  if (checkpoint.fingerprint != fingerprint)
    throw Error("checkpoint '" + path +
                "' was written by a different model or different compile "
                "options; it cannot resume this program");
  TrainingPosition &p = checkpoint.position;
  p.stepsDone = r.u64();
  p.epoch = r.u64();
  p.stepInEpoch = r.u64();
  p.epochLossSum = r.f64();
  p.shuffleState = r.bytes();
  std::string order = r.bytes();
  p.order.resize(order.size() / sizeof(int64_t));
  std::memcpy(p.order.data(), order.data(), order.size());
  uint64_t ranks = r.u64();
  if (ranks != static_cast<uint64_t>(worldSize))
    throw Error("checkpoint '" + path + "' was written by " +
                std::to_string(ranks) + " rank(s); this run has " +
                std::to_string(worldSize));
  for (uint64_t i = 0; i < ranks; ++i)
    checkpoint.rankVariables.push_back(r.bytes());
  return checkpoint;
}
