//===- EmitTrainer.cpp - planned graph module to C++ ----------------------===//
//
// Every graph op becomes one or two calls into the runtime (Kernels.h) on
// arena offsets fixed by PlanMemory; views (reshape, loads) emit nothing.
// The same source serves both targets: the CUDA runtime implements the calls
// with cuBLAS and CUDA kernels, and nvcc compiles the program.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/EmitTrainer.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {

int64_t offsetOf(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
    auto offsets = func->getAttrOfType<ArrayAttr>(kArgOffsetsAttr);
    return cast<IntegerAttr>(offsets[arg.getArgNumber()]).getInt();
  }
  return value.getDefiningOp()->getAttrOfType<IntegerAttr>(kOffsetAttr).getInt();
}

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

std::string list(ArrayRef<int64_t> values) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "{";
  llvm::interleaveComma(values, os);
  os << "}";
  return text;
}

/// Element strides that read `operand` broadcast to `shape` (numpy rules).
SmallVector<int64_t> broadcastStrides(ArrayRef<int64_t> operand,
                                      ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 0);
  int64_t stride = 1;
  size_t lead = shape.size() - operand.size();
  for (int64_t i = operand.size() - 1; i >= 0; --i) {
    if (operand[i] != 1 || shape[lead + i] == 1)
      strides[lead + i] = stride;
    stride *= operand[i];
  }
  return strides;
}

std::string floatLiteral(float value) {
  return llvm::formatv("{0:e9}f", value).str();
}

class SourceEmitter {
public:
  SourceEmitter(ModuleOp module, raw_ostream &os) : module(module), os(os) {}

  LogicalResult emitFunction(func::FuncOp func, StringRef cppName);

private:
  std::string ptr(Value v) { return ptr(offsetOf(v), tensorType(v)); }
  std::string ptr(int64_t offset, RankedTensorType type) {
    return llvm::formatv("{0}(arena, {1})",
                         type.getElementType().isF32() ? "f32" : "i32", offset)
        .str();
  }
  int64_t variableOffset(FlatSymbolRefAttr name) {
    return module.lookupSymbol<VariableOp>(name)
        ->getAttrOfType<IntegerAttr>(kOffsetAttr)
        .getInt();
  }
  void call(StringRef callee, ArrayRef<std::string> args) {
    os << "  " << callee << "(ctx";
    for (const std::string &arg : args)
      os << ", " << arg;
    os << ");\n";
  }
  void emitBroadcastCall(StringRef callee, Value result,
                         ArrayRef<std::pair<Value, float>> operands,
                         ArrayRef<std::string> extra);

  LogicalResult emitOp(Operation *op);

  ModuleOp module;
  raw_ostream &os;
};

} // namespace

void SourceEmitter::emitBroadcastCall(StringRef callee, Value result,
                                      ArrayRef<std::pair<Value, float>> operands,
                                      ArrayRef<std::string> extra) {
  ArrayRef<int64_t> shape = tensorType(result).getShape();
  os << "  {\n    static const int64_t shape[] = " << list(shape) << ";\n";
  SmallVector<std::string> args;
  for (auto [index, operand] : llvm::enumerate(operands)) {
    os << "    static const int64_t strides" << index << "[] = "
       << list(broadcastStrides(tensorType(operand.first).getShape(), shape))
       << ";\n";
    args.push_back(ptr(operand.first));
    args.push_back("strides" + std::to_string(index));
  }
  for (const std::string &e : extra)
    args.push_back(e);
  args.push_back(ptr(result));
  args.push_back("shape");
  args.push_back(std::to_string(shape.size()));
  os << "  ";
  call(callee, args);
  os << "  }\n";
}

