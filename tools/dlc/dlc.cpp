//===- dlc.cpp - the dlc compiler driver ----------------------------------===//
//
// ONNX model -> graph dialect -> training step -> memory plan -> C++ or CUDA
// C++ -> training executable. `--emit=` stops at any stage; an `.mlir` input
// resumes from the stage it was written at.
//
//===----------------------------------------------------------------------===//

#include "HostCompile.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Import/OnnxImporter.h"
#include "dlc/InitAllDialects.h"
#include "dlc/InitAllPasses.h"
#include "dlc/Support/Blob.h"
#include "dlc/Target/InitialValues.h"
#include "dlc/Target/OnnxModel.h"
#include "dlc/Transforms/MemoryReport.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/AsmState.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/Cpp/CppEmitter.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>

using namespace mlir;
using namespace llvm;

namespace {

enum class Emit { Mlir, Training, Exec, Lowered, Source, Exe };

cl::OptionCategory dlcCategory("dlc options");

cl::opt<std::string> inputFilename(cl::Positional,
                                   cl::desc("<model.onnx | stage.mlir>"),
                                   cl::cat(dlcCategory));
cl::opt<std::string> outputFilename(
    "o", cl::value_desc("file"), cl::cat(dlcCategory),
    cl::desc("Output file (default: 'trainer' for --emit=exe, else stdout)"));
cl::opt<Emit> emitStage(
    "emit", cl::desc("Stage to stop at"), cl::init(Emit::Exe),
    cl::cat(dlcCategory),
    cl::values(clEnumValN(Emit::Mlir, "mlir", "imported forward graph"),
               clEnumValN(Emit::Training, "training",
                          "training step: loss, gradients, optimizer"),
               clEnumValN(Emit::Exec, "exec",
                          "execution IR: kernels on planned arena buffers"),
               clEnumValN(Emit::Lowered, "lowered",
                          "EmitC runtime calls on arena offsets"),
               clEnumValN(Emit::Source, "source",
                          "generated C++ / CUDA C++ source"),
               clEnumValN(Emit::Exe, "exe", "training executable (default)")));
cl::opt<dlc::Target>
    target("target", cl::desc("Code generation target"),
           cl::init(dlc::Target::Cpu), cl::cat(dlcCategory),
           cl::values(clEnumValN(dlc::Target::Cpu, "cpu",
                                 "C++ on oneDNN and OpenMP (default)"),
                      clEnumValN(dlc::Target::Cuda, "cuda",
                                 "CUDA C++ on cuBLAS and cuDNN (needs nvcc)")));
enum class CpuLayout { Auto, Plain, Block8, Block16 };
cl::opt<CpuLayout> cpuLayout(
    "cpu-layout", cl::init(CpuLayout::Auto), cl::cat(dlcCategory),
    cl::desc("--target=cpu: the layout of activations between oneDNN's "
             "convolutions, batch norm and pooling in the arena"),
    cl::values(clEnumValN(CpuLayout::Auto, "auto",
                          "the blocked layout oneDNN picks for convolutions "
                          "on this machine: nChw16c with AVX-512, nChw8c "
                          "with AVX2 (default)"),
               clEnumValN(CpuLayout::Plain, "plain",
                          "NCHW everywhere: oneDNN reorders around each "
                          "convolution"),
               clEnumValN(CpuLayout::Block8, "nChw8c",
                          "channels in blocks of 8"),
               clEnumValN(CpuLayout::Block16, "nChw16c",
                          "channels in blocks of 16 (a trainer run on a CPU "
                          "whose oneDNN picks another layout still trains "
                          "correctly: it reorders)")));
cl::opt<int64_t> batchSize("batch", cl::init(128), cl::cat(dlcCategory),
                           cl::desc("Batch size per rank (default 128)"));
cl::opt<dlc::Loss> lossName("loss", cl::init(dlc::Loss::CrossEntropy),
                            cl::cat(dlcCategory), cl::desc("Loss"),
                            DLC_LOSS_VALUES);
cl::opt<dlc::BatchNormMode> batchNormMode(
    "batchnorm", cl::init(dlc::BatchNormMode::Train), cl::cat(dlcCategory),
    cl::desc("BatchNormalization while training"), DLC_BATCHNORM_VALUES);
cl::opt<dlc::DropoutMode> dropoutMode(
    "dropout", cl::init(dlc::DropoutMode::Train), cl::cat(dlcCategory),
    cl::desc("Dropout while training"), DLC_DROPOUT_VALUES);
cl::opt<dlc::Optimizer> optimizerName(
    "optimizer", cl::init(dlc::Optimizer::Sgd), cl::cat(dlcCategory),
    cl::desc("Optimizer, as torch.optim defines them. The hyperparameters "
             "below are defaults the trainer's flags of the same names "
             "override"),
    DLC_OPTIMIZER_VALUES);
cl::opt<float> learningRate("lr", cl::init(0.01f), cl::cat(dlcCategory),
                            cl::desc("Learning rate (default 0.01)"));
cl::opt<float> momentum("momentum", cl::init(0.0f), cl::cat(dlcCategory),
                        cl::desc("SGD momentum (default 0: the program has "
                                 "no velocity state, and the trainer cannot "
                                 "turn momentum on)"));
cl::opt<float> weightDecay(
    "weight-decay", cl::init(0.0f), cl::cat(dlcCategory),
    cl::desc("Weight decay: L2 for sgd and adam, decoupled for adamw "
             "(default 0)"));
cl::opt<float> beta1("beta1", cl::init(0.9f), cl::cat(dlcCategory),
                     cl::desc("Adam beta1 (default 0.9)"));
cl::opt<float> beta2("beta2", cl::init(0.999f), cl::cat(dlcCategory),
                     cl::desc("Adam beta2 (default 0.999)"));
cl::opt<float> adamEps("eps", cl::init(1e-8f), cl::cat(dlcCategory),
                       cl::desc("Adam epsilon (default 1e-8)"));
cl::opt<std::string> hostCompiler("host-cxx", cl::init("c++"),
                                  cl::cat(dlcCategory),
                                  cl::desc("Host C++ compiler for --target=cpu"));
cl::opt<bool> keepTemporaries("keep-temps", cl::cat(dlcCategory),
                              cl::desc("Keep the generated files of --emit=exe"));
cl::opt<std::string> reportMemory(
    "report-memory", cl::value_desc("file.json"), cl::cat(dlcCategory),
    cl::desc("Write the memory plan's report (arena, lower bound, naive "
             "bytes, a timeline of the training step) as JSON"));
cl::opt<std::string> memoryBudget(
    "memory-budget", cl::value_desc("bytes"), cl::cat(dlcCategory),
    cl::desc("Largest arena allowed (suffixes K, M, G: powers of 1024); "
             "values are recomputed to fit, or the compile fails and says "
             "how small it got"));
enum class Overlap { Auto, NextForward, Backward, BackwardLate, None };
cl::opt<Overlap> overlap(
    "overlap", cl::init(Overlap::Auto), cl::cat(dlcCategory),
    cl::desc("Under mpirun, where each gradient's allreduce runs"),
    cl::values(clEnumValN(Overlap::Auto, "auto",
                          "next-forward, unless that raises the training "
                          "step's peak of live bytes more than 5% over "
                          "backward's, then backward; backward under "
                          "--memory-budget (default)"),
               clEnumValN(Overlap::NextForward, "next-forward",
                          "started as soon as the gradient is final, waited "
                          "for in the next step just before that layer's "
                          "forward, which then updates the weights: "
                          "overlapped with the rest of the backward pass and "
                          "the next forward pass"),
               clEnumValN(Overlap::Backward, "backward",
                          "started as soon as the gradient is final, waited "
                          "for just before its update in the same step: "
                          "overlapped with the rest of the backward pass, as "
                          "far as the memory plan's peak allows"),
               clEnumValN(Overlap::BackwardLate, "backward-late",
                          "the same, waited for at the end of the step: "
                          "more overlap, every gradient kept until then"),
               clEnumValN(Overlap::None, "none",
                          "waited for as soon as started (to compare)")));
cl::opt<double> commAlpha(
    "comm-alpha", cl::init(50.0), cl::value_desc("microseconds"),
    cl::cat(dlcCategory),
    cl::desc("The latency of one gradient allreduce on the cluster's "
             "network. With --overlap=next-forward, gradients whose "
             "allreduces start one after another share one while this "
             "latency is over a tenth of its time; 0: one allreduce per "
             "gradient. Without --comm-alpha and --comm-beta the trainer "
             "decides the same way from the link it measures at start-up; "
             "with one of them, the other defaults to 50 us or 10 Gbit/s"));
cl::opt<double>
    commBeta("comm-beta", cl::init(10.0), cl::value_desc("Gbit/s"),
             cl::cat(dlcCategory),
             cl::desc("The network's bandwidth for the same choice"));
cl::opt<bool> externalWeights(
    "external-weights", cl::cat(dlcCategory),
    cl::desc("Leave the parameters' initial values out of the executable "
             "(large models, a small program to copy): the trainer reads "
             "them with --init FILE.onnx"));
cl::opt<bool> debugPoisonFreed(
    "debug-poison-freed", cl::cat(dlcCategory),
    cl::desc("Debugging: overwrite each buffer with NaNs after its last use "
             "(a correct plan trains the same)"));
cl::opt<bool> statistics(
    "tensor-stats", cl::cat(dlcCategory),
    cl::desc("--target=cpu: record where the values of the parameters, the "
             "activations kept for the backward pass and the gradients fall "
             "(the largest magnitude, a histogram of leading-bit positions); "
             "the trainer gathers them every --stats-every N steps into "
             "--stats-out FILE.json"));
cl::opt<std::string> precision(
    "precision", cl::cat(dlcCategory), cl::init("fp32"),
    cl::value_desc("fp32|bf16|fp16|auto"),
    cl::desc("--target=cpu: keep the weights (a rounded copy; the master "
             "weights and optimizer state stay fp32), the activations kept "
             "for the backward pass and the gradients in this format, "
             "rounding each to nearest even where it is written; auto: the "
             "trainer calibrates in fp32 (its --calibration-steps), then "
             "gives each tensor the narrowest format its statistics fit and "
             "keeps it right while it trains"));
cl::opt<std::string> precisionPlan(
    "precision-plan", cl::cat(dlcCategory), cl::value_desc("FILE.json"),
    cl::desc("--target=cpu: each tensor's format from a precision plan (as "
             "a trainer's --precision-plan-out writes it)"));
cl::opt<bool> printSupportedOps(
    "print-supported-ops", cl::cat(dlcCategory),
    cl::desc("Print the ONNX op types dlc imports, one a line, and exit"));
cl::list<std::string> runInputs(
    "input", cl::cat(dlcCategory), cl::value_desc("file.pb"),
    cl::desc("dlc run: an input as an ONNX TensorProto, in graph-input order"));
cl::opt<std::string> runOutputDir(
    "output-dir", cl::cat(dlcCategory), cl::value_desc("dir"),
    cl::desc("dlc run: where to write output_K.pb"));

/// Prints diagnostics as `file: error: message`; ONNX locations have no line.
void printDiagnostic(Diagnostic &diag) {
  std::string where;
  diag.getLocation()->walk([&](Location loc) {
    if (auto file = dyn_cast<FileLineColLoc>(loc)) {
      where = file.getFilename().str();
      if (file.getLine() > 0)
        where += formatv(":{0}:{1}", file.getLine(), file.getColumn()).str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  const char *severity = diag.getSeverity() == DiagnosticSeverity::Error
                             ? "error"
                         : diag.getSeverity() == DiagnosticSeverity::Warning
                             ? "warning"
                             : "note";
  errs() << (where.empty() ? "dlc" : where) << ": " << severity << ": " << diag
         << "\n";
  for (Diagnostic &note : diag.getNotes())
    printDiagnostic(note);
}

/// `--memory-budget`'s value in bytes: 0 when not given, nullopt when it
/// is not a positive number with an optional K, M or G (1024-based).
std::optional<int64_t> parseBytes(StringRef text) {
  if (text.empty())
    return 0;
  int shift = llvm::StringSwitch<int>(text.take_back().upper())
                  .Case("K", 10)
                  .Case("M", 20)
                  .Case("G", 30)
                  .Default(0);
  if (shift)
    text = text.drop_back();
  uint64_t number;
  if (text.getAsInteger(10, number) || number == 0 ||
      number > (uint64_t(1) << (62 - shift)))
    return std::nullopt;
  return static_cast<int64_t>(number << shift);
}

int fail(const Twine &message) {
  errs() << "dlc: error: " << message << "\n";
  return 1;
}

/// The training options, as the flags gave them.
dlc::BuildTrainingGraphOptions trainingOptions() {
  dlc::BuildTrainingGraphOptions options;
  options.loss = lossName;
  options.batchNorm = batchNormMode;
  options.dropout = dropoutMode;
  options.optimizer = optimizerName;
  options.learningRate = learningRate;
  options.momentum = momentum;
  options.weightDecay = weightDecay;
  options.beta1 = beta1;
  options.beta2 = beta2;
  options.eps = adamEps;
  return options;
}

std::string trainingConfig() {
  std::string text;
  raw_string_ostream os(text);
  os << "loss=" << dlc::stringify(lossName.getValue())
     << " batchnorm=" << dlc::stringify(batchNormMode.getValue())
     << " dropout=" << dlc::stringify(dropoutMode.getValue())
     << " optimizer=" << dlc::stringify(optimizerName.getValue())
     << format(" lr=%g", learningRate.getValue());
  if (optimizerName == dlc::Optimizer::Sgd)
    os << format(" momentum=%g", momentum.getValue());
  else
    os << format(" beta1=%g beta2=%g eps=%g", beta1.getValue(),
                 beta2.getValue(), adamEps.getValue());
  os << format(" weight-decay=%g", weightDecay.getValue());
  if (!precisionPlan.empty())
    os << " precision-plan=" << sys::path::filename(precisionPlan);
  else if (precision != "fp32")
    os << " precision=" << precision;
  return text;
}

} // namespace

/// `dlc run`: builds the model's forward pass into a temporary program and
/// runs it on the given inputs.
int runModel(MLIRContext &context, StringRef bytes);

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // `dlc run MODEL ...` is the inference runner; drop the word and go on.
  bool runMode = argc > 1 && StringRef(argv[1]) == "run";
  SmallVector<char *> args(argv, argv + argc);
  if (runMode)
    args.erase(args.begin() + 1);
  argc = args.size();
  argv = args.data();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  // The MLIR library brings every LLVM back end's options; --help lists
  // dlc's own (the MLIR debugging ones stay under --help-hidden).
  cl::HideUnrelatedOptions(dlcCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "dlc: compiles an ONNX model into a training executable\n\n"
      "  dlc model.onnx -o trainer --batch 128 --lr 0.05 --momentum 0.9\n"
      "  mpirun -np 2 ./trainer --data DIR --epochs 1 --save trained.onnx\n"
      "  dlc run model.onnx --input in_0.pb [--input ...] --output-dir DIR\n");

  if (printSupportedOps) {
    for (const std::string &op : dlc::supportedOnnxOps())
      outs() << op << "\n";
    return 0;
  }
  if (inputFilename.empty())
    return fail("no input file (see --help)");
  if (batchSize <= 0)
    return fail(formatv("--batch={0}: the batch size must be positive",
                        batchSize.getValue()));
  if (std::optional<std::string> why =
          dlc::checkTrainingOptions(trainingOptions()))
    return fail(*why);
  std::optional<int64_t> budgetBytes = parseBytes(memoryBudget);
  if (!budgetBytes)
    return fail("--memory-budget=" + memoryBudget +
                ": expected a positive number of bytes, with an optional K, "
                "M or G suffix (powers of 1024)");
  if (commAlpha < 0 || commBeta <= 0)
    return fail(formatv("--comm-alpha={0} --comm-beta={1}: the latency must "
                        "not be negative and the bandwidth must be positive",
                        commAlpha.getValue(), commBeta.getValue()));
  if (target == dlc::Target::Cuda && cpuLayout.getNumOccurrences() > 0)
    return fail("--cpu-layout is for --target=cpu; the CUDA target keeps "
                "cuDNN's NCHW");
  if (target == dlc::Target::Cuda && statistics)
    return fail("--tensor-stats is for --target=cpu; the CUDA target cannot "
                "gather statistics yet");
  if (precision != "fp32" && precision != "bf16" && precision != "fp16" &&
      precision != "auto")
    return fail("--precision=" + precision +
                ": expected fp32, bf16, fp16 or auto (other formats, tensor "
                "by tensor, through --precision-plan)");
  bool lowPrecision = precision != "fp32" || !precisionPlan.empty();
  if (precision != "fp32" && !precisionPlan.empty())
    return fail("--precision and --precision-plan both give the formats; "
                "pass one");
  if (target == dlc::Target::Cuda && lowPrecision)
    return fail("--precision and --precision-plan are for --target=cpu; the "
                "CUDA target computes in fp32 only yet");
  if (*budgetBytes > 0 && lowPrecision)
    return fail("--precision and --precision-plan cannot be combined with "
                "--memory-budget yet (a recomputed value would not be "
                "rounded again)");
  if (*budgetBytes > 0 && overlap == Overlap::NextForward)
    return fail("--overlap=next-forward cannot be combined with "
                "--memory-budget yet (recomputation stays within one step); "
                "use --overlap=backward");

  DialectRegistry registry;
  dlc::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Messages name the node, the op and the file; they never dump the IR.
  context.printOpOnDiagnostic(false);
  context.getDiagEngine().registerHandler(
      [](Diagnostic &diag) { printDiagnostic(diag); });

  std::string errorMessage;
  auto input = openInputFile(inputFilename, &errorMessage);
  if (!input)
    return fail("cannot read '" + inputFilename + "': " + errorMessage);
  if (runMode)
    return runModel(context, input->getBuffer());
  if (!runInputs.empty() || !runOutputDir.empty())
    return fail("--input and --output-dir belong to 'dlc run'");

  bool fromMlir = StringRef(inputFilename).ends_with(".mlir");
  OwningOpRef<ModuleOp> module;
  if (fromMlir) {
    SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(MemoryBuffer::getMemBufferCopy(
                                     input->getBuffer(), inputFilename),
                                 SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  } else {
    dlc::OnnxImportOptions options;
    options.batchSize = batchSize;
    module = dlc::importOnnxModel(&context, input->getBuffer(), inputFilename,
                                  options);
    if (!module)
      return 1;
    (*module)->setAttr("dlc.source",
                       StringAttr::get(&context,
                                       sys::path::filename(inputFilename)));
    // The ONNX model travels with the IR, without the data of the
    // initializers that became variables (the variables hold it), so that
    // any stage's .mlir can build a trainer whose --save writes ONNX.
    llvm::StringSet<> variables;
    for (auto variable : module->getOps<dlc::graph::VariableOp>())
      if (std::optional<StringRef> name = variable.getOnnxName())
        variables.insert(*name);
    FailureOr<std::string> stripped =
        dlc::stripInitializerData(input->getBuffer(), variables);
    if (failed(stripped))
      return fail("cannot re-serialize the ONNX model");
    (*module)->setAttr(dlc::kOnnxModelAttr,
                       dlc::makeBlobAttr(&context, "dlc_onnx_model",
                                         ArrayRef<char>(stripped->data(),
                                                        stripped->size())));
  }
  if (!module)
    return 1;

  // Resume from whatever stage an .mlir input was written at.
  dlc::PipelineOptions options;
  options.target = target;
  options.training = trainingOptions();
  options.trainingConfig = trainingConfig();
  options.poisonFreed = debugPoisonFreed;
  options.statistics = statistics;
  options.precision = precision;
  options.precisionPlan = precisionPlan;
  options.memoryBudget = *budgetBytes;
  options.cpuLayoutBlock = cpuLayout == CpuLayout::Auto     ? -1
                           : cpuLayout == CpuLayout::Plain  ? 0
                           : cpuLayout == CpuLayout::Block8 ? 8
                                                            : 16;
  options.externalWeights = externalWeights;
  options.commAlphaUs = commAlpha;
  options.commGbit = commBeta;
  options.runtimeBuckets =
      commAlpha.getNumOccurrences() == 0 && commBeta.getNumOccurrences() == 0;
  if (overlap == Overlap::Auto)
    options.nextForwardPeakLimit = 1.05;
  options.overlap = overlap == Overlap::Auto || overlap == Overlap::NextForward
                        ? "next-forward"
                    : overlap == Overlap::Backward     ? "backward"
                    : overlap == Overlap::BackwardLate ? "backward-late"
                                                       : "none";
  auto runPipeline = [&](ModuleOp ir, dlc::Stage from, dlc::Stage to) {
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return failure();
    applyDefaultTimingPassManagerCLOptions(pm);
    dlc::buildPipeline(pm, options, from, to);
    return pm.run(ir);
  };
  dlc::Stage from = dlc::stageOf(*module);
  dlc::Stage to = emitStage == Emit::Mlir       ? dlc::Stage::Imported
                  : emitStage == Emit::Training ? dlc::Stage::Training
                  : emitStage == Emit::Exec     ? dlc::Stage::Planned
                                                : dlc::Stage::Lowered;
  // The report reads the plan: plan a copy when the output stops before
  // it, else stop there on the way. It is written once all else succeeded.
  std::optional<dlc::MemoryReport> memory;
  if (!reportMemory.empty()) {
    if (from > dlc::Stage::Planned)
      return fail("--report-memory needs a module that is not yet lowered");
    OwningOpRef<ModuleOp> copy;
    ModuleOp planned = *module;
    if (to < dlc::Stage::Planned) {
      copy = module->clone();
      planned = *copy;
    }
    if (failed(runPipeline(planned, from, dlc::Stage::Planned)))
      return 1;
    FailureOr<dlc::MemoryReport> report = dlc::computeMemoryReport(planned);
    if (failed(report))
      return 1;
    memory = std::move(*report);
    if (!copy)
      from = dlc::Stage::Planned;
  }
  if (failed(runPipeline(*module, from, to)))
    return 1;
  auto writeReport = [&] {
    if (!memory)
      return 0;
    if (Error error = writeToOutput(reportMemory, [&](raw_ostream &os) {
          os << formatv("{0:2}", memory->toJSON()) << "\n";
          return Error::success();
        }))
      return fail("cannot write '" + reportMemory +
                  "': " + toString(std::move(error)));
    return 0;
  };

  if (emitStage == Emit::Exe) {
    // The lowering kept the initial values; the ONNX model came with the
    // IR (a hand-written .mlir has none: its trainer cannot --save).
    std::optional<ArrayRef<char>> initData = dlc::initialData(*module);
    if (!initData)
      return fail("the lowered module carries no initial values (" +
                  dlc::kInitialDataAttr + "); lower it again with dlc");
    dlc::HostCompileRequest request;
    request.target = target;
    if (std::optional<ArrayRef<char>> onnx =
            dlc::blobBytes(*module, dlc::kOnnxModelAttr))
      request.onnxModel = StringRef(onnx->data(), onnx->size());
    request.initData.assign(initData->begin(), initData->end());
    request.outputPath =
        outputFilename.empty() ? "trainer" : outputFilename.getValue();
    request.hostCompiler = hostCompiler;
    request.keepTemporaries = keepTemporaries;
    raw_string_ostream os(request.source);
    if (failed(emitc::translateToCpp(*module, os)))
      return 1;
    if (Error error = dlc::compileExecutable(request))
      return fail(toString(std::move(error)));
    return writeReport();
  }

  auto output = openOutputFile(
      outputFilename.empty() ? "-" : outputFilename.getValue(), &errorMessage);
  if (!output)
    return fail(errorMessage);
  if (emitStage == Emit::Source) {
    if (failed(emitc::translateToCpp(*module, output->os())))
      return 1;
  } else {
    module->print(output->os());
    output->os() << "\n";
  }
  if (int failed = writeReport())
    return failed;
  output->keep();
  return 0;
}

int runModel(MLIRContext &context, StringRef bytes) {
  if (runOutputDir.empty())
    return fail("dlc run needs --output-dir");
  dlc::OnnxImportOptions options;
  options.inference = true;
  OwningOpRef<ModuleOp> module =
      dlc::importOnnxModel(&context, bytes, inputFilename, options);
  if (!module)
    return 1;
  (*module)->setAttr("dlc.source",
                     StringAttr::get(&context,
                                     sys::path::filename(inputFilename)));
  PassManager pm(&context);
  if (failed(applyPassManagerCLOptions(pm)))
    return 1;
  dlc::PipelineOptions forwardOnly;
  forwardOnly.inference = true;
  dlc::buildPipeline(pm, forwardOnly, dlc::Stage::Imported,
                     dlc::Stage::Lowered);
  if (failed(pm.run(*module)))
    return 1;
  std::optional<ArrayRef<char>> initData = dlc::initialData(*module);

  SmallString<128> exe;
  if (std::error_code ec = sys::fs::createTemporaryFile("dlc-run", "", exe))
    return fail("cannot create a temporary file: " + ec.message());
  dlc::HostCompileRequest request;
  request.runner = true; // forward only: no --save, no ONNX model embedded
  request.initData.assign(initData->begin(), initData->end());
  request.outputPath = std::string(exe);
  request.hostCompiler = hostCompiler;
  request.keepTemporaries = keepTemporaries;
  raw_string_ostream os(request.source);
  if (failed(emitc::translateToCpp(*module, os)))
    return 1;
  if (Error error = dlc::compileExecutable(request)) {
    sys::fs::remove(exe);
    return fail(toString(std::move(error)));
  }
  SmallVector<StringRef> args = {exe};
  for (const std::string &in : runInputs) {
    args.push_back("--input");
    args.push_back(in);
  }
  args.push_back("--output-dir");
  args.push_back(runOutputDir);
  std::string why;
  int status = sys::ExecuteAndWait(exe, args, std::nullopt, {}, 0, 0, &why);
  sys::fs::remove(exe);
  // The runner prints its own errors; a signal or a failed start it cannot.
  if (status < 0)
    return fail("the compiled model (" + inputFilename + ") " +
                (status == -2 ? "crashed: " : "could not run: ") + why);
  return status == 0 ? 0 : 1;
}
