//===- Trainer.cpp - main() of every generated training executable --------===//
//
// Parses the command line, loads the data, lays the model's variables into
// the arena, and runs the compiled @train_step over globally shuffled
// batches: every rank draws the same permutation from --seed and takes its
// own slice of each global batch. MPI is initialised only when an MPI
// launcher started the process, so a single run needs no MPI installation. Rank 0 prints progress, the test accuracy
// per epoch, and a final JSON line; --save writes the trained ONNX model.
//
//===----------------------------------------------------------------------===//

#include "Arena.h"
#include "Dataset.h"
#include "Error.h"
#include "OnnxIO.h"
#include "TrainerOptions.h"
#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Model.h"

#include <mpi.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numeric>
#include <random>

using namespace dlc::rt;

namespace {

struct World {
  int rank = 0, size = 1;
  bool mpi = false; ///< whether MPI was initialised
  bool leader() const { return rank == 0; }
};

/// Whether mpirun (Open MPI, MPICH/Hydra) or a PMI/PMIx launcher such as
/// srun started this process.
bool launchedByMpi() {
  for (const char *variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                               "MPI_LOCALNRANKS"})
    if (std::getenv(variable))
      return true;
  return false;
}

double now() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

/// The same permutation on every rank, whatever the standard library.
void shuffleIndices(std::vector<int64_t> &order, std::mt19937_64 &rng) {
  for (size_t i = order.size(); i > 1; --i) {
    size_t j = rng() % i;
    std::swap(order[i - 1], order[j]);
  }
}

