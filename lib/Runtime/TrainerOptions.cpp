//===- TrainerOptions.cpp - the trainer's command line --------------------===//

#include "TrainerOptions.h"
#include "Error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

using namespace dlc::rt;

namespace {
int64_t parseInteger(const std::string &flag, const char *text, int64_t min) {
  char *end = nullptr;
  errno = 0;
  long long value = std::strtoll(text, &end, 10);
  if (errno || end == text || *end || value < min)
    throw Error("invalid value '" + std::string(text) + "' for " + flag +
                ": expected an integer >= " + std::to_string(min));
  return value;
}

double parseNumber(const std::string &flag, const char *text, double min,
                   double max, bool minIncluded = true) {
  char *end = nullptr;
  errno = 0;
  double value = std::strtod(text, &end);
  bool inRange = minIncluded ? value >= min : value > min;
  if (errno || end == text || *end || !std::isfinite(value) || !inRange ||
      value > max)
    throw Error("invalid value '" + std::string(text) + "' for " + flag +
                ": expected a number in " + (minIncluded ? "[" : "(") +
                std::to_string(min) + ", " + std::to_string(max) + "]");
  return value;
}
} // namespace

std::string dlc::rt::trainerUsage(const char *program) {
  return std::string("usage: ") + program +
         R"( (--data DIR | --train-x X.npy --train-y Y.npy) [options]

Trains the model compiled into this program. Run under mpirun for
data-parallel training; the compiled batch is the batch of each rank.

Data:
  --data DIR        IDX files in MNIST naming (train-images-idx3-ubyte,
                    train-labels-idx1-ubyte, t10k-* for the test set),
                    gzip-compressed (.gz) or raw
  --train-x FILE    .npy samples: float32, or uint8 (scaled to [0,1])
  --train-y FILE    .npy integer class labels
  --test-x FILE     .npy test samples (optional)
  --test-y FILE     .npy test labels (optional)
Model:
  --init FILE.onnx  start from the initializers of FILE.onnx (matched by
                    name, shapes checked) instead of the compiled-in values;
                    needed by a program compiled with --external-weights
Training:
  --epochs N        passes over the training set (default 1)
  --steps N         stop after N steps in all (default: no limit)
  --seed N          seed of the global shuffle (default 0)
  --no-shuffle      keep the data set's order
  --threads N       CPU threads, at most the machine's (default: the
                    library's default)
  --no-cuda-graph   on the GPU, issue every step's calls one by one instead
                    of replaying the step captured as a CUDA graph (to
                    compare; no effect on the CPU)
  --cudnn-find      on the GPU, choose each convolution's algorithm by timing
                    cuDNN's candidates when it first runs (cuDNN's find)
                    instead of taking its heuristics' first (the default);
                    no effect on the CPU
  --comm mpi|nccl   how gradients are averaged: over MPI (the default;
                    on the GPU through pinned host memory, a pipeline of
                    chunks), or, on the GPU only, with NCCL from GPU memory
                    (NCCL is loaded then; with one rank too, as a check)
  --log-every N     progress line every N steps (default 100, 0: off)
  --check-every N   check the loss, every gradient and every parameter for
                    NaN or infinity every N steps (default 0: at the end of
                    each epoch, and always before writing a model or a
                    checkpoint); a non-finite value stops the run
