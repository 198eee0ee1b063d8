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
#include "AtomicFile.h"
#include "JsonText.h"
#include "PrecisionPlan.h"
#include "Checkpoint.h"
#include "Comm/Comm.h"
#include "Dataset.h"
#include "Error.h"
#include "LrSchedule.h"
#include "OnnxIO.h"
#include "Trace.h"
#include "TrainerOptions.h"
#include "VariableSnapshot.h"
#include "dlc/Runtime/Backend.h"
#include "dlc/Runtime/Model.h"
#include "dlc/Runtime/Precision/Statistics.h"


#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdlib>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <string_view>
#include <tuple>

using namespace dlc::rt;

namespace {

using comm::World;

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

/// Set by SIGTERM and SIGINT; the training loop stops after its step.
volatile std::sig_atomic_t stopRequested = 0;
/// "rank N: " for messages written from handlers (formatted beforehand:
/// only write() is safe there).
char rankPrefix[32] = "";
extern "C" void requestStop(int) {
  stopRequested = 1;
  static const char note[] =
      "signal received: stopping after this step (if a rank died, the "
      "launcher ends the job; --resume continues from the last "
      "checkpoint)\n";
  ssize_t ignored = write(STDERR_FILENO, rankPrefix, std::strlen(rankPrefix));
  ignored = write(STDERR_FILENO, note, sizeof(note) - 1);
  (void)ignored;
}

/// The step the trainer is in, for the MPI error handler's message.
int64_t currentStep = 0;

/// A non-finite value found by a check: where, and how many.
struct NonFinite {
  std::string tensor;
  int64_t count = 0;
};

int64_t countNonFinite(const float *values, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i)
    count += !std::isfinite(values[i]);
  return count;
}

std::string hexadecimal(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof(text), "0x%016" PRIx64, value);
  return text;
}

/// --trace's file for this rank: as given on one rank, with ".rank<N>"
/// before its ".json" (or at its end) under mpirun.
std::string tracePathOfRank(const std::string &path, const World &world) {
  if (world.size == 1)
    return path;
  std::string rank = ".rank" + std::to_string(world.rank);
  size_t dot =
      path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0
          ? path.size() - 5
          : path.size();
  return path.substr(0, dot) + rank + path.substr(dot);
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
  void loadInitialValues();
  /// Gathers batch `step` of `order` into the batch stage and sends it.
  void stageBatch(const std::vector<int64_t> &order, int64_t step);
  /// Runs step `step` of the epoch; with `stageNext`, stages the next
  /// batch while it runs. Returns this rank's loss.
  double trainStep(const std::vector<int64_t> &order, int64_t step,
                   bool replayable, bool stageNext);
  double evaluate();
  /// A pipelined program (--overlap=next-forward) leaves each step's
  /// gradient averages in flight, and the next step applies them: this
  /// completes them now, with the hyperparameters of the step that made
  /// them. Whatever reads the weights (evaluation, --save, checkpoints, the
  /// checks) calls it first.
  void completeCarried();
  void save();
  /// Installs the observer of this step's gradients: dumps them (first step
  /// of --dump-gradients) and/or counts their non-finite values.
  void observeGradients(bool dump, bool check);
  /// Throws Error if the loss, a gradient seen by the observer or a
  /// parameter is not finite.
  void checkFinite(int64_t step, double loss);
  std::string variableName(int index) const;
  /// This rank's variables, concatenated in ModelInfo order.
  std::string variableBytes();
  void writeCheckpoint(const TrainingPosition &position);
  TrainingPosition resume();
  /// The compiled defaults with the flags' overrides; checks that the
  /// program has the state they need.
  void resolveHyperparameters(int64_t totalSteps);

  const TrainerOptions &options;
  World world;
  int64_t batch;
  SampleSpec spec;
  Dataset train, test;
  bool hasTest = false;
  Context *ctx = nullptr;
  char *arena = nullptr;
  /// The batch stage's host memory: samples, then labels.
  char *batchStage = nullptr;
  int64_t labelsAt = 0;
  /// The epoch's step whose batch is in the stage; -1: none.
  int64_t stagedStep = -1;
  /// Evaluation's batch.
  std::vector<float> hostSamples;
  std::map<int64_t, int> variableAt; ///< arena offset -> variable index
  NonFinite badGradient;
  /// Host copies of one variable or gradient at a time, for the checks, on
  /// a backend whose memory the host cannot read: allocated once, so that
  /// checking allocates nothing per step.
  std::vector<float> checkBuffer;
  /// `n` floats of the arena at `data`, readable here.
  const float *readable(const float *data, int64_t n) {
    if (hostReadsBackendMemory())
      return data;
    copyToHost(*ctx, checkBuffer.data(), data, n * sizeof(float));
    return checkBuffer.data();
  }
  Hyperparameters hyper;
  LrSchedule schedule;
  /// What roundToFormat rounds each dlc_model.precision slot to, and how
  /// it changes (dlc --precision=auto).
  std::unique_ptr<PrecisionControl> formatControl;
  /// After a step: the formats follow its statistics and overflows.
  void adjustFormats(int64_t stepsDone, bool gathered);
  /// After step `stepNumber` overflowed, with its exponents raised: puts
  /// back the variables it started from (--on-overflow redo or skip).
  /// Returns whether to run it again.
  bool undoStep(int64_t stepNumber);
  VariableSnapshot snapshot;
  /// Attempts of the step being redone so far; overflowed steps redone and
  /// skipped, for the summary.
  int attempt = 1;
  int64_t redoneSteps = 0, skippedSteps = 0;
  /// Whether the last step left updates for the next (completeCarried),
  /// and the hyperparameters they take.
  bool carriedPending = false;
  /// --stats-every: a record per dlc_model.statistics slot, and the steps
  /// gathered into them.
  std::vector<precision::Statistics> statistics;
  int64_t statisticsSteps = 0;
  std::string statisticsJson() const;
  Hyperparameters carriedHyper;
};

