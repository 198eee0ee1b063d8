//===- Dataset.cpp - IDX and .npy readers ---------------------------------===//

#include "Dataset.h"
#include "Error.h"
#include "dlc/Support/CheckedMath.h"

#include <zlib.h>

#include <cerrno>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <regex>
#include <sys/stat.h>

using namespace dlc::rt;

namespace {

/// A file's decompressed bytes; gzread passes uncompressed files through.
std::vector<unsigned char> readFile(const std::string &path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0)
    throw Error("cannot open data file '" + path + "': " +
                std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    throw Error("data file '" + path + "' is not a regular file");
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    throw Error("cannot open data file '" + path + "'");
  std::vector<unsigned char> bytes;
  unsigned char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0)
    bytes.insert(bytes.end(), buffer, buffer + n);
  int status;
  const char *message = gzerror(file, &status);
  bool failed = n < 0 || (status != Z_OK && status != Z_STREAM_END);
  std::string why = failed ? message : "";
  gzclose(file);
  if (failed)
    throw Error("data file '" + path + "' is corrupt: " + why);
  return bytes;
}

/// A parsed array: its shape and where its elements start.
struct RawArray {
  std::vector<int64_t> shape;
  enum Kind { U8, I32, I64, F32 } kind;
  const unsigned char *data;
};