LogicalResult SourceEmitter::emitOp(Operation *op) {
  auto n = [](Value v) { return std::to_string(tensorType(v).getNumElements()); };
  auto rows = [](Value v) { return std::to_string(tensorType(v).getDimSize(0)); };
  auto cols = [](Value v) { return std::to_string(tensorType(v).getDimSize(1)); };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<LoadOp, ReshapeOp, func::ReturnOp>([](auto) { return success(); })
      .Case([&](GemmOp gemm) {
        ArrayRef<int64_t> a = tensorType(gemm.getA()).getShape();
        int64_t k = gemm.getTransA() ? a[0] : a[1];
        float beta = 0.0f;
        if (Value c = gemm.getC()) {
          os << "  {\n    static const int64_t shape[] = "
             << list(gemm.getType().getShape())
             << ";\n    static const int64_t strides[] = "
             << list(broadcastStrides(tensorType(c).getShape(),
                                      gemm.getType().getShape()))
             << ";\n  ";
          call("broadcastScaled",
               {ptr(c), "strides", floatLiteral(gemm.getBeta().convertToFloat()),
                ptr(gemm.getResult()), "shape", "2"});
          os << "  }\n";
          beta = 1.0f;
        }
        call("gemm", {gemm.getTransA() ? "true" : "false",
                      gemm.getTransB() ? "true" : "false", rows(gemm),
                      cols(gemm), std::to_string(k),
                      floatLiteral(gemm.getAlpha().convertToFloat()),
                      ptr(gemm.getA()), ptr(gemm.getB()), floatLiteral(beta),
                      ptr(gemm.getResult())});
        return success();
      })
      .Case([&](AddOp add) {
        emitBroadcastCall("add", add, {{add.getLhs(), 0}, {add.getRhs(), 0}},
                          {});
        return success();
      })
      .Case([&](ReduceSumToOp reduce) {
        ArrayRef<int64_t> shape = reduce.getInput().getType().getShape();
        os << "  {\n    static const int64_t shape[] = " << list(shape)
           << ";\n    static const int64_t strides[] = "
           << list(broadcastStrides(reduce.getType().getShape(), shape))
           << ";\n  ";
        call("reduceSumTo", {ptr(reduce.getInput()), "shape",
                             std::to_string(shape.size()), ptr(reduce),
                             "strides", n(reduce)});
        os << "  }\n";
        return success();
      })
      .Case([&](ScaleOp scale) {
        call("scale", {ptr(scale.getInput()),
                       floatLiteral(scale.getFactor().convertToFloat()),
                       ptr(scale), n(scale)});
        return success();
      })
      .Case([&](OnesOp ones) {
        call("fill", {ptr(ones), "1.0f", n(ones)});
        return success();
      })
      .Case([&](ReluOp relu) {
        call("relu", {ptr(relu.getInput()), ptr(relu), n(relu)});
        return success();
      })
      .Case([&](ReluGradOp grad) {
        call("reluGrad", {ptr(grad.getGrad()), ptr(grad.getOutput()),
                          ptr(grad), n(grad)});
        return success();
      })
      .Case([&](SoftmaxOp softmax) {
        call("softmax", {ptr(softmax.getInput()), ptr(softmax), rows(softmax),
                         cols(softmax)});
        return success();
      })
      .Case([&](SoftmaxGradOp grad) {
        call("softmaxGrad", {ptr(grad.getGrad()), ptr(grad.getOutput()),
                             ptr(grad), rows(grad), cols(grad)});
        return success();
      })
      .Case([&](SoftmaxCrossEntropyOp loss) {
        call("softmaxCrossEntropy",
             {ptr(loss.getInput()), ptr(loss.getLabels()), ptr(loss),
              rows(loss.getInput()), cols(loss.getInput())});
        return success();
      })
      .Case([&](MseLossOp loss) {
        call("mseLoss", {ptr(loss.getInput()), ptr(loss.getLabels()),
                         ptr(loss), rows(loss.getInput()),
                         cols(loss.getInput())});
        return success();
      })
      .Case([&](SoftmaxCrossEntropyGradOp grad) {
        call("softmaxCrossEntropyGrad",
             {ptr(grad.getInput()), ptr(grad.getLabels()), ptr(grad.getGrad()),
              ptr(grad), rows(grad), cols(grad)});
        return success();
      })
      .Case([&](MseLossGradOp grad) {
        call("mseLossGrad",
             {ptr(grad.getInput()), ptr(grad.getLabels()), ptr(grad.getGrad()),
              ptr(grad), rows(grad), cols(grad)});
        return success();
      })
      .Case([&](AllReduceMeanOp reduce) {
        call("allReduceMean", {ptr(reduce), n(reduce)});
        return success();
      })
      .Case([&](SgdUpdateOp update) {
        RankedTensorType type = tensorType(update.getGradient());
        std::string velocity =
            update.getVelocity()
                ? ptr(variableOffset(update.getVelocityAttr()), type)
                : "nullptr";
        call("sgdUpdate",
             {ptr(variableOffset(update.getParamAttr()), type),
              ptr(update.getGradient()), velocity, n(update.getGradient()),
              floatLiteral(update.getLr().convertToFloat()),
              floatLiteral(update.getMomentum().convertToFloat()),
              floatLiteral(update.getWeightDecay().convertToFloat())});
        return success();
      })
      .Default([](Operation *op) {
        return op->emitOpError("has no lowering to the runtime");
      });
}

LogicalResult SourceEmitter::emitFunction(func::FuncOp func,
                                          StringRef cppName) {
  os << "void " << cppName << "(Context &ctx, char *arena) {\n";
  for (Operation &op : func.front()) {
    if (op.getNumResults() == 1 && !op.hasAttr(kOffsetAttr))
      return op.emitOpError("has no arena offset; run dlc-plan-memory first");
    if (failed(emitOp(&op)))
      return failure();
  }
  os << "}\n\n";
  return success();
}