Optimizer (defaults: the values this program was compiled with):
  --lr X            learning rate (before the schedule)
  --momentum X      SGD momentum; a program compiled without momentum has no
                    velocity state and takes only 0
  --weight-decay X  L2 for SGD and Adam, decoupled for AdamW
  --beta1 X, --beta2 X, --eps X
                    Adam and AdamW
  --lr-schedule constant|step|cosine
                    constant (default); step: times --lr-gamma (default
                    0.1) every --lr-step-size N steps (StepLR); cosine: down
                    to --lr-min (default 0) over --cosine-steps N (default:
                    the run's steps) (CosineAnnealingLR)
  --warmup-steps N  multiply by a factor rising linearly from
                    --warmup-start-factor (default 1/3) to 1 over N steps
                    (LinearLR)
Checkpoints:
  --checkpoint-dir DIR
                    write checkpoints (parameters, optimizer state, running
                    statistics, data order and random state) to DIR, each
                    atomically, as checkpoint-<step>.dlc
  --checkpoint-every N
                    every N steps (default: at the end of each epoch)
  --keep-checkpoints K
                    keep the newest K checkpoints (default 3)
  --resume DIR      continue from the newest checkpoint in DIR (written by
                    this program, with as many ranks); --epochs and --steps
                    count from the start of the first run; checkpoints go on
                    into DIR unless --checkpoint-dir says otherwise
  SIGTERM or SIGINT finishes the current step, writes a checkpoint (with
  --checkpoint-dir or --resume) and exits 0; without either it writes
  nothing and exits 143.
Output:
  --save FILE.onnx  write the model with its trained parameters (atomically:
                    the old file or the new one, never a mix)
  --loss-log FILE   write every step's loss (the mean over ranks, 9
                    significant digits) to FILE, one line per step
  --dump-gradients DIR
                    after the first step's backward, before its update,
                    write each parameter's gradient (averaged over ranks) as
                    an ONNX TensorProto: DIR/<initializer name>.pb, with
                    '/' in the name replaced by '_'
  --trace FILE.json write a Chrome trace (Perfetto, chrome://tracing) of
                    every step, kernel call, gradient average and wait;
                    under mpirun one per rank, FILE.rank<N>.json
  --stats-every N --stats-out FILE.json
                    (a program compiled with dlc --tensor-stats) in the first step
                    and every N-th after it, gather per tensor (parameters,
                    activations kept for the backward pass, gradients) the
                    largest magnitude, the zeros and non-finite values, and
                    a histogram of leading-bit positions; rank 0 writes
                    them to FILE.json at the end. With dlc --precision=auto
                    either may come alone: FILE.json then holds the steps
                    the formats were chosen and kept from
  --precision-plan-out FILE.json
                    (a program compiled with dlc --precision or
                    --precision-plan) write each tensor's number format, as
                    it was at the end, as a plan dlc --precision-plan reads
  --calibration-steps K
                    (dlc --precision=auto) train the first K steps in fp32,
                    gathering statistics, then give each tensor the
                    narrowest format they fit (default 10); after that,
                    --stats-every N (default 10) steps apart, move each
                    tensor's exponent, or widen its format, to fit the
                    statistics of its last --amax-history H such steps
                    (default 16)
  --overflow-tolerance E --underflow-tolerance D
                    (dlc --precision=auto) the share of a tensor's nonzero
                    values a format may leave above its range (default
                    1e-4; a step that saturates more raises the exponent at
                    once) and below it (default 1e-3)
  --scale-margin B  (dlc --precision=auto) place each tensor's exponent B
                    positions above what its statistics need, so that its
                    values may grow 2^B times before they saturate
                    (default 1, at most 16)
  --on-overflow redo|skip|keep
                    (dlc --precision=auto) after a step that saturated a
                    tensor past the tolerance and raised its exponent: run
                    the step again from the variables it started from (redo,
                    the default; at most 16 attempts, the last one stays),
                    go on to the next batch from them (skip), or keep its
                    updates (keep). redo and skip copy the variables to the
                    host before each step, and a pipelined program
                    (--overlap=next-forward) finishes its carried updates
                    before that copy
  --rounding nearest|stochastic
                    (dlc --precision or --precision-plan) round the
                    gradients, activations' and weights', to their formats
                    to nearest, ties to even (the default), or
                    stochastically: up with probability the distance from
                    the value below over the step, so that a rounded
                    gradient is the exact one on average; random bits from
                    --seed, the rank, the step and the element, as dropout's.
                    Activations and weights round to nearest either way
  --help            this text
Environment, under mpirun:
  DLC_COMM_ORDER=program|priority
                    send each gradient average whole when it starts (the
                    default), or agree with the other ranks to send first
                    the one the step needs first
  DLC_COMM_CHUNK_BYTES=N
                    averages over N bytes (default 4 MiB) go as a pipeline
                    of chunks of N bytes
  DLC_COMM_BUCKET_BYTES=N
                    average gradients the compiler placed together in one
                    collective up to N bytes (default: 9 alpha beta of the
                    link measured at start-up, rounded down to a power of
                    two; 0: each alone). Fix it for bit-identical reruns
                    with more than two ranks
  DLC_COMM_EMULATE_LINK=ALPHA_US:GBIT_S
                    a test aid: averages cross an emulated link of that
                    latency and bandwidth, one chunk after another (and
                    are bucketed for it)
)";
}

