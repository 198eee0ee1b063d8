//===- Dataset.h - training and test data -----------------------*- C++ -*-===//
//
// Samples as float32 (uint8 data scaled to [0,1]) and int32 class labels,
// read from IDX files (MNIST's format, gzip or raw) or .npy files. Every file
// is checked: magic, element type, sizes against the file length, the sample
// shape against the model's input, labels against the number of classes.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DATASET_H
#define DLC_RUNTIME_DATASET_H

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt {

struct Dataset {
  std::vector<float> samples;
  std::vector<int32_t> labels;
  int64_t count = 0;
  int64_t sampleSize = 0; ///< elements per sample
};

/// What the model expects of each sample.
struct SampleSpec {
  std::vector<int64_t> shape; ///< per-sample shape (input shape minus batch)
  int64_t numClasses = 0;
};

/// Reads images and labels (IDX or .npy, chosen by the file name).
Dataset loadDataset(const std::string &samplesPath,
                    const std::string &labelsPath, const SampleSpec &spec);

/// The MNIST file names in `dir`: `prefix`-images-idx3-ubyte[.gz] and
/// `prefix`-labels-idx1-ubyte[.gz]; empty strings when absent.
std::pair<std::string, std::string> findIdxPair(const std::string &dir,
                                                const std::string &prefix);

} // namespace dlc::rt

#endif // DLC_RUNTIME_DATASET_H
