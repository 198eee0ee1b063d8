//===- Runner.cpp - main() of the programs `dlc run` builds ---------------===//
//
// Runs @forward once: each --input (an ONNX TensorProto, in graph-input
// order) is checked against the input's shape and copied into the arena;
// each output is written as DIR/output_K.pb, as ONNX's test data names them.
//
//===----------------------------------------------------------------------===//

#include "Arena.h"
#include "Error.h"
#include "OnnxIO.h"
#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Model.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace dlc::rt;

namespace {

std::string shapeText(const int64_t *shape, int rank) {
  std::string text = "[";
  for (int d = 0; d < rank; ++d)
    text += (d ? "x" : "") + std::to_string(shape[d]);
  return text + "]";
}

void run(const std::vector<std::string> &inputs, const std::string &outDir) {
  if (static_cast<int>(inputs.size()) != dlc_model.numForwardInputs)
    throw Error("the model takes " +
                std::to_string(dlc_model.numForwardInputs) +
                " input(s); got " + std::to_string(inputs.size()));
  if (mkdir(outDir.c_str(), 0777) != 0 && errno != EEXIST)
    throw Error("cannot create '" + outDir + "': " + std::strerror(errno));
  Context *ctx = createContext(0, 1);
  char *arena = createArena(*ctx);
  for (int i = 0; i < dlc_model.numForwardInputs; ++i) {
    const TensorSlot &slot = dlc_model.forwardInputs[i];
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> data;
    readTensorProto(inputs[i], name, shape, data);
    if (shape != std::vector<int64_t>(slot.shape, slot.shape + slot.rank))
      throw Error("'" + inputs[i] + "' has shape " +
                  shapeText(shape.data(), shape.size()) + "; input '" +
                  slot.name + "' takes " + shapeText(slot.shape, slot.rank));
    copyToBackend(*ctx, arena + slot.arenaOffset, data.data(),
                  data.size() * sizeof(float));
  }
  dlc_model.forward(*ctx, arena);
  for (int k = 0; k < dlc_model.numForwardOutputs; ++k) {
    const TensorSlot &slot = dlc_model.forwardOutputs[k];
    int64_t count = 1;
    for (int d = 0; d < slot.rank; ++d)
      count *= slot.shape[d];
    std::vector<float> data(count);
    copyToHost(*ctx, data.data(), arena + slot.arenaOffset,
               count * sizeof(float));
    writeTensorProto(outDir + "/output_" + std::to_string(k) + ".pb",
                     slot.name, slot.shape, slot.rank, data.data(), count);
  }
  freeArena(*ctx, arena);
  destroyContext(ctx);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> inputs;
  std::string outDir;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string flag = argv[i];
      if ((flag == "--input" || flag == "--output-dir") && i + 1 >= argc)
        throw Error("missing value for " + flag);
      if (flag == "--input")
        inputs.push_back(argv[++i]);
      else if (flag == "--output-dir")
        outDir = argv[++i];
      else
        throw Error("unknown option '" + flag +
                    "' (usage: --input FILE.pb ... --output-dir DIR)");
    }
    if (outDir.empty())
      throw Error("no --output-dir");
    run(inputs, outDir);
  } catch (const std::exception &error) {
    std::fprintf(stderr, "%s: error: %s\n", argv[0], error.what());
    return 1;
  }
  return 0;
}