namespace {
/// One of dlc --precision=auto's settings.
void parsePrecisionSetting(const std::string &flag, const char *text,
                           PrecisionSettings &settings) {
  if (flag == "--calibration-steps")
    settings.calibrationSteps = parseInteger(flag, text, 1);
  else if (flag == "--amax-history")
    settings.history = static_cast<int>(parseInteger(flag, text, 1));
  else if (flag == "--on-overflow") {
    std::string action = text;
    if (action == "redo")
      settings.onOverflow = OverflowAction::Redo;
    else if (action == "skip")
      settings.onOverflow = OverflowAction::Skip;
    else if (action == "keep")
      settings.onOverflow = OverflowAction::Keep;
    else
      throw Error("--on-overflow: '" + action +
                  "' is not one of redo, skip, keep");
  } else if (flag == "--scale-margin") {
    int64_t margin = parseInteger(flag, text, 0);
    if (margin > 16)
      throw Error("--scale-margin " + std::to_string(margin) +
                  ": at most 16 positions");
    settings.tolerances.margin = static_cast<int>(margin);
  } else if (flag == "--overflow-tolerance")
    settings.tolerances.overflow = parseNumber(flag, text, 0.0, 1.0);
  else
    settings.tolerances.underflow = parseNumber(flag, text, 0.0, 1.0);
}
} // namespace