void Trainer::resolveHyperparameters(int64_t totalSteps) {
  hyper = dlc_model.defaults;
  bool sgd = hyper.optimizer == Optimizer::Sgd;
  auto refuse = [&](const char *flag) {
    throw Error(std::string(flag) + " does not apply: this program was "
                "compiled with --optimizer=" +
                (sgd ? "sgd" : hyper.optimizer == Optimizer::Adam ? "adam"
                                                                  : "adamw"));
  };
  if (options.lr)
    hyper.lr = *options.lr;
  if (options.weightDecay)
    hyper.weightDecay = *options.weightDecay;
  if (options.momentum) {
    if (!sgd)
      refuse("--momentum");
    if (*options.momentum != 0.0f && !dlc_model.hasVelocity)
      throw Error("--momentum " + std::to_string(*options.momentum) +
                  ": this program was compiled without momentum, so it has "
                  "no velocity state; recompile with dlc --momentum");
    hyper.momentum = *options.momentum;
  }
  for (auto [flag, value, field] :
       {std::tuple{"--beta1", options.beta1, &hyper.beta1},
        std::tuple{"--beta2", options.beta2, &hyper.beta2},
        std::tuple{"--eps", options.eps, &hyper.eps}}) {
    if (!value)
      continue;
    if (sgd)
      refuse(flag);
    *field = *value;
  }
  schedule = options.schedule;
  if (!options.cosineStepsGiven)
    schedule.cosineSteps = std::max<int64_t>(totalSteps, 1);
}

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
  if (options.initPath.empty())
    for (int i = 0; i < dlc_model.numVariables; ++i)
      if (dlc_model.variables[i].initOffset == kInitAtRunTime)
        throw Error("this program was compiled with --external-weights: give "
                    "its initial values with --init FILE.onnx (the model it "
                    "was compiled from, or one with the same initializers)");
  ctx = createContext(options.threads, world.size);
  setMeasuredConvolutions(*ctx, options.cudnnFind);
  if (options.nccl)
    useNccl(*ctx);
  arena = createArena(*ctx);
  PrecisionSettings settings = options.precision;
  if (options.statsEvery)
    settings.every = options.statsEvery;
  formatControl = std::make_unique<PrecisionControl>(dlc_model, settings);
  setTensorFormats(*ctx, formatControl->formats());
  std::vector<bool> weightGradients(dlc_model.numPrecision),
      gradients(dlc_model.numPrecision);
  for (int i = 0; i < dlc_model.numPrecision; ++i) {
    std::string_view kind = dlc_model.precision[i].kind;
    weightGradients[i] = kind == "weight_gradient";
    gradients[i] = options.stochasticRounding &&
                   (kind == "weight_gradient" || kind == "activation_gradient");
  }
  setWeightGradientSlots(*ctx, weightGradients);
  setStochasticRoundingSlots(*ctx, gradients);
  loadInitialValues();
  labelsAt = batch * train.sampleSize * sizeof(float);
  batchStage = createBatchStage(*ctx, labelsAt + batch * sizeof(int32_t));
  int64_t largest = 0;
  for (int i = 0; i < dlc_model.numVariables; ++i) {
    variableAt[dlc_model.variables[i].arenaOffset] = i;
    largest = std::max(largest, dlc_model.variables[i].numElements);
  }
  if (!hostReadsBackendMemory())
    checkBuffer.resize(largest);
  // The checks, --save and --dump-gradients read floats.
  for (int i = 0; i < dlc_model.numVariables; ++i)
    if (dlc_model.variables[i].elementType != ElementType::F32)
      throw Error("variable '" + variableName(i) + "' is " +
                  elementTypeName(dlc_model.variables[i].elementType) +
                  "; this trainer handles f32 variables only");
}