namespace {
/// Appends a variable's initial value to `initData`; returns its offset.
FailureOr<int64_t> appendInitialValue(VariableOp variable,
                                      std::vector<char> &initData) {
  auto init = variable.getInitialValueAttr();
  if (!init)
    return -1;
  auto dense = dyn_cast<DenseElementsAttr>(init);
  if (!dense)
    return variable.emitOpError("initial value must be a dense attribute");
  initData.resize((initData.size() + 63) / 64 * 64);
  int64_t offset = initData.size();
  for (float value : dense.getValues<float>()) {
    const char *bytes = reinterpret_cast<const char *>(&value);
    initData.insert(initData.end(), bytes, bytes + sizeof(float));
  }
  return offset;
}

std::string cString(StringRef text) {
  std::string escaped;
  llvm::raw_string_ostream os(escaped);
  os << '"';
  os.write_escaped(text);
  os << '"';
  return escaped;
}
} // namespace

LogicalResult dlc::emitTrainerSource(ModuleOp module, Target target,
                                     StringRef trainingConfig,
                                     raw_ostream &os,
                                     std::vector<char> &initData) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  auto train = module.lookupSymbol<func::FuncOp>("train_step");
  auto arenaSize = module->getAttrOfType<IntegerAttr>(kArenaSizeAttr);
  if (!forward || !train || !arenaSize)
    return module.emitError("expected @forward, @train_step and a memory plan; "
                            "run the training pipeline first");

  os << "// Generated by dlc for the "
     << (target == Target::Cuda ? "CUDA" : "CPU")
     << " runtime. Do not edit.\n"
        "#include \"dlc/Runtime/Kernels.h\"\n"
        "#include \"dlc/Runtime/Model.h\"\n\n"
        "extern \"C\" const unsigned char dlc_init_data[];\n"
        "extern \"C\" const unsigned char dlc_onnx_model[];\n"
        "extern \"C\" const unsigned char dlc_onnx_model_end[];\n\n"
        "namespace {\n"
        "using namespace dlc::rt;\n\n"
        "inline float *f32(char *arena, int64_t offset) {\n"
        "  return reinterpret_cast<float *>(arena + offset);\n}\n"
        "inline int32_t *i32(char *arena, int64_t offset) {\n"
        "  return reinterpret_cast<int32_t *>(arena + offset);\n}\n\n";
  SourceEmitter emitter(module, os);
  if (failed(emitter.emitFunction(forward, "forward")) ||
      failed(emitter.emitFunction(train, "trainStep")))
    return failure();

  os << "const VariableInfo kVariables[] = {\n";
  int numVariables = 0;
  for (auto variable : module.getOps<VariableOp>()) {
    FailureOr<int64_t> initOffset = appendInitialValue(variable, initData);
    if (failed(initOffset))
      return failure();
    auto name = variable.getOnnxName();
    os << "    {" << (name ? cString(*name) : "nullptr") << ", "
       << variable->getAttrOfType<IntegerAttr>(kOffsetAttr).getInt() << ", "
       << variable.getTensorType().getNumElements() << ", " << *initOffset
       << ", " << (variable.getTrainable() ? "true" : "false") << "},\n";
    ++numVariables;
  }
  if (numVariables == 0)
    os << "    {nullptr, 0, 0, -1, false},\n";
  RankedTensorType inputType = tensorType(forward.getArgument(0));
  auto returned = [](func::FuncOp func) {
    return offsetOf(func.front().getTerminator()->getOperand(0));
  };
  auto argOffset = [](func::FuncOp func, unsigned index) {
    return offsetOf(func.getArgument(index));
  };
  auto sourceName = module->getAttrOfType<StringAttr>("dlc.source");
  os << "};\n\nconst int64_t kInputShape[] = " << list(inputType.getShape())
     << ";\n} // namespace\n\n"
     << "const ModelInfo dlc::rt::kModel = {\n"
     << "    " << cString(sourceName ? sourceName.getValue() : "") << ",\n"
     << "    " << cString(trainingConfig) << ",\n"
     << "    /*arenaBytes=*/" << arenaSize.getInt() << ",\n"
     << "    kInputShape, " << inputType.getRank() << ",\n"
     << "    /*numClasses=*/"
     << tensorType(forward.front().getTerminator()->getOperand(0))
            .getDimSize(1)
     << ",\n"
     << "    trainStep, " << argOffset(train, 0) << ", " << argOffset(train, 1)
     << ", " << returned(train) << ",\n"
     << "    forward, " << argOffset(forward, 0) << ", " << returned(forward)
     << ",\n"
     << "    kVariables, " << numVariables << ",\n"
     << "    dlc_init_data,\n"
     << "    dlc_onnx_model, dlc_onnx_model_end - dlc_onnx_model,\n};\n";
  return success();
}

std::string dlc::emitEmbedAssembly(StringRef initDataPath,
                                   StringRef onnxModelPath) {
  return llvm::formatv(R"(// Generated by dlc: embeds the initial values and the ONNX model.
  .section .rodata
  .balign 64
  .globl dlc_init_data
dlc_init_data:
  .incbin "{0}"
  .byte 0
  .balign 64
  .globl dlc_onnx_model
dlc_onnx_model:
  .incbin "{1}"
  .globl dlc_onnx_model_end
dlc_onnx_model_end:
  .byte 0
  .section .note.GNU-stack,"",@progbits
)",
                       initDataPath, onnxModelPath)
      .str();
}