TrainerOptions dlc::rt::parseTrainerOptions(int argc, char **argv) {
  TrainerOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string inlineValue;
    bool hasInline = false;
    if (size_t eq = flag.find('='); flag.rfind("--", 0) == 0 &&
                                    eq != std::string::npos) {
      inlineValue = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      hasInline = true;
    }
    auto value = [&]() -> const char * {
      if (hasInline)
        return inlineValue.c_str();
      if (i + 1 >= argc)
        throw Error("missing value for " + flag);
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h")
      options.help = true;
    else if (flag == "--data")
      options.dataDir = value();
    else if (flag == "--init")
      options.initPath = value();
    else if (flag == "--train-x")
      options.trainX = value();
    else if (flag == "--train-y")
      options.trainY = value();
    else if (flag == "--test-x")
      options.testX = value();
    else if (flag == "--test-y")
      options.testY = value();
    else if (flag == "--epochs")
      options.epochs = parseInteger(flag, value(), 1);
    else if (flag == "--steps")
      options.steps = parseInteger(flag, value(), 1);
    else if (flag == "--seed")
      options.seed = parseInteger(flag, value(), 0);
    else if (flag == "--no-shuffle")
      options.shuffle = false;
    else if (flag == "--trace")
      options.tracePath = value();
    else if (flag == "--stats-every")
      options.statsEvery = parseInteger(flag, value(), 1);
    else if (flag == "--stats-out")
      options.statsOut = value();
    else if (flag == "--precision-plan-out")
      options.precisionPlanOut = value();
    else if (flag == "--calibration-steps" || flag == "--amax-history" ||
             flag == "--on-overflow" || flag == "--scale-margin" ||
             flag == "--overflow-tolerance" ||
             flag == "--underflow-tolerance") {
      parsePrecisionSetting(flag, value(), options.precision);
      options.precisionFlagsGiven = true;
    }
    else if (flag == "--rounding") {
      std::string rounding = value();
      if (rounding != "nearest" && rounding != "stochastic")
        throw Error("--rounding: '" + rounding +
                    "' is not one of nearest, stochastic");
      options.stochasticRounding = rounding == "stochastic";
    }
    else if (flag == "--no-cuda-graph")
      options.cudaGraph = false;
    else if (flag == "--cudnn-find")
      options.cudnnFind = true;
    else if (flag == "--comm") {
      std::string library = value();
      if (library != "mpi" && library != "nccl")
        throw Error("--comm " + library + ": expected mpi or nccl");
      options.nccl = library == "nccl";
    } else if (flag == "--threads") {
      int64_t threads = parseInteger(flag, value(), 1);
      // More threads than CPUs only slows down; far more exhausts memory.
      int64_t cpus = std::max(1u, std::thread::hardware_concurrency());
      if (threads > cpus)
        throw Error("--threads " + std::to_string(threads) +
                    ": this machine has " + std::to_string(cpus) + " CPU(s)");
      options.threads = static_cast<int>(threads);
    } else if (flag == "--log-every")
      options.logEvery = parseInteger(flag, value(), 0);
    else if (flag == "--check-every")
      options.checkEvery = parseInteger(flag, value(), 0);
    else if (flag == "--checkpoint-dir")
      options.checkpointDir = value();
    else if (flag == "--checkpoint-every")
      options.checkpointEvery = parseInteger(flag, value(), 1);
    else if (flag == "--keep-checkpoints")
      options.keepCheckpoints = parseInteger(flag, value(), 1);
    else if (flag == "--resume")
      options.resumeDir = value();
    else if (flag == "--lr")
      options.lr = parseNumber(flag, value(), 0.0, 1e30, false);
    else if (flag == "--momentum")
      options.momentum = parseNumber(flag, value(), 0.0, 0.999999);
    else if (flag == "--weight-decay")
      options.weightDecay = parseNumber(flag, value(), 0.0, 1e30);
    else if (flag == "--beta1")
      options.beta1 = parseNumber(flag, value(), 0.0, 0.999999);
    else if (flag == "--beta2")
      options.beta2 = parseNumber(flag, value(), 0.0, 0.999999);
    else if (flag == "--eps")
      options.eps = parseNumber(flag, value(), 0.0, 1.0, false);
    else if (flag == "--lr-schedule")
      options.schedule.kind = parseScheduleKind(value());
    else if (flag == "--lr-step-size")
      options.schedule.stepSize = parseInteger(flag, value(), 1);
    else if (flag == "--lr-gamma")
      options.schedule.gamma = parseNumber(flag, value(), 0.0, 1.0, false);
    else if (flag == "--lr-min")
      options.schedule.minLr = parseNumber(flag, value(), 0.0, 1e30);
    else if (flag == "--cosine-steps") {
      options.schedule.cosineSteps = parseInteger(flag, value(), 1);
      options.cosineStepsGiven = true;
    } else if (flag == "--warmup-steps")
      options.schedule.warmupSteps = parseInteger(flag, value(), 0);
    else if (flag == "--warmup-start-factor")
      options.schedule.warmupStartFactor =
          parseNumber(flag, value(), 0.0, 1.0, false);
    else if (flag == "--save")
      options.savePath = value();
    else if (flag == "--loss-log")
      options.lossLogPath = value();
    else if (flag == "--dump-gradients")
      options.dumpGradientsDir = value();
    else
      throw Error("unknown option '" + std::string(argv[i]) +
                  "' (see --help)");
  }
  if (options.help)
    return options;
  bool npy = !options.trainX.empty() || !options.trainY.empty();
  if (!options.dataDir.empty() && npy)
    throw Error("give either --data or --train-x/--train-y, not both");
  if (options.dataDir.empty() && !npy)
    throw Error("no training data: give --data DIR or --train-x and --train-y");
  if (npy && (options.trainX.empty() || options.trainY.empty()))
    throw Error("--train-x and --train-y go together");
  if (options.testX.empty() != options.testY.empty())
    throw Error("--test-x and --test-y go together");
  if (options.checkpointDir.empty())
    options.checkpointDir = options.resumeDir;
  if (options.schedule.kind == LrSchedule::Kind::Step &&
      options.schedule.stepSize == 0)
    throw Error("--lr-schedule step needs --lr-step-size N");
  return options;
}