int64_t product(const std::vector<int64_t> &shape, size_t from = 0) {
  return std::accumulate(shape.begin() + from, shape.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

size_t elementBytes(RawArray::Kind kind) {
  return kind == RawArray::U8 ? 1 : kind == RawArray::I64 ? 8 : 4;
}

std::string shapeText(const std::vector<int64_t> &shape);

/// The header's payload size, refusing shapes whose size overflows before
/// it is compared with the file length.
size_t payloadBytes(const std::string &path, const RawArray &array) {
  std::optional<int64_t> bytes =
      dlc::checkedByteSize(array.shape, elementBytes(array.kind));
  if (!bytes)
    throw Error("data file '" + path + "': the header's shape " +
                shapeText(array.shape) + " is larger than any file dlc reads");
  return static_cast<size_t>(*bytes);
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text + "]";
}

RawArray parseIdx(const std::string &path,
                  const std::vector<unsigned char> &bytes) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    throw Error("data file '" + path + "' is not an IDX file (bad magic)");
  RawArray array;
  switch (bytes[2]) {
  case 0x08:
    array.kind = RawArray::U8;
    break;
  case 0x0D:
    array.kind = RawArray::F32;
    break;
  default:
    throw Error("data file '" + path + "': IDX element type 0x" +
                std::to_string(bytes[2]) + " is not supported (uint8 or float)");
  }
  int rank = bytes[3];
  if (rank < 1 || bytes.size() < 4 + 4 * size_t(rank))
    throw Error("data file '" + path + "' has a truncated IDX header");
  for (int d = 0; d < rank; ++d) {
    const unsigned char *p = &bytes[4 + 4 * d];
    array.shape.push_back((int64_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) |
                          p[3]);
  }
  size_t header = 4 + 4 * rank;
  size_t expected = header + payloadBytes(path, array);
  if (bytes.size() != expected)
    throw Error("data file '" + path + "' holds " +
                std::to_string(bytes.size()) + " bytes; its IDX header " +
                shapeText(array.shape) + " needs " + std::to_string(expected));
  if (array.kind == RawArray::F32)
    throw Error("data file '" + path +
                "': big-endian float IDX data is not supported");
  array.data = bytes.data() + header;
  return array;
}

RawArray parseNpy(const std::string &path,
                  const std::vector<unsigned char> &bytes) {
  static const char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0)
    throw Error("data file '" + path + "' is not a .npy file (bad magic)");
  int major = bytes[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = bytes[8] | (bytes[9] << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      throw Error("data file '" + path + "' has a truncated .npy header");
    headerLength = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) |
                   (size_t(bytes[11]) << 24);
    headerStart = 12;
  } else {
    throw Error("data file '" + path + "': .npy version " +
                std::to_string(major) + " is not supported");
  }
  if (bytes.size() < headerStart + headerLength)
    throw Error("data file '" + path + "' has a truncated .npy header");
  std::string header(bytes.begin() + headerStart,
                     bytes.begin() + headerStart + headerLength);
  std::smatch match;
  if (!std::regex_search(header, match,
                         std::regex("'descr'\\s*:\\s*'([^']*)'")))
    throw Error("data file '" + path + "': .npy header has no 'descr'");
  std::string descr = match[1];
  RawArray array;
  if (descr == "|u1" || descr == "<u1")
    array.kind = RawArray::U8;
  else if (descr == "<f4")
    array.kind = RawArray::F32;
  else if (descr == "<i4")
    array.kind = RawArray::I32;
  else if (descr == "<i8")
    array.kind = RawArray::I64;
  else
    throw Error("data file '" + path + "': element type '" + descr +
                "' is not supported (uint8, float32, int32 or int64)");
  if (std::regex_search(header, std::regex("'fortran_order'\\s*:\\s*True")))
    throw Error("data file '" + path +
                "' is in Fortran order; save it C-contiguous");
  if (!std::regex_search(header, match,
                         std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")))
    throw Error("data file '" + path + "': .npy header has no 'shape'");
  std::string dims = match[1];
  std::regex number("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number);
       it != std::sregex_iterator(); ++it) {
    errno = 0;
    long long dim = std::strtoll(it->str().c_str(), nullptr, 10);
    if (errno == ERANGE)
      throw Error("data file '" + path + "': dimension " + it->str() +
                  " in the .npy header is out of range");
    array.shape.push_back(dim);
  }
  if (array.shape.empty())
    throw Error("data file '" + path + "' holds a scalar, not an array");
  size_t start = headerStart + headerLength;
  size_t expected = start + payloadBytes(path, array);
  if (bytes.size() != expected)
    throw Error("data file '" + path + "' holds " +
                std::to_string(bytes.size()) + " bytes; its header " +
                shapeText(array.shape) + " needs " + std::to_string(expected));
  array.data = bytes.data() + start;
  return array;
}

RawArray parseArray(const std::string &path,
                    const std::vector<unsigned char> &bytes) {
  bool npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  return npy ? parseNpy(path, bytes) : parseIdx(path, bytes);
}

/// Whether data samples of `shape` fit a model input of `expected`: the same
/// shape ignoring unit dimensions, or the same count into a flat input.
bool sampleShapeFits(std::vector<int64_t> shape,
                     std::vector<int64_t> expected) {
  if (product(shape) != product(expected))
    return false;
  if (expected.size() == 1)
    return true;
  auto dropOnes = [](std::vector<int64_t> &s) {
    s.erase(std::remove(s.begin(), s.end(), 1), s.end());
  };
  dropOnes(shape);
  dropOnes(expected);
  return shape == expected;
}

} // namespace

Dataset dlc::rt::loadDataset(const std::string &samplesPath,
                             const std::string &labelsPath,
                             const SampleSpec &spec) {
  std::vector<unsigned char> sampleBytes = readFile(samplesPath);
  RawArray samples = parseArray(samplesPath, sampleBytes);
  std::vector<int64_t> sampleShape(samples.shape.begin() + 1,
                                   samples.shape.end());
  if (!sampleShapeFits(sampleShape, spec.shape))
    throw Error("data file '" + samplesPath + "' holds samples of shape " +
                shapeText(sampleShape) + "; the model's input takes " +
                shapeText(spec.shape));
  if (samples.kind != RawArray::U8 && samples.kind != RawArray::F32)
    throw Error("data file '" + samplesPath +
                "' must hold float32 or uint8 samples");

  Dataset data;
  data.count = samples.shape[0];
  data.sampleSize = product(spec.shape);
  data.samples.resize(data.count * data.sampleSize);
  if (samples.kind == RawArray::U8) {
    for (size_t i = 0; i < data.samples.size(); ++i)
      data.samples[i] = samples.data[i] / 255.0f;
  } else {
    std::memcpy(data.samples.data(), samples.data,
                data.samples.size() * sizeof(float));
    // One NaN pixel would train a model of NaNs without a word.
    auto bad = std::find_if(data.samples.begin(), data.samples.end(),
                            [](float v) { return !std::isfinite(v); });
    if (bad != data.samples.end()) {
      int64_t index = (bad - data.samples.begin()) / data.sampleSize;
      throw Error("data file '" + samplesPath + "': sample " +
                  std::to_string(index) + " holds a non-finite value (" +
                  std::to_string(*bad) + ")");
    }
  }

  std::vector<unsigned char> labelBytes = readFile(labelsPath);
  RawArray labels = parseArray(labelsPath, labelBytes);
  if (labels.shape.size() != 1 || labels.kind == RawArray::F32)
    throw Error("data file '" + labelsPath +
                "' must hold a 1-D array of integer labels; it holds " +
                shapeText(labels.shape));
  if (labels.shape[0] != data.count)
    throw Error("data file '" + labelsPath + "' has " +
                std::to_string(labels.shape[0]) + " labels for " +
                std::to_string(data.count) + " samples in '" + samplesPath +
                "'");
  data.labels.resize(data.count);
  for (int64_t i = 0; i < data.count; ++i) {
    int64_t label;
    switch (labels.kind) {
    case RawArray::U8:
      label = labels.data[i];
      break;
    case RawArray::I32: {
      int32_t v;
      std::memcpy(&v, labels.data + 4 * i, 4);
      label = v;
      break;
    }
    default: {
      int64_t v;
      std::memcpy(&v, labels.data + 8 * i, 8);
      label = v;
    }
    }
    if (label < 0 || label >= spec.numClasses)
      throw Error("data file '" + labelsPath + "': label " +
                  std::to_string(label) + " at index " + std::to_string(i) +
                  " is outside the model's " +
                  std::to_string(spec.numClasses) + " classes");
    data.labels[i] = static_cast<int32_t>(label);
  }
  return data;
}

std::pair<std::string, std::string>
dlc::rt::findIdxPair(const std::string &dir, const std::string &prefix) {
  auto find = [&](const std::string &stem) -> std::string {
    for (const char *suffix : {"", ".gz"}) {
      std::string path = dir + "/" + stem + suffix;
      struct stat info;
      if (stat(path.c_str(), &info) == 0)
        return path;
    }
    return "";
  };
  return {find(prefix + "-images-idx3-ubyte"),
          find(prefix + "-labels-idx1-ubyte")};
}