std::string Trainer::variableName(int index) const {
  const VariableInfo &v = dlc_model.variables[index];
  return v.onnxName ? v.onnxName : "optimizer state #" + std::to_string(index);
}

void Trainer::stageBatch(const std::vector<int64_t> &order, int64_t step) {
  awaitBatchStage(*ctx);
  auto *samples = reinterpret_cast<float *>(batchStage);
  auto *labels = reinterpret_cast<int32_t *>(batchStage + labelsAt);
  int64_t first = (step * world.size + world.rank) * batch;
  for (int64_t i = 0; i < batch; ++i) {
    int64_t sample = order[first + i];
    std::memcpy(&samples[i * train.sampleSize],
                &train.samples[sample * train.sampleSize],
                train.sampleSize * sizeof(float));
    labels[i] = train.labels[sample];
  }
  sendBatchStage(*ctx);
  stagedStep = step;
}

double Trainer::trainStep(const std::vector<int64_t> &order, int64_t step,
                          bool replayable, bool stageNext) {
  if (stagedStep != step)
    stageBatch(order, step);
  takeBatchStage(*ctx, 0, arena + dlc_model.trainInputOffset, labelsAt);
  takeBatchStage(*ctx, labelsAt, arena + dlc_model.trainLabelsOffset,
                 batch * sizeof(int32_t));
  runTrainStep(
      *ctx, [this] { dlc_model.trainStep(*ctx, arena); }, replayable);
  stagedStep = -1;
  // On a GPU this overlaps the step just issued.
  if (stageNext)
    stageBatch(order, step + 1);
  float loss;
  copyToHost(*ctx, &loss, arena + dlc_model.trainLossOffset, sizeof(float));
  return loss;
}

void Trainer::completeCarried() {
  if (!carriedPending)
    return;
  setHyperparameters(*ctx, carriedHyper);
  runTrainStep(
      *ctx, [this] { dlc_model.flushCarried(*ctx, arena); },
      /*replayable=*/false);
  carriedPending = false;
}

