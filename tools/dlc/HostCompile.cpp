//===- HostCompile.cpp - build the executable from generated code ---------===//
//
// The last stage of the driver: host compiler plus the runtime libraries
// whose paths CMake recorded in Config.h.
//
//===----------------------------------------------------------------------===//

#include "HostCompile.h"
#include "dlc/Config.h"
#include "dlc/Target/EmbedData.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace llvm;
using namespace dlc;

namespace {

Error writeFile(StringRef path, StringRef bytes) {
  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return createStringError(ec, "cannot write '%s': %s", path.str().c_str(),
                             ec.message().c_str());
  os << bytes;
  return Error::success();
}

/// Runs `args` (args[0] is the program); on failure, returns its output.
Error runTool(ArrayRef<std::string> args, StringRef logPath) {
  SmallVector<StringRef> refs(args.begin(), args.end());
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  std::string message;
  int status = sys::ExecuteAndWait(args[0], refs, std::nullopt, redirects,
                                   /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                   &message);
  if (status == 0)
    return Error::success();
  std::string command;
  for (const std::string &arg : args)
    command += arg + " ";
  std::string output;
  if (auto log = MemoryBuffer::getFile(logPath))
    output = (*log)->getBuffer().str();
  return createStringError(inconvertibleErrorCode(),
                           "host compile failed (%s):\n  %s\n%s",
                           message.empty() ? ("exit status " +
                                              std::to_string(status))
                                                 .c_str()
                                           : message.c_str(),
                           command.c_str(), output.c_str());
}

void appendList(std::vector<std::string> &args, StringRef list) {
  SmallVector<StringRef> items;
  list.split(items, ';', -1, /*KeepEmpty=*/false);
  for (StringRef item : items)
    args.push_back(item.contains('/') ? item.str() : ("-l" + item).str());
}

} // namespace

Error dlc::compileExecutable(const HostCompileRequest &request) {
  bool cuda = request.target == Target::Cuda;
  // c++ assembles the embedded data and links for both targets; the program
  // itself is compiled by c++ or by nvcc.
  auto cxx = sys::findProgramByName(request.hostCompiler);
  if (!cxx)
    return createStringError(cxx.getError(), "host C++ compiler '%s' not found",
                             request.hostCompiler.c_str());
  std::string compiler = *cxx;
  if (cuda) {
    if (!DLC_HAVE_CUDA)
      return createStringError(
          inconvertibleErrorCode(),
          "--target=cuda needs the CUDA toolkit (nvcc, cuBLAS); this dlc was "
          "built without it. Install it and rebuild dlc, or use --target=cpu");
    // DLC_NVCC overrides the nvcc found when dlc was built.
    const char *nvccOverride = std::getenv("DLC_NVCC");
    compiler = nvccOverride ? nvccOverride : DLC_NVCC;
    if (!sys::fs::can_execute(compiler))
      return createStringError(
          inconvertibleErrorCode(),
          "--target=cuda needs the CUDA toolkit: nvcc not found at '%s'. "
          "Install it, set DLC_NVCC, or use --target=cpu",
          compiler.c_str());
  }

  SmallString<128> dir;
  if (std::error_code ec = sys::fs::createUniqueDirectory("dlc", dir))
    return createStringError(ec, "cannot create a temporary directory");
  auto path = [&](StringRef name) {
    SmallString<128> p(dir);
    sys::path::append(p, name);
    return std::string(p);
  };
  std::string sourcePath = path(cuda ? "program.cu" : "program.cpp");
  std::string initPath = path("init.bin"), onnxPath = path("model.onnx");
  std::string embedPath = path("embed.S"), embedObject = path("embed.o");
  std::string logPath = path("compile.log");
  // Linked next to the output, then renamed: no half-written executable.
  std::string partial = request.outputPath + ".partial";

  auto build = [&]() -> Error {
    if (Error e = writeFile(sourcePath, request.source))
      return e;
    if (Error e = writeFile(initPath, StringRef(request.initData.data(),
                                                request.initData.size())))
      return e;
    if (Error e = writeFile(onnxPath, request.onnxModel))
      return e;
    if (Error e = writeFile(embedPath, emitEmbedAssembly(initPath, onnxPath)))
      return e;
    if (Error e = runTool({*cxx, "-c", embedPath, "-o", embedObject}, logPath))
      return e;

    std::string programObject = path("program.o");
    // The generated program is a straight list of calls into the runtime
    // (the kernels are compiled there, optimised): optimising it gains
    // nothing measurable, and the host compiler's time grows faster than
    // linearly with a function's length (a 20,000-op chain: 15 s at -O2,
    // 3 s at -O0).
    std::vector<std::string> compile = {compiler, "-O0", "-std=c++20",
                                        "-I" DLC_RUNTIME_INCLUDE_DIR, "-c",
                                        sourcePath, "-o", programObject};
    if (cuda)
      compile.insert(compile.begin() + 1, "-arch=sm_90");
    if (Error e = runTool(compile, logPath))
      return e;
    std::vector<std::string> link = {*cxx, programObject, embedObject, "-o",
                                     partial, "-fopenmp"};
    appendList(link, cuda             ? DLC_CUDA_LINK
                     : request.runner ? DLC_CPU_RUNNER_LINK
                                      : DLC_CPU_LINK);
    if (Error e = runTool(link, logPath))
      return e;
    if (std::error_code ec = sys::fs::rename(partial, request.outputPath))
      return createStringError(ec, "cannot write '%s': %s",
                               request.outputPath.c_str(),
                               ec.message().c_str());
    return Error::success();
  };

  Error result = build();
  sys::fs::remove(partial);
  if (request.keepTemporaries)
    errs() << "dlc: temporary files kept in " << dir << "\n";
  else
    sys::fs::remove_directories(dir);
  return result;
}