double globalMean(double value, const World &world) {
  double sum = value;
  if (world.size > 1)
    MPI_Allreduce(&value, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return sum / world.size;
}

class Trainer {
public:
  Trainer(const TrainerOptions &options, const World &world)
      : options(options), world(world), batch(dlc_model.inputShape[0]) {
    spec.shape.assign(dlc_model.inputShape + 1,
                      dlc_model.inputShape + dlc_model.inputRank);
    spec.numClasses = dlc_model.numClasses;
  }
  ~Trainer() {
    if (arena)
      freeArena(*ctx, arena);
    if (ctx)
      destroyContext(ctx);
  }

  int run();

private:
  void loadData();
  void initialiseArena();
  double trainStep(const std::vector<int64_t> &order, int64_t step);
  double evaluate();
  void save();
  void dumpGradientsOfNextStep();

  const TrainerOptions &options;
  World world;
  int64_t batch;
  SampleSpec spec;
  Dataset train, test;
  bool hasTest = false;
  Context *ctx = nullptr;
  char *arena = nullptr;
  std::vector<float> hostSamples;
  std::vector<int32_t> hostLabels;
};

void Trainer::loadData() {
  std::string trainX = options.trainX, trainY = options.trainY;
  std::string testX = options.testX, testY = options.testY;
  if (!options.dataDir.empty()) {
    std::tie(trainX, trainY) = findIdxPair(options.dataDir, "train");
    if (trainX.empty() || trainY.empty())
      throw Error("no train-images-idx3-ubyte[.gz] and "
                  "train-labels-idx1-ubyte[.gz] in '" +
                  options.dataDir + "'");
    std::tie(testX, testY) = findIdxPair(options.dataDir, "t10k");
    if (testX.empty() || testY.empty())
      testX = testY = "";
  }
  train = loadDataset(trainX, trainY, spec);
  hasTest = !testX.empty();
  if (hasTest)
    test = loadDataset(testX, testY, spec);
}

void Trainer::initialiseArena() {
  ctx = createContext(options.threads, world.size);
  arena = createArena(*ctx);
  hostSamples.resize(batch * train.sampleSize);
  hostLabels.resize(batch);
}

double Trainer::trainStep(const std::vector<int64_t> &order, int64_t step) {
  int64_t first = (step * world.size + world.rank) * batch;
  for (int64_t i = 0; i < batch; ++i) {
    int64_t sample = order[first + i];
    std::memcpy(&hostSamples[i * train.sampleSize],
                &train.samples[sample * train.sampleSize],
                train.sampleSize * sizeof(float));
    hostLabels[i] = train.labels[sample];
  }
  copyToBackend(*ctx, arena + dlc_model.trainInputOffset, hostSamples.data(),
                hostSamples.size() * sizeof(float));
  copyToBackend(*ctx, arena + dlc_model.trainLabelsOffset, hostLabels.data(),
                hostLabels.size() * sizeof(int32_t));
  dlc_model.trainStep(*ctx, arena);
  float loss;
  copyToHost(*ctx, &loss, arena + dlc_model.trainLossOffset, sizeof(float));
  return globalMean(loss, world);
}

double Trainer::evaluate() {
  int64_t batches = (test.count + batch - 1) / batch;
  std::vector<float> output(batch * dlc_model.numClasses);
  int64_t correct = 0;
  for (int64_t b = world.rank; b < batches; b += world.size) {
    int64_t rows = std::min(batch, test.count - b * batch);
    std::fill(hostSamples.begin(), hostSamples.end(), 0.0f);
    std::memcpy(hostSamples.data(), &test.samples[b * batch * test.sampleSize],
                rows * test.sampleSize * sizeof(float));
    copyToBackend(*ctx, arena + dlc_model.forwardInputOffset, hostSamples.data(),
                  hostSamples.size() * sizeof(float));
    dlc_model.forward(*ctx, arena);
    copyToHost(*ctx, output.data(), arena + dlc_model.forwardOutputOffset,
               output.size() * sizeof(float));
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = &output[r * dlc_model.numClasses];
      int64_t predicted = std::max_element(row, row + dlc_model.numClasses) - row;
      correct += predicted == test.labels[b * batch + r];
    }
  }
  int64_t total = correct;
  if (world.size > 1)
    MPI_Allreduce(&correct, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  return static_cast<double>(total) / test.count;
}

void Trainer::dumpGradientsOfNextStep() {
  const std::string &dir = options.dumpGradientsDir;
  if (world.leader() && mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw Error("cannot create '" + dir + "': " + std::strerror(errno));
  std::map<int64_t, int> variableAt;
  for (int i = 0; i < dlc_model.numVariables; ++i)
    variableAt[dlc_model.variables[i].arenaOffset] = i;
  setGradientObserver(*ctx, [this, dir, variableAt](const float *param,
                                                    const float *grad,
                                                    int64_t n) {
    if (!world.leader())
      return;
    auto it = variableAt.find(reinterpret_cast<const char *>(param) - arena);
    if (it == variableAt.end())
      throw Error("gradient of an unknown parameter");
    const VariableInfo &v = dlc_model.variables[it->second];
    std::vector<float> host(n);
    copyToHost(*ctx, host.data(), grad, n * sizeof(float));
    std::string file = v.onnxName ? v.onnxName : "unnamed";
    std::replace(file.begin(), file.end(), '/', '_');
    writeTensorProto(dir + "/" + file + ".pb", v.onnxName ? v.onnxName : "",
                     v.shape, v.rank, host.data(), n);
  });
}

void Trainer::save() {
  std::vector<std::vector<float>> host(dlc_model.numVariables);
  for (int i = 0; i < dlc_model.numVariables; ++i) {
    const VariableInfo &v = dlc_model.variables[i];
    host[i].resize(v.numElements);
    copyToHost(*ctx, host[i].data(), arena + v.arenaOffset,
               v.numElements * sizeof(float));
  }
  saveTrainedModel(dlc_model, host, options.savePath);
}

int Trainer::run() {
  loadData();
  int64_t globalBatch = batch * world.size;
  int64_t stepsPerEpoch = train.count / globalBatch;
  if (stepsPerEpoch == 0)
    throw Error("the training set's " + std::to_string(train.count) +
                " samples do not fill one global batch of " +
                std::to_string(globalBatch));
  initialiseArena();
  if (world.leader())
    std::printf("dlc trainer: %s on %s; %d rank(s) x batch %" PRId64
                "; %s\n%" PRId64 " training samples (%" PRId64
                " steps per epoch)%s\n",
                dlc_model.sourceFile, backendName(), world.size, batch,
                dlc_model.trainingConfig, train.count, stepsPerEpoch,
                hasTest ? (", " + std::to_string(test.count) +
                           " test samples").c_str()
                        : "");

  std::vector<int64_t> order(train.count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(options.seed);
  int64_t stepsDone = 0, epochsRun = 0;
  double lastLoss = NAN, epochLoss = NAN, testAccuracy = NAN;
  double trainSeconds = 0.0;
  for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    if (options.steps && stepsDone >= options.steps)
      break;
    if (options.shuffle)
      shuffleIndices(order, rng);
    ++epochsRun;
    double lossSum = 0.0;
    int64_t epochSteps = 0;
    synchronize(*ctx);
    double start = now();
    for (int64_t step = 0; step < stepsPerEpoch; ++step) {
      if (options.steps && stepsDone >= options.steps)
        break;
      setRandomKey(*ctx, options.seed, world.rank, stepsDone);
      bool dumping = stepsDone == 0 && !options.dumpGradientsDir.empty();
      if (dumping)
        dumpGradientsOfNextStep();
      lastLoss = trainStep(order, step);
      if (dumping)
        setGradientObserver(*ctx, nullptr);
      lossSum += lastLoss;
      ++epochSteps;
      ++stepsDone;
      if (world.leader() && options.logEvery &&
          (step + 1) % options.logEvery == 0)
        std::printf("epoch %" PRId64 " step %" PRId64 "/%" PRId64
                    " loss %.6f images/s %.0f\n",
                    epoch, step + 1, stepsPerEpoch, lastLoss,
                    (step + 1) * globalBatch / (now() - start));
      if (!std::isfinite(lastLoss))
        throw Error("the loss became " + std::to_string(lastLoss) +
                    " at step " + std::to_string(stepsDone) +
                    "; lower --lr when compiling");
    }
    synchronize(*ctx);
    double seconds = now() - start;
    trainSeconds += seconds;
    epochLoss = lossSum / epochSteps;
    if (hasTest)
      testAccuracy = evaluate();
    if (world.leader()) {
      std::printf("epoch %" PRId64 " done: %" PRId64
                  " steps, mean loss %.6f, %.0f images/s",
                  epoch, epochSteps, epochLoss,
                  epochSteps * globalBatch / seconds);
      if (hasTest)
        std::printf(", test accuracy %.4f", testAccuracy);
      std::printf("\n");
    }
  }

  if (!options.savePath.empty() && world.leader())
    save();
  if (world.leader()) {
    auto number = [](double v) {
      char text[32];
      std::snprintf(text, sizeof(text), std::isfinite(v) ? "%.9g" : "null", v);
      return std::string(text);
    };
    std::printf("{\"epochs\":%" PRId64 ",\"steps\":%" PRId64
                ",\"last_loss\":%s,\"train_loss\":%s,\"test_accuracy\":%s,"
                "\"images_per_second\":%s}\n",
                epochsRun, stepsDone, number(lastLoss).c_str(),
                number(epochLoss).c_str(), number(testAccuracy).c_str(),
                number(stepsDone * globalBatch / trainSeconds).c_str());
  }
  std::fflush(stdout);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  World world;
  world.mpi = launchedByMpi();
  if (world.mpi) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  }
  int status = 0;
  try {
    TrainerOptions options = parseTrainerOptions(argc, argv);
    if (options.help) {
      if (world.leader())
        std::printf("%s", trainerUsage(argv[0]).c_str());
    } else {
      status = Trainer(options, world).run();
    }
  } catch (const std::exception &error) {
    // Every rank reports: a bad file may be bad on one rank only.
    if (world.size == 1)
      std::fprintf(stderr, "%s: error: %s\n", argv[0], error.what());
    else
      std::fprintf(stderr, "%s: error (rank %d): %s\n", argv[0], world.rank,
                   error.what());
    std::fflush(stdout);
    // Other ranks may be waiting in a collective; take them down too.
    if (world.size > 1)
      MPI_Abort(MPI_COMM_WORLD, 1);
    status = 1;
  }
  if (world.mpi)
    MPI_Finalize();
  return status;
}