double Trainer::evaluate() {
  completeCarried();
  int64_t batches = (test.count + batch - 1) / batch;
  std::vector<float> output(batch * dlc_model.numClasses);
  int64_t correct = 0;
  for (int64_t b = world.rank; b < batches; b += world.size) {
    int64_t rows = std::min(batch, test.count - b * batch);
    hostSamples.assign(batch * test.sampleSize, 0.0f);
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
  return static_cast<double>(comm::sum(correct)) / test.count;
}

void Trainer::observeGradients(bool dump, bool check) {
  badGradient = NonFinite();
  if (!dump && !check) {
    setGradientObserver(*ctx, nullptr);
    return;
  }
  const std::string &dir = options.dumpGradientsDir;
  if (dump && world.leader() && mkdir(dir.c_str(), 0777) != 0 &&
      errno != EEXIST)
    throw Error("cannot create '" + dir + "': " + std::strerror(errno));
  setGradientObserver(*ctx, [this, dir, dump, check](const float *param,
                                                     const float *grad,
                                                     int64_t n) {
    auto it = variableAt.find(reinterpret_cast<const char *>(param) - arena);
    if (it == variableAt.end())
      throw Error("gradient of an unknown parameter");
    const VariableInfo &v = dlc_model.variables[it->second];
    const float *host = readable(grad, n);
    if (check && badGradient.count == 0)
      if (int64_t bad = countNonFinite(host, n))
        badGradient = {"the gradient of '" + variableName(it->second) + "'",
                       bad};
    if (!dump || !world.leader())
      return;
    std::string file = v.onnxName ? v.onnxName : "unnamed";
    std::replace(file.begin(), file.end(), '/', '_');
    writeTensorProto(dir + "/" + file + ".pb", v.onnxName ? v.onnxName : "",
                     v.shape, v.rank, host, n);
  });
}

void Trainer::checkFinite(int64_t step, double loss) {
  const char *advice = "; stopping, nothing written (lower --lr, or check "
                       "the data)";
  if (!std::isfinite(loss))
    throw Error("step " + std::to_string(step) + ": the loss is " +
                std::to_string(loss) + advice);
  NonFinite bad = badGradient;
  for (int i = 0; i < dlc_model.numVariables && !bad.count; ++i) {
    const VariableInfo &v = dlc_model.variables[i];
    const float *host = readable(
        reinterpret_cast<const float *>(arena + v.arenaOffset), v.numElements);
    if (int64_t count = countNonFinite(host, v.numElements))
      bad = {"parameter '" + variableName(i) + "'", count};
  }
  if (bad.count)
    throw Error("step " + std::to_string(step) + ": " + bad.tensor +
                " holds " + std::to_string(bad.count) + " non-finite value(s)" +
                advice);
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

std::string Trainer::variableBytes() {
  std::string bytes;
  for (int i = 0; i < dlc_model.numVariables; ++i) {
    const VariableInfo &v = dlc_model.variables[i];
    size_t at = bytes.size();
    bytes.resize(at + byteSize(v));
    copyToHost(*ctx, &bytes[at], arena + v.arenaOffset, byteSize(v));
  }
  return bytes;
}

void Trainer::writeCheckpoint(const TrainingPosition &position) {
  completeCarried();
  Checkpoint checkpoint;
  checkpoint.fingerprint = modelFingerprint(dlc_model);
  checkpoint.position = position;
  std::string mine = variableBytes();
  // Every rank's variables go to rank 0.
  if (world.leader()) {
    checkpoint.rankVariables.push_back(std::move(mine));
    for (int r = 1; r < world.size; ++r) {
      std::string theirs(checkpoint.rankVariables[0].size(), '\0');
      comm::receive(theirs.data(), theirs.size(), r);
      checkpoint.rankVariables.push_back(std::move(theirs));
    }
    std::string path = dlc::rt::writeCheckpoint(options.checkpointDir,
                                                checkpoint,
                                                options.keepCheckpoints);
    std::printf("checkpoint: %s (step %" PRId64 ")\n", path.c_str(),
                position.stepsDone);
  } else {
    comm::send(mine.data(), mine.size(), 0);
  }
  // No rank runs ahead of a checkpoint that may yet fail.
  comm::barrier();
}

/// --init: the values the file gives replace the compiled-in ones.
void Trainer::loadInitialValues() {
  if (options.initPath.empty())
    return;
  std::vector<std::vector<float>> values =
      readInitialValues(options.initPath, dlc_model);
  for (int i = 0; i < dlc_model.numVariables; ++i)
    if (!values[i].empty())
      copyToBackend(*ctx, arena + dlc_model.variables[i].arenaOffset,
                    values[i].data(), values[i].size() * sizeof(float));
}

TrainingPosition Trainer::resume() {
  std::string path;
  Checkpoint checkpoint = readLatestCheckpoint(
      options.resumeDir, modelFingerprint(dlc_model), world.size, path);
  TrainingPosition &position = checkpoint.position;
  if (static_cast<int64_t>(position.order.size()) != train.count)
    throw Error("checkpoint '" + path + "' was written for a training set of " +
                std::to_string(position.order.size()) + " samples; this one "
                "has " + std::to_string(train.count));
  const std::string &bytes = checkpoint.rankVariables[world.rank];
  size_t at = 0;
  for (int i = 0; i < dlc_model.numVariables; ++i) {
    const VariableInfo &v = dlc_model.variables[i];
    size_t size = byteSize(v);
    if (at + size > bytes.size())
      throw Error("checkpoint '" + path + "' holds too few variable bytes");
    copyToBackend(*ctx, arena + v.arenaOffset, &bytes[at], size);
    at += size;
  }
  if (world.leader())
    std::printf("resuming from %s: step %" PRId64 ", epoch %" PRId64 "\n",
                path.c_str(), position.stepsDone, position.epoch);
  return std::move(position);
}


/// --stats-out: each tensor's name, kind and elements with its record.
std::string Trainer::statisticsJson() const {
  std::string json = "{\"steps\": " + std::to_string(statisticsSteps) +
                     ", \"tensors\": [";
  for (int i = 0; i < dlc_model.numStatistics; ++i) {
    const StatisticsTensor &tensor = dlc_model.statistics[i];
    json += std::string(i ? ",\n  " : "\n  ") + "{\"name\": \"" +
            jsonEscaped(tensor.name) + "\", \"kind\": \"" + tensor.kind +
            "\", \"elements\": " + std::to_string(tensor.numElements) + ", " +
            precision::jsonMembers(statistics[i]) + "}";
  }
  return json + "]}\n";
}

void Trainer::adjustFormats(int64_t stepsDone, bool gathered) {
  if (gathered && !options.statsOut.empty())
    for (int i = 0; i < dlc_model.numStatistics; ++i)
      statistics[i].merge(formatControl->interval()[i]);
  std::vector<int64_t> overflows = takeOverflows(*ctx);
  int64_t saturated = 0;
  for (int64_t count : overflows)
    saturated += count;
  if (world.size > 1 && comm::sum(saturated) > 0) {
    // Every rank raises the same exponents: counts summed over ranks.
    std::vector<float> counts(overflows.begin(), overflows.end());
    comm::Request sum = comm::startSum(counts.data(), counts.size());
    comm::wait(sum);
    for (size_t i = 0; i < counts.size(); ++i)
      overflows[i] = static_cast<int64_t>(counts[i]);
    saturated = 1;
  }
  std::vector<std::string> log;
  bool changed = formatControl->afterStep(stepsDone, gathered, overflows, log);
  if (world.size > 1 && (gathered || saturated)) {
    // Rank 0's decisions, on its statistics, for all.
    std::vector<precision::TensorFormat> shared = formatControl->formats();
    comm::broadcast(shared.data(),
                    shared.size() * sizeof(precision::TensorFormat), 0);
    formatControl->adopt(shared);
    changed = true;
  }
  if (changed)
    setTensorFormats(*ctx, formatControl->formats());
  if (world.leader())
    for (const std::string &line : log)
      std::printf("%s\n", line.c_str());
}

bool Trainer::undoStep(int64_t stepNumber) {
  const PrecisionSettings &settings = formatControl->precisionSettings();
  bool redo = settings.onOverflow == OverflowAction::Redo;
  if (redo && attempt >= settings.attempts) {
    if (world.leader())
      std::printf("precision: step %" PRId64 " overflowed in %d attempts; "
                  "its updates stay\n",
                  stepNumber, attempt);
    attempt = 1;
    return false;
  }
  snapshot.restore(*ctx, arena, dlc_model);
  // The updates it left for the next step are undone with it.
  carriedPending = false;
  if (world.leader())
    std::printf("precision: step %" PRId64 " %s\n", stepNumber,
                redo ? ("redone (attempt " + std::to_string(attempt + 1) + ")")
                           .c_str()
                     : "skipped: its updates undone");
  if (!redo) {
    ++skippedSteps;
    return false;
  }
  ++redoneSteps;
  ++attempt;
  return true;
}

int Trainer::run() {
  // An adjustable program gathers statistics at its formats' interval,
  // which --stats-out records.
  if (!dlc_model.adjustableFormats &&
      (options.statsEvery > 0) != !options.statsOut.empty())
    throw Error(options.statsOut.empty()
                    ? "--stats-every needs --stats-out FILE.json"
                    : "--stats-out needs --stats-every N");
  if (!dlc_model.adjustableFormats && options.precisionFlagsGiven)
    throw Error("--calibration-steps, --amax-history and the tolerances are "
                "for a program compiled with dlc --precision=auto");
  if (options.stochasticRounding && dlc_model.numPrecision == 0)
    throw Error("--rounding=stochastic: this trainer was compiled without "
                "number formats (dlc ... --precision=bf16, or "
                "--precision-plan FILE)");
  if (!options.precisionPlanOut.empty() && dlc_model.numPrecision == 0)
    throw Error("--precision-plan-out: this trainer was compiled without "
                "number formats (dlc ... --precision=bf16, or "
                "--precision-plan FILE)");
  if (options.statsEvery || !options.statsOut.empty()) {
    if (dlc_model.numStatistics == 0)
      throw Error("--stats-every: this trainer was compiled without "
                  "statistics (dlc ... --tensor-stats)");
    statistics.assign(dlc_model.numStatistics, precision::Statistics());
  }
  comm::Link link = comm::link();
  if (!options.tracePath.empty()) {
    trace::enable(world.rank);
    if (link.measured()) {
      trace::note("link_alpha_us", link.alphaSeconds * 1e6);
      trace::note("link_gbit", link.bytesPerSecond * 8e-9);
      // For the replay (simulate_scaling.py): in which order sums went out.
      trace::note("comm_priority_order", comm::sendsByPriority() ? 1.0 : 0.0);
    }
  }
  // The ranks' programs must agree, or their collectives mix tensors.
  if (!comm::sameOnEveryRank(dlc_model.programHash))
    throw Error("the ranks of this job run different programs (this one's "
                "step hashes to " +
                hexadecimal(dlc_model.programHash) +
                "): start every rank from the same executable");
  if (!options.savePath.empty() && dlc_onnx_model_end == dlc_onnx_model)
    throw Error("--save: this program was built from an .mlir file that "
                "carries no ONNX model (dlc.onnx_model), so it cannot write "
                "one; build it from the .onnx file or from a stage dlc wrote");
  loadData();
  int64_t globalBatch = batch * world.size;
  int64_t stepsPerEpoch = train.count / globalBatch;
  if (stepsPerEpoch == 0)
    throw Error("the training set's " + std::to_string(train.count) +
                " samples do not fill one global batch of " +
                std::to_string(globalBatch));
  if (int64_t left = train.count % globalBatch; left && world.leader())
    std::printf("note: %" PRId64 " training samples per epoch do not fill a "
                "global batch of %" PRId64 " and are not used%s\n",
                left, globalBatch,
                options.shuffle ? " (a different set each epoch)" : "");
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
  if (world.leader() && link.measured())
    std::printf("link between ranks: %.0f us, %.3g Gbit/s (a ping-pong at "
                "start-up); a sum of 2 floats takes %.0f us: gradients "
                "placed together are averaged together up to %.3g KiB\n",
                link.alphaSeconds * 1e6, link.bytesPerSecond * 8e-9,
                comm::sumLatencySeconds() * 1e6, comm::bucketBytes() / 1024.0);

  resolveHyperparameters(options.steps ? std::min(options.steps,
                                                   options.epochs *
                                                       stepsPerEpoch)
                                      : options.epochs * stepsPerEpoch);
  if (world.leader()) {
    std::printf("optimizer: lr %g", hyper.lr);
    if (hyper.optimizer == Optimizer::Sgd)
      std::printf(", momentum %g", hyper.momentum);
    else
      std::printf(", betas %g %g, eps %g", hyper.beta1, hyper.beta2, hyper.eps);
    std::printf(", weight decay %g", hyper.weightDecay);
    const char *kinds[] = {"constant", "step", "cosine"};
    std::printf("; schedule %s", kinds[static_cast<int>(schedule.kind)]);
    if (schedule.warmupSteps)
      std::printf(" after %" PRId64 " warm-up steps", schedule.warmupSteps);
    std::printf("\n");
  }
  std::mt19937_64 rng(options.seed);
  TrainingPosition position;
  if (!options.resumeDir.empty()) {
    position = resume();
    std::istringstream(position.shuffleState) >> rng;
    // A checkpoint at an epoch's end continues with the next epoch (whose
    // shuffle starts from the order it saved, as an uninterrupted run's).
    if (position.stepInEpoch == stepsPerEpoch) {
      ++position.epoch;
      position.stepInEpoch = 0;
    }
  } else {
    position.order.resize(train.count);
    std::iota(position.order.begin(), position.order.end(), 0);
  }
  bool checkpointing = !options.checkpointDir.empty();
  auto limitReached = [&] {
    return options.steps && position.stepsDone >= options.steps;
  };

  // Appended to, so that a resumed run continues the log.
  std::unique_ptr<std::FILE, int (*)(std::FILE *)> lossLog(nullptr,
                                                          std::fclose);
  if (!options.lossLogPath.empty() && world.leader()) {
    lossLog.reset(std::fopen(options.lossLogPath.c_str(),
                             options.resumeDir.empty() ? "w" : "a"));
    if (!lossLog)
      throw Error("cannot write '" + options.lossLogPath +
                  "': " + std::strerror(errno));
  }
  std::signal(SIGTERM, requestStop);
  std::signal(SIGINT, requestStop);
  int64_t epochsRun = 0;
  double lastLoss = NAN, epochLoss = NAN, testAccuracy = NAN;
  // Each step's mean loss and the ranks' stop requests travel in one small
  // nonblocking allreduce, finished after the next step (or at once where
  // the step's outcome is needed: a check, a checkpoint, a progress line,
  // the last step): a blocking one waits behind the step's gradient
  // averages on a busy link (25 to 100 ms a step of ResNet-18 over
  // 1 Gbit/s).
  comm::ScalarSum outcome;
  int64_t outcomeStep = 0;
  bool outcomePending = false, stopAsked = false;
  auto settleOutcome = [&] {
    if (!outcomePending)
      return;
    outcomePending = false;
    comm::finishScalarSum(outcome);
    lastLoss = outcome.values[0] / world.size;
    stopAsked = stopAsked || outcome.values[1] > 0.0;
    position.epochLossSum += lastLoss;
    if (lossLog)
      std::fprintf(lossLog.get(), "%.9g\n", lastLoss);
    if (!std::isfinite(lastLoss))
      checkFinite(outcomeStep, lastLoss);
  };
  double trainSeconds = 0.0;
  int64_t stepsTimed = 0;
  /// Each step's seconds, for the steady-state median.
  std::vector<double> stepSeconds;
  bool stopped = false;
  for (; position.epoch <= options.epochs && !limitReached() && !stopped;
       ++position.epoch) {
    if (position.stepInEpoch == 0) {
      if (options.shuffle)
        shuffleIndices(position.order, rng);
      std::ostringstream state;
      state << rng;
      position.shuffleState = state.str();
      position.epochLossSum = 0.0;
    }
    ++epochsRun;
    synchronize(*ctx);
    double start = now();
    int64_t firstStep = position.stepInEpoch;
    while (position.stepInEpoch < stepsPerEpoch && !limitReached()) {
      int64_t step = position.stepInEpoch;
      setRandomKey(*ctx, options.seed, world.rank, position.stepsDone);
      hyper.lr = static_cast<float>(
          schedule.at(options.lr.value_or(dlc_model.defaults.lr),
                      position.stepsDone));
      hyper.step = position.stepsDone + 1;
      // A step that may be undone starts from settled variables.
      bool undoable = formatControl->undoable();
      if (undoable) {
        completeCarried();
        snapshot.take(*ctx, arena, dlc_model);
      }
      // A pipelined step applies the updates of the step before it.
      setHyperparameters(*ctx, carriedPending ? carriedHyper : hyper);
      bool last = step + 1 == stepsPerEpoch ||
                  (options.steps && position.stepsDone + 1 >= options.steps);
      bool checkpointNow =
          checkpointing &&
          (options.checkpointEvery
               ? (position.stepsDone + 1) % options.checkpointEvery == 0
               : step + 1 == stepsPerEpoch);
      bool check = last || checkpointNow ||
                   (options.checkEvery &&
                    (position.stepsDone + 1) % options.checkEvery == 0);
      bool dump = position.stepsDone == 0 && !options.dumpGradientsDir.empty();
      observeGradients(dump, check);
      currentStep = position.stepsDone + 1;
      // An adjustable program's statistics are the formats' (which
      // --stats-out records too); another's, --stats-out's alone.
      bool adjustable = dlc_model.adjustableFormats;
      bool gather = adjustable ? formatControl->gathers()
                               : options.statsEvery &&
                                     position.stepsDone % options.statsEvery == 0;
      setStatistics(*ctx, !gather        ? nullptr
                          : adjustable ? &formatControl->interval()
                                       : &statistics);
      statisticsSteps += gather;
      double stepStart = now();
      trace::begin("step", "step");
      // A recorded step replays the branch its record took: with a
      // pipelined program, only steps that apply carried updates are
      // recorded.
      bool pipelined = dlc_model.flushCarried != nullptr;
      double loss = trainStep(position.order, step,
                              options.cudaGraph && !dump && !check &&
                                  (!pipelined || carriedPending),
                              !last);
      if (pipelined) {
        carriedPending = true;
        carriedHyper = hyper;
      }
      // The checks and --dump-gradients see this step's gradients and
      // updated weights.
      if (dump || check)
        completeCarried();
      if (adjustable)
        adjustFormats(position.stepsDone + 1, gather);
      if (undoable && formatControl->overflowed() &&
          undoStep(position.stepsDone + 1)) {
        trace::end();
        stepSeconds.push_back(now() - stepStart);
        continue;
      }
      attempt = 1;
      ++position.stepInEpoch;
      ++position.stepsDone;
      settleOutcome();
      outcome.values[0] = loss;
      outcome.values[1] = stopRequested ? 1.0 : 0.0;
      outcomeStep = position.stepsDone;
      outcomePending = true;
      comm::startScalarSum(outcome);
      // Where the same on every rank, so that all stop after the same step.
      bool progressLine =
          options.logEvery && (step + 1) % options.logEvery == 0;
      if (last || check || checkpointNow || progressLine)
        settleOutcome();
      stopped = stopAsked;
      if (stopped) {
        settleOutcome();
        completeCarried();
      }
      if (check || stopped)
        checkFinite(position.stepsDone, lastLoss);
      trace::end();
      stepSeconds.push_back(now() - stepStart);
      if (world.leader() && progressLine)
        std::printf("epoch %" PRId64 " step %" PRId64 "/%" PRId64
                    " loss %.6f images/s %.0f\n",
                    position.epoch, step + 1, stepsPerEpoch, lastLoss,
                    (step + 1 - firstStep) * globalBatch / (now() - start));
      if (checkpointNow || (stopped && checkpointing))
        writeCheckpoint(position);
      if (stopped)
        break;
    }
    settleOutcome();
    observeGradients(false, false);
    synchronize(*ctx);
    double seconds = now() - start;
    trainSeconds += seconds;
    int64_t epochSteps = position.stepInEpoch - firstStep;
    stepsTimed += epochSteps;
    if (stopped)
      break;
    epochLoss = position.epochLossSum / position.stepInEpoch;
    if (hasTest) {
      trace::begin("evaluate", "step");
      testAccuracy = evaluate();
      trace::end();
    }
    if (world.leader()) {
      std::printf("epoch %" PRId64 " done: %" PRId64
                  " steps, mean loss %.6f, %.0f images/s",
                  position.epoch, position.stepInEpoch, epochLoss,
                  epochSteps * globalBatch / seconds);
      if (hasTest)
        std::printf(", test accuracy %.4f", testAccuracy);
      std::printf("\n");
    }
    if (position.stepInEpoch < stepsPerEpoch)
      break; // --steps ended the run inside this epoch
    position.stepInEpoch = 0;
  }

  lossLog.reset();
  setStatistics(*ctx, nullptr);
  if (!options.statsOut.empty() && world.leader())
    writeFileAtomically(options.statsOut, statisticsJson());
  if (!options.precisionPlanOut.empty() && world.leader())
    writeFileAtomically(options.precisionPlanOut, formatControl->planJson());
  if (!options.tracePath.empty())
    writeFileAtomically(tracePathOfRank(options.tracePath, world),
                        trace::json());
  if (stopped) {
    if (world.leader())
      std::printf("stopped by a signal after step %" PRId64 "; %s\n",
                  position.stepsDone,
                  checkpointing ? ("resume with --resume " +
                                   options.checkpointDir).c_str()
                                : "no --checkpoint-dir, nothing written");
    std::fflush(stdout);
    return checkpointing ? 0 : 128 + SIGTERM;
  }
  // Every rank finishes its averages, not only the one that writes.
  completeCarried();
  if (!options.savePath.empty() && world.leader())
    save();
  if (world.leader()) {
    auto number = [](double v) {
      char text[32];
      std::snprintf(text, sizeof(text), std::isfinite(v) ? "%.9g" : "null", v);
      return std::string(text);
    };
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    int64_t deviceBytes = peakDeviceBytes(*ctx);
    // Steady state: the median step after the first (which builds the
    // library's primitives and first touches the arena).
    double steadyStep = std::nan("");
    if (stepSeconds.size() > 1) {
      std::vector<double> later(stepSeconds.begin() + 1, stepSeconds.end());
      std::nth_element(later.begin(), later.begin() + later.size() / 2,
                       later.end());
      steadyStep = later[later.size() / 2];
    }
    std::printf(
        "{\"epochs\":%" PRId64 ",\"steps\":%" PRId64
        ",\"last_loss\":%s,\"train_loss\":%s,\"test_accuracy\":%s,"
        "\"images_per_second\":%s,\"arena_bytes\":%" PRId64
        ",\"peak_rss_bytes\":%" PRId64 ",\"step_seconds\":%s"
        ",\"library_workspace_bytes\":%" PRId64
        ",\"peak_device_bytes\":%s,\"comm_wait_seconds\":%s"
        ",\"link_alpha_us\":%s,\"link_gbit\":%s"
        ",\"sum_latency_us\":%s,\"allreduces_per_step\":%s"
        ",\"overflow_redos\":%" PRId64 ",\"overflow_skips\":%" PRId64 "}\n",
        epochsRun, position.stepsDone, number(lastLoss).c_str(),
        number(epochLoss).c_str(), number(testAccuracy).c_str(),
        number(stepsTimed * globalBatch / trainSeconds).c_str(),
        dlc_model.arenaBytes, int64_t(usage.ru_maxrss) * 1024,
        number(steadyStep).c_str(), libraryWorkspaceBytes(),
        deviceBytes < 0 ? "null" : std::to_string(deviceBytes).c_str(),
        number(comm::blockedSeconds()).c_str(),
        link.measured() ? number(link.alphaSeconds * 1e6).c_str() : "null",
        link.measured() ? number(link.bytesPerSecond * 8e-9).c_str() : "null",
        link.measured() ? number(comm::sumLatencySeconds() * 1e6).c_str()
                        : "null",
        world.size > 1 && !stepSeconds.empty()
            ? number(double(comm::sumsStarted()) / stepSeconds.size()).c_str()
            : "null",
        redoneSteps, skippedSteps);
  }
  std::fflush(stdout);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  World world = comm::initialize(argc, argv, &currentStep);
  if (world.mpi)
    std::snprintf(rankPrefix, sizeof(rankPrefix), "rank %d: ", world.rank);
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
      comm::abortJob(1);
    status = 1;
  }
  comm::finalize(world);
  return status;
}
