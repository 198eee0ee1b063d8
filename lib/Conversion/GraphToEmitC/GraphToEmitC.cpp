//===- GraphToEmitC.cpp - planned graph module to EmitC kernel calls ------===//
//
// Every graph op becomes one or two runtime calls (dlc/Runtime/Kernels.h) on
// pointers into the arena at the offsets dlc-plan-memory chose; views
// (reshape, load) become nothing. The runtime's model table is built here
// too, so the module translates to a complete C++ program with MLIR's
// C++ emitter. Both targets share the program: the CUDA runtime implements
// the same calls with cuBLAS and CUDA kernels.
//
//===----------------------------------------------------------------------===//

#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Support/Blob.h"
#include "dlc/Target/InitialValues.h"
#include "dlc/Target/TargetInfo.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

namespace dlc {
#define GEN_PASS_DEF_CONVERTGRAPHTOEMITC
#include "dlc/Conversion/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

//===----------------------------------------------------------------------===//
// Kernel calls
//===----------------------------------------------------------------------===//

namespace {

int64_t offsetOf(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
    auto offsets = func->getAttrOfType<ArrayAttr>(kArgOffsetsAttr);
    return cast<IntegerAttr>(offsets[arg.getArgNumber()]).getInt();
  }
  Operation *op = value.getDefiningOp();
  if (op->getNumResults() > 1)
    return cast<IntegerAttr>(
               op->getAttrOfType<ArrayAttr>(kResultOffsetsAttr)
                   [cast<OpResult>(value).getResultNumber()])
        .getInt();
  return op->getAttrOfType<IntegerAttr>(kOffsetAttr).getInt();
}

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
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

/// The element counts before and after `axis`: a tensor seen as
/// outer x extent(axis) x inner.
std::pair<int64_t, int64_t> aroundAxis(RankedTensorType type, int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d < axis)
      outer *= type.getDimSize(d);
    else if (d > axis)
      inner *= type.getDimSize(d);
  }
  return {outer, inner};
}

/// (outer, size, inner) of a tensor along `axis` (negative: from the end).
std::tuple<int64_t, int64_t, int64_t> alongAxis(RankedTensorType type,
                                                int64_t axis) {
  if (axis < 0)
    axis += type.getRank();
  auto [outer, inner] = aroundAxis(type, axis);
  return {outer, type.getDimSize(axis), inner};
}

/// One argument of a runtime call: an SSA value or a constant.
struct Arg {
  Arg(Value value) : value(value) {}
  Arg(Attribute attr) : attr(attr) {}
  Value value;
  Attribute attr;
};

/// Builds the EmitC program: includes and globals at the top of the module,
/// before the graph ops it replaces; functions at the end, after them.
class ProgramBuilder {
public:
  ProgramBuilder(ModuleOp module, Operation *firstOldOp)
      : module(module), ctx(module.getContext()), builder(ctx),
        globals(ctx) {
    globals.setInsertionPoint(firstOldOp);
    builder.setInsertionPointToEnd(module.getBody());
  }

  OpBuilder &globalBuilder() { return globals; }
  LogicalResult buildFunction(func::FuncOp func, StringRef name);
  /// Ops the CUDA runtime lacks are refused when set.
  bool cudaTarget = false;
  const TargetInfo *targetInfo = &TargetInfo::get(Target::Cpu);
  /// A static const int64_t array at module scope, shared by equal contents.
  StringRef arrayGlobal(ArrayRef<int64_t> values);

private:
  Location loc() { return module.getLoc(); }
  Value pointer(int64_t offset, Type elementType);
  Value pointer(Value tensor) {
    return pointer(offsetOf(tensor), tensorType(tensor).getElementType());
  }
  Value array(ArrayRef<int64_t> values);
  Attribute i64(int64_t value) { return builder.getI64IntegerAttr(value); }
  Attribute f32(float value) { return builder.getF32FloatAttr(value); }
  Attribute boolean(bool value) { return builder.getBoolAttr(value); }
  Attribute count(Value tensor) {
    return i64(tensorType(tensor).getNumElements());
  }
  /// A static const struct of the runtime's type `type` initialised by
  /// `fields`, loaded as a value inside the current function.
  Value structGlobal(StringRef type, ArrayRef<int64_t> fields);
  Value convGeometry(RankedTensorType input,
                     RankedTensorType filter, RankedTensorType output,
                     ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                     ArrayRef<int64_t> dilations, int64_t group);
  Value poolGeometry(RankedTensorType input, RankedTensorType output,
                     ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                     ArrayRef<int64_t> pads, bool countIncludePad,
                     ArrayRef<int64_t> dilations = {1, 1});
  /// A BatchNormGeometry for an N x C x ... input.
  Value normGeometry(RankedTensorType input);
  Attribute opaque(const std::string &text) {
    return emitc::OpaqueAttr::get(ctx, text);
  }
  /// The runtime's Activation enumerator for an activation or its gradient.
  Attribute activationKind(Operation *op) {
    StringRef kind =
        llvm::TypeSwitch<Operation *, StringRef>(op)
            .Case<ReluOp, ReluGradOp>([](auto) { return "Relu"; })
            .Case<SigmoidOp, SigmoidGradOp>([](auto) { return "Sigmoid"; })
            .Case<TanhOp, TanhGradOp>([](auto) { return "Tanh"; })
            .Case<RsqrtOp, RsqrtGradOp>([](auto) { return "Rsqrt"; })
            .Default([](Operation *) { return "LeakyRelu"; });
    return opaque("dlc::rt::Activation::" + kind.str());
  }
  /// The runtime's `alpha` for an activation or its gradient: Rsqrt's
  /// epsilon, LeakyRelu's slope, 0 for the others.
  Attribute activationParameter(Operation *op) {
    float value = llvm::TypeSwitch<Operation *, float>(op)
                      .Case([](RsqrtOp f) { return f.getEpsilon().convertToFloat(); })
                      .Case<LeakyReluOp, LeakyReluGradOp>(
                          [](auto f) { return f.getAlpha().convertToFloat(); })
                      .Default([](Operation *) { return 0.0f; });
    return f32(value);
  }
  /// Calls runtime function `callee(ctx, args...)`; returns its result when
  /// `resultType` is given.
  Value call(StringRef callee, ArrayRef<Arg> args, Type resultType = {});
  LogicalResult lowerOp(Operation *op);
  int64_t offsetOfVariable(FlatSymbolRefAttr name) {
    return module.lookupSymbol<VariableOp>(name)
        ->getAttrOfType<IntegerAttr>(kOffsetAttr)
        .getInt();
  }

  ModuleOp module;
  MLIRContext *ctx;
  OpBuilder builder, globals;
  Value context, arena;
  DenseMap<std::pair<int64_t, Type>, Value> pointers;
  std::map<std::vector<int64_t>, std::string> arrays;
  std::map<std::pair<std::string, std::vector<int64_t>>, std::string> structs;
};

Value ProgramBuilder::structGlobal(StringRef type, ArrayRef<int64_t> fields) {
  std::string &name =
      structs[{type.str(), std::vector<int64_t>(fields.begin(), fields.end())}];
  auto opaqueType = emitc::OpaqueType::get(ctx, ("dlc::rt::" + type).str());
  if (name.empty()) {
    name = llvm::formatv("dlc_geometry{0}", structs.size() - 1).str();
    std::string init;
    llvm::raw_string_ostream os(init);
    os << "{";
    llvm::interleaveComma(fields, os);
    os << "}";
    emitc::GlobalOp::create(globals, loc(), name, opaqueType,
                            emitc::OpaqueAttr::get(ctx, init),
                            /*extern_specifier=*/false,
                            /*static_specifier=*/true,
                            /*const_specifier=*/true);
  }
  Value global = emitc::GetGlobalOp::create(
      builder, loc(), emitc::LValueType::get(opaqueType), name);
  return emitc::LoadOp::create(builder, loc(), opaqueType, global);
}

Value ProgramBuilder::convGeometry(RankedTensorType input,
                                   RankedTensorType filter,
                                   RankedTensorType output,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> pads,
                                   ArrayRef<int64_t> dilations, int64_t group) {
  // Field order of dlc::rt::Conv2DGeometry.
  return structGlobal(
      "Conv2DGeometry",
      {input.getDimSize(0), input.getDimSize(1), input.getDimSize(2),
       input.getDimSize(3), filter.getDimSize(0), filter.getDimSize(2),
       filter.getDimSize(3), output.getDimSize(2), output.getDimSize(3),
       strides[0], strides[1], pads[0], pads[1], pads[2], pads[3],
       dilations[0], dilations[1], group});
}

Value ProgramBuilder::poolGeometry(RankedTensorType input,
                                   RankedTensorType output,
                                   ArrayRef<int64_t> kernel,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> pads,
                                   bool countIncludePad,
                                   ArrayRef<int64_t> dilations) {
  // Field order of dlc::rt::Pool2DGeometry.
  return structGlobal(
      "Pool2DGeometry",
      {input.getDimSize(0), input.getDimSize(1), input.getDimSize(2),
       input.getDimSize(3), output.getDimSize(2), output.getDimSize(3),
       kernel[0], kernel[1], strides[0], strides[1], pads[0], pads[1],
       pads[2], pads[3], countIncludePad, dilations[0], dilations[1]});
}

Value ProgramBuilder::normGeometry(RankedTensorType input) {
  int64_t spatial =
      input.getNumElements() / (input.getDimSize(0) * input.getDimSize(1));
  // Field order of dlc::rt::BatchNormGeometry.
  return structGlobal("BatchNormGeometry",
                      {input.getDimSize(0), input.getDimSize(1), spatial});
}

Value ProgramBuilder::pointer(int64_t offset, Type elementType) {
  Value &slot = pointers[{offset, elementType}];
  if (!slot) {
    auto type = emitc::PointerType::get(elementType);
    StringRef helper = elementType.isF32() ? "dlc::rt::f32At" : "dlc::rt::i32At";
    slot = emitc::CallOpaqueOp::create(
               builder, loc(), TypeRange{type}, helper, ValueRange{arena},
               builder.getArrayAttr({builder.getIndexAttr(0), i64(offset)}))
               .getResult(0);
  }
  return slot;
}

StringRef ProgramBuilder::arrayGlobal(ArrayRef<int64_t> values) {
  std::string &name = arrays[std::vector<int64_t>(values.begin(), values.end())];
  if (name.empty()) {
    name = llvm::formatv("dlc_dims{0}", arrays.size() - 1).str();
    auto type = RankedTensorType::get({(int64_t)values.size()},
                                      globals.getI64Type());
    auto global = emitc::GlobalOp::create(
        globals, loc(), name,
        emitc::ArrayType::get({(int64_t)values.size()}, globals.getI64Type()),
        DenseElementsAttr::get(type, values), /*extern_specifier=*/false,
        /*static_specifier=*/true, /*const_specifier=*/true);
    (void)global;
  }
  return name;
}

Value ProgramBuilder::array(ArrayRef<int64_t> values) {
  StringRef name = arrayGlobal(values);
  return emitc::GetGlobalOp::create(
      builder, loc(),
      emitc::ArrayType::get({(int64_t)values.size()}, builder.getI64Type()),
      name);
}

Value ProgramBuilder::call(StringRef callee, ArrayRef<Arg> args,
                           Type resultType) {
  SmallVector<Value> operands = {context};
  SmallVector<Attribute> order = {builder.getIndexAttr(0)};
  for (const Arg &arg : args) {
    if (arg.value) {
      order.push_back(builder.getIndexAttr(operands.size()));
      operands.push_back(arg.value);
    } else {
      order.push_back(arg.attr);
    }
  }
  auto callOp = emitc::CallOpaqueOp::create(
      builder, loc(), resultType ? TypeRange{resultType} : TypeRange{},
      ("dlc::rt::" + callee).str(), operands, builder.getArrayAttr(order));
  return resultType ? callOp.getResult(0) : Value();
}

LogicalResult ProgramBuilder::lowerOp(Operation *op) {
  auto rows = [&](Value v) { return i64(tensorType(v).getDimSize(0)); };
  auto cols = [&](Value v) { return i64(tensorType(v).getDimSize(1)); };
  auto rank = [&](Value v) { return builder.getI32IntegerAttr(tensorType(v).getRank()); };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<LoadOp, ReshapeOp, func::ReturnOp>([](auto) { return success(); })
      .Case([&](GemmOp gemm) {
        ArrayRef<int64_t> a = tensorType(gemm.getA()).getShape();
        ArrayRef<int64_t> y = gemm.getType().getShape();
        float beta = 0.0f;
        if (Value c = gemm.getC()) {
          // c is broadcast into the result first; the product accumulates.
          call("broadcastScaled",
               {pointer(c), array(broadcastStrides(tensorType(c).getShape(), y)),
                f32(gemm.getBeta().convertToFloat()), pointer(gemm.getResult()),
                array(y), rank(gemm)});
          beta = 1.0f;
        }
        call("gemm", {boolean(gemm.getTransA()), boolean(gemm.getTransB()),
                      rows(gemm), cols(gemm), i64(gemm.getTransA() ? a[0] : a[1]),
                      f32(gemm.getAlpha().convertToFloat()), pointer(gemm.getA()),
                      pointer(gemm.getB()), f32(beta), pointer(gemm.getResult())});
        return success();
      })
      .Case([&](MatMulOp matmul) {
        RankedTensorType a = matmul.getA().getType(), b = matmul.getB().getType();
        RankedTensorType y = matmul.getType();
        ArrayRef<int64_t> batch = y.getShape().drop_back(2);
        // Element strides through the batch: broadcast strides over the
        // matrices, times a matrix's size.
        auto strides = [&](RankedTensorType t) {
          SmallVector<int64_t> s =
              broadcastStrides(t.getShape().drop_back(2), batch);
          int64_t matrix = t.getDimSize(t.getRank() - 1) *
                           t.getDimSize(t.getRank() - 2);
          for (int64_t &v : s)
            v *= matrix;
          return s;
        };
        int64_t k = a.getDimSize(a.getRank() - (matmul.getTransA() ? 2 : 1));
        call("batchedGemm",
             {boolean(matmul.getTransA()), boolean(matmul.getTransB()),
              i64(y.getDimSize(y.getRank() - 2)),
              i64(y.getDimSize(y.getRank() - 1)), i64(k),
              pointer(matmul.getA()), array(strides(a)),
              pointer(matmul.getB()), array(strides(b)),
              pointer(matmul.getResult()), array(batch),
              builder.getI32IntegerAttr(batch.size())});
        return success();
      })
      .Case<AddOp, SubOp, MulOp, DivOp>([&](auto binary) {
        StringRef kind = llvm::TypeSwitch<Operation *, StringRef>(op)
                             .Case([](AddOp) { return "Add"; })
                             .Case([](SubOp) { return "Sub"; })
                             .Case([](MulOp) { return "Mul"; })
                             .Default([](Operation *) { return "Div"; });
        ArrayRef<int64_t> y = binary.getType().getShape();
        auto strides = [&](Value v) {
          return array(broadcastStrides(tensorType(v).getShape(), y));
        };
        call("binary", {opaque("dlc::rt::Binary::" + kind.str()),
                        pointer(binary.getLhs()), strides(binary.getLhs()),
                        pointer(binary.getRhs()), strides(binary.getRhs()),
                        pointer(binary.getResult()), array(y), rank(binary)});
        return success();
      })
      .Case([&](ReduceSumToOp reduce) {
        ArrayRef<int64_t> x = reduce.getInput().getType().getShape();
        call("reduceSumTo",
             {pointer(reduce.getInput()), array(x), rank(reduce.getInput()),
              pointer(reduce.getResult()),
              array(broadcastStrides(reduce.getType().getShape(), x)),
              count(reduce)});
        return success();
      })
      .Case([&](BroadcastOp broadcast) {
        ArrayRef<int64_t> y = broadcast.getType().getShape();
        call("broadcastScaled",
             {pointer(broadcast.getInput()),
              array(broadcastStrides(broadcast.getInput().getType().getShape(), y)),
              f32(1.0f), pointer(broadcast.getResult()), array(y),
              rank(broadcast)});
        return success();
      })
      .Case([&](ScaleOp scale) {
        call("scale", {pointer(scale.getInput()),
                       f32(scale.getFactor().convertToFloat()),
                       pointer(scale.getResult()), count(scale)});
        return success();
      })
      .Case([&](OnesOp ones) {
        call("fill", {pointer(ones.getResult()), f32(1.0f), count(ones)});
        return success();
      })
      .Case<ReluOp, SigmoidOp, TanhOp, RsqrtOp, LeakyReluOp>([&](auto f) {
        call("activation", {activationKind(op), activationParameter(op),
                            pointer(f.getInput()), pointer(f.getResult()),
                            count(f)});
        return success();
      })
      .Case<ReluGradOp, SigmoidGradOp, TanhGradOp, RsqrtGradOp>([&](auto grad) {
        call("activationGrad",
             {activationKind(op), activationParameter(op), pointer(grad.getGrad()),
              pointer(grad.getOutput()), pointer(grad.getResult()),
              count(grad)});
        return success();
      })
      .Case([&](LeakyReluGradOp grad) {
        call("activationGrad",
             {activationKind(op), activationParameter(op),
              pointer(grad.getGrad()), pointer(grad.getInput()),
              pointer(grad.getResult()), count(grad)});
        return success();
      })
      .Case<SoftmaxOp, LogSoftmaxOp>([&](auto f) {
        auto [outer, size, inner] = alongAxis(f.getType(), f.getAxis());
        call(isa<SoftmaxOp>(op) ? "softmax" : "logSoftmax",
             {pointer(f.getInput()), pointer(f.getResult()), i64(outer),
              i64(size), i64(inner)});
        return success();
      })
      .Case<SoftmaxGradOp, LogSoftmaxGradOp>([&](auto grad) {
        auto [outer, size, inner] = alongAxis(grad.getType(), grad.getAxis());
        call(isa<SoftmaxGradOp>(op) ? "softmaxGrad" : "logSoftmaxGrad",
             {pointer(grad.getGrad()), pointer(grad.getOutput()),
              pointer(grad.getResult()), i64(outer), i64(size), i64(inner)});
        return success();
      })
      .Case<SoftmaxCrossEntropyOp, MseLossOp>([&](auto loss) {
        StringRef callee = isa<MseLossOp>(op) ? "mseLoss" : "softmaxCrossEntropy";
        call(callee, {pointer(loss.getInput()), pointer(loss.getLabels()),
                      pointer(loss.getLoss()), rows(loss.getInput()),
                      cols(loss.getInput())});
        return success();
      })
      .Case<SoftmaxCrossEntropyGradOp, MseLossGradOp>([&](auto grad) {
        StringRef callee = isa<MseLossGradOp>(op) ? "mseLossGrad"
                                                  : "softmaxCrossEntropyGrad";
        call(callee, {pointer(grad.getInput()), pointer(grad.getLabels()),
                      pointer(grad.getGrad()), pointer(grad.getResult()),
                      rows(grad), cols(grad)});
        return success();
      })
      .Case([&](Conv2DOp conv) {
        Value geometry = convGeometry(
            conv.getInput().getType(), conv.getFilter().getType(),
            conv.getType(), conv.getStrides(), conv.getPads(),
            conv.getDilations(), conv.getGroup());
        Arg bias = conv.getBias() ? Arg(pointer(conv.getBias()))
                                  : Arg(opaque("nullptr"));
        call("conv2d", {geometry, pointer(conv.getInput()),
                        pointer(conv.getFilter()), bias,
                        pointer(conv.getResult())});
        return success();
      })
      .Case([&](Conv2DBackwardDataOp grad) {
        Value geometry = convGeometry(
            grad.getType(), grad.getFilter().getType(),
            grad.getGrad().getType(), grad.getStrides(), grad.getPads(),
            grad.getDilations(), grad.getGroup());
        call("conv2dBackwardData", {geometry, pointer(grad.getGrad()),
                                    pointer(grad.getFilter()),
                                    pointer(grad.getResult())});
        return success();
      })
      .Case([&](Conv2DBackwardFilterOp grad) {
        Value geometry = convGeometry(
            grad.getInput().getType(), grad.getType(),
            grad.getGrad().getType(), grad.getStrides(), grad.getPads(),
            grad.getDilations(), grad.getGroup());
        call("conv2dBackwardFilter", {geometry, pointer(grad.getGrad()),
                                      pointer(grad.getInput()),
                                      pointer(grad.getResult())});
        return success();
      })
      .Case([&](MaxPool2DOp pool) {
        call("maxPool2d",
             {poolGeometry(pool.getInput().getType(), pool.getType(),
                           pool.getKernel(), pool.getStrides(), pool.getPads(),
                           false,
                           pool.getDilations().value_or(ArrayRef<int64_t>{1, 1})),
              pointer(pool.getInput()), pointer(pool.getResult())});
        return success();
      })
      .Case([&](MaxPool2DGradOp grad) {
        call("maxPool2dGrad",
             {poolGeometry(grad.getInput().getType(), grad.getGrad().getType(),
                           grad.getKernel(), grad.getStrides(), grad.getPads(),
                           false,
                           grad.getDilations().value_or(ArrayRef<int64_t>{1, 1})),
              pointer(grad.getGrad()), pointer(grad.getInput()),
              pointer(grad.getResult())});
        return success();
      })
      .Case([&](AvgPool2DOp pool) {
        call("avgPool2d",
             {poolGeometry(pool.getInput().getType(), pool.getType(),
                           pool.getKernel(), pool.getStrides(), pool.getPads(),
                           pool.getCountIncludePad()),
              pointer(pool.getInput()), pointer(pool.getResult())});
        return success();
      })
      .Case([&](AvgPool2DGradOp grad) {
        call("avgPool2dGrad",
             {poolGeometry(grad.getType(), grad.getGrad().getType(),
                           grad.getKernel(), grad.getStrides(), grad.getPads(),
                           grad.getCountIncludePad()),
              pointer(grad.getGrad()), pointer(grad.getResult())});
        return success();
      })
      .Case([&](TransposeOp transpose) {
        ArrayRef<int64_t> shape = transpose.getInput().getType().getShape();
        call("transpose", {pointer(transpose.getInput()), array(shape),
                           array(transpose.getPermutation()),
                           rank(transpose.getInput()),
                           pointer(transpose.getResult())});
        return success();
      })
      .Case([&](ConcatOp concat) {
        // Each input is `outer` rows of (its extent x inner) elements.
        RankedTensorType y = concat.getType();
        int64_t axis = concat.getAxis();
        auto [outer, inner] = aroundAxis(y, axis);
        int64_t start = 0;
        for (Value input : concat.getInputs()) {
          int64_t extent = tensorType(input).getDimSize(axis);
          call("copyRows",
               {pointer(input), i64(extent * inner),
                pointer(offsetOf(concat.getResult()) + 4 * start * inner,
                        y.getElementType()),
                i64(y.getDimSize(axis) * inner), i64(outer),
                i64(extent * inner)});
          start += extent;
        }
        return success();
      })
      .Case([&](SliceOp slice) {
        RankedTensorType x = slice.getInput().getType();
        int64_t axis = slice.getAxis();
        auto [outer, inner] = aroundAxis(x, axis);
        int64_t extent = slice.getType().getDimSize(axis);
        call("copyRows",
             {pointer(offsetOf(slice.getInput()) +
                          4 * slice.getStart() * inner,
                      x.getElementType()),
              i64(x.getDimSize(axis) * inner), pointer(slice.getResult()),
              i64(extent * inner), i64(outer), i64(extent * inner)});
        return success();
      })
      .Case([&](DropoutMaskOp mask) {
        call("dropoutMask", {pointer(mask.getResult()), count(mask),
                             f32(mask.getRatio().convertToFloat()),
                             i64(mask.getStream())});
        return success();
      })
      .Case<LrnOp, LrnGradOp>([&](auto f) {
        RankedTensorType type = f.getType();
        int64_t spatial = type.getNumElements() /
                          (type.getDimSize(0) * type.getDimSize(1));
        SmallVector<Arg> args;
        if constexpr (std::is_same_v<decltype(f), LrnGradOp>)
          args = {pointer(f.getGrad()), pointer(f.getInput())};
        else
          args = {pointer(f.getInput())};
        args.push_back(pointer(f.getResult()));
        for (Attribute a :
             {i64(type.getDimSize(0)), i64(type.getDimSize(1)), i64(spatial),
              i64(f.getSize()), f32(f.getAlpha().convertToFloat()),
              f32(f.getBeta().convertToFloat()),
              f32(f.getBias().convertToFloat())})
          args.push_back(a);
        call(isa<LrnOp>(op) ? "lrn" : "lrnGrad", args);
        return success();
      })
      .Case([&](PadOp pad) {
        call("pad", {pointer(pad.getInput()),
                     array(pad.getInput().getType().getShape()), rank(pad),
                     array(pad.getLow()), f32(pad.getValue().convertToFloat()),
                     pointer(pad.getResult()), array(pad.getType().getShape())});
        return success();
      })
      .Case([&](CropOp crop) {
        call("crop", {pointer(crop.getInput()),
                      array(crop.getInput().getType().getShape()), rank(crop),
                      array(crop.getOffsets()), pointer(crop.getResult()),
                      array(crop.getType().getShape())});
        return success();
      })
      .Case([&](ClipOp clip) {
        call("clip", {pointer(clip.getInput()),
                      f32(clip.getMin().convertToFloat()),
                      f32(clip.getMax().convertToFloat()),
                      pointer(clip.getResult()), count(clip)});
        return success();
      })
      .Case([&](ClipGradOp grad) {
        call("clipGrad", {pointer(grad.getGrad()), pointer(grad.getInput()),
                          f32(grad.getMin().convertToFloat()),
                          f32(grad.getMax().convertToFloat()),
                          pointer(grad.getResult()), count(grad)});
        return success();
      })
      .Case([&](BatchNormTrainOp norm) {
        call("batchNormTraining",
             {normGeometry(norm.getInput().getType()),
              f32(norm.getEpsilon().convertToFloat()), pointer(norm.getInput()), pointer(norm.getScale()),
              pointer(norm.getBias()), pointer(norm.getResult()),
              pointer(norm.getMean()), pointer(norm.getVariance())});
        return success();
      })
      .Case([&](BatchNormGradOp grad) {
        call("batchNormTrainingGrad",
             {normGeometry(grad.getInput().getType()),
              f32(grad.getEpsilon().convertToFloat()), pointer(grad.getGrad()), pointer(grad.getInput()),
              pointer(grad.getScale()), pointer(grad.getMean()),
              pointer(grad.getVariance()), pointer(grad.getInputGrad()),
              pointer(grad.getScaleGrad()), pointer(grad.getBiasGrad())});
        return success();
      })
      .Case([&](AllReduceMeanOp reduce) {
        // Started and waited for at once: the communication issue moves
        // the waits.
        Value handle =
            call("allReduceMeanStart",
                 {pointer(reduce.getResult()), count(reduce)},
                 builder.getI64Type());
        call("allReduceMeanWait", {handle});
        return success();
      })
      .Case([&](RunningUpdateOp update) {
        call("runningUpdate",
             {pointer(offsetOfVariable(update.getVariableAttr()),
                      builder.getF32Type()),
              pointer(update.getStatistic()), count(update.getStatistic()),
              f32(update.getMomentum().convertToFloat()),
              f32(update.getCorrection().convertToFloat())});
        return success();
      })
      .Case([&](SgdUpdateOp update) {
        Type f32Type = builder.getF32Type();
        Arg velocity =
            update.getVelocity()
                ? Arg(pointer(offsetOfVariable(update.getVelocityAttr()), f32Type))
                : Arg(opaque("nullptr"));
        call("sgdUpdate",
             {pointer(offsetOfVariable(update.getParamAttr()), f32Type),
              pointer(update.getGradient()), velocity,
              count(update.getGradient())});
        return success();
      })
      .Case([&](AdamUpdateOp update) {
        Type f32Type = builder.getF32Type();
        call("adamUpdate",
             {pointer(offsetOfVariable(update.getParamAttr()), f32Type),
              pointer(update.getGradient()),
              pointer(offsetOfVariable(update.getFirstMomentAttr()), f32Type),
              pointer(offsetOfVariable(update.getSecondMomentAttr()), f32Type),
              count(update.getGradient()),
              opaque(update.getDecoupled() ? "true" : "false")});
        return success();
      })
      .Default([](Operation *op) {
        return op->emitOpError("has no lowering to the runtime");
      });
}

LogicalResult ProgramBuilder::buildFunction(func::FuncOp func,
                                            StringRef name) {
  auto contextType = emitc::OpaqueType::get(ctx, "dlc::rt::Context &");
  auto arenaType = emitc::PointerType::get(emitc::OpaqueType::get(ctx, "char"));
  auto emitted = emitc::FuncOp::create(
      builder, func.getLoc(), name,
      builder.getFunctionType({contextType, arenaType}, {}));
  emitted.setSpecifiersAttr(builder.getStrArrayAttr({"static"}));
  Block *body = emitted.addEntryBlock();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(body);
  context = body->getArgument(0);
  arena = body->getArgument(1);
  pointers.clear();
  for (Operation &op : func.front()) {
    if (!targetInfo->hasKernel(&op))
      return op.emitOpError("has no ")
             << (cudaTarget ? "CUDA" : targetInfo->name)
             << " kernel yet; compile this model with --target=cpu";
    if ((op.getNumResults() == 1 && !op.hasAttr(kOffsetAttr)) ||
        (op.getNumResults() > 1 && !op.hasAttr(kResultOffsetsAttr)))
      return op.emitOpError("has no arena offset; run dlc-plan-memory first");
    if (failed(lowerOp(&op)))
      return failure();
  }
  emitc::ReturnOp::create(builder, func.getLoc(), Value());
  return success();
}

std::string cString(StringRef text) {
  std::string escaped;
  llvm::raw_string_ostream os(escaped);
  os << '"';
  os.write_escaped(text);
  os << '"';
  return escaped;
}

struct ConvertGraphToEmitC
    : dlc::impl::ConvertGraphToEmitCBase<ConvertGraphToEmitC> {
  using ConvertGraphToEmitCBase::ConvertGraphToEmitCBase;
  void runOnOperation() override;
};

} // namespace

void ConvertGraphToEmitC::runOnOperation() {
  ModuleOp module = getOperation();
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  auto train = module.lookupSymbol<func::FuncOp>("train_step");
  auto arenaSize = module->getAttrOfType<IntegerAttr>(kArenaSizeAttr);
  if (!forward || !arenaSize) {
    module.emitError("expected @forward and a memory plan; run "
                     "dlc-plan-memory first");
    return signalPassFailure();
  }
  std::optional<Target> parsedTarget = TargetInfo::parse(target);
  if (!parsedTarget) {
    module.emitError("unknown target '") << target << "': expected cpu or cuda";
    return signalPassFailure();
  }
  FailureOr<InitialValueLayout> layout = layoutInitialValues(module);
  FailureOr<std::vector<char>> packed = packInitialValues(module);
  if (failed(layout) || failed(packed))
    return signalPassFailure();
  // The initial values outlive the variables they came from, so that any
  // later stage can still build the executable.
  module->setAttr(kInitialDataAttr, makeBlobAttr(&getContext(),
                                                 "dlc_initial_data", *packed));

  SmallVector<Operation *> oldOps;
  for (Operation &op : *module.getBody())
    oldOps.push_back(&op);
  ProgramBuilder program(module, oldOps.front());
  program.cudaTarget = *parsedTarget == Target::Cuda;
  program.targetInfo = &TargetInfo::get(*parsedTarget);
  OpBuilder &top = program.globalBuilder();
  Location loc = module.getLoc();
  emitc::VerbatimOp::create(
      top, loc,
      top.getStringAttr(llvm::formatv("// Generated by dlc for the {0} runtime. "
                                      "Do not edit.",
                                      target == "cuda" ? "CUDA" : "CPU")
                            .str()));
  emitc::IncludeOp::create(top, loc, "dlc/Runtime/Kernels.h");
  emitc::IncludeOp::create(top, loc, "dlc/Runtime/Model.h");
  if (failed(program.buildFunction(forward, "forward")) ||
      (train && failed(program.buildFunction(train, "trainStep"))))
    return signalPassFailure();

  // Variables that training writes (parameters, running statistics) are
  // what --save puts back into the ONNX model.
  DenseSet<StringAttr> written;
  module.walk([&](Operation *op) {
    if (auto update = dyn_cast<SgdUpdateOp>(op))
      written.insert(update.getParamAttr().getAttr());
    else if (auto update = dyn_cast<AdamUpdateOp>(op))
      written.insert(update.getParamAttr().getAttr());
    else if (auto update = dyn_cast<RunningUpdateOp>(op))
      written.insert(update.getVariableAttr().getAttr());
  });

  // The model table, after the functions it points to.
  OpBuilder tables = OpBuilder::atBlockEnd(module.getBody());
  std::string variables;
  llvm::raw_string_ostream os(variables);
  int numVariables = 0;
  for (auto [variable, initOffset] :
       llvm::zip(module.getOps<VariableOp>(), layout->offsets)) {
    std::optional<StringRef> name = variable.getOnnxName();
    os << (numVariables++ ? ", " : "") << "{"
       << (name ? cString(*name) : "nullptr") << ", "
       << variable->getAttrOfType<IntegerAttr>(kOffsetAttr).getInt() << ", "
       << variable.getTensorType().getNumElements() << ", "
       << (variable.getTensorType().getRank()
               ? program.arrayGlobal(variable.getTensorType().getShape())
               : "nullptr")
       << ", "
       << variable.getTensorType().getRank() << ", " << initOffset
       << ", "
       << (name && written.contains(variable.getSymNameAttr()) ? "true"
                                                                : "false")
       << "}";
  }
  auto infoType = emitc::OpaqueType::get(&getContext(), "dlc::rt::VariableInfo");
  if (numVariables)
    emitc::GlobalOp::create(
        tables, loc, "dlc_variables",
        emitc::ArrayType::get({numVariables}, infoType),
        emitc::OpaqueAttr::get(&getContext(), "{" + variables + "}"),
        /*extern_specifier=*/false, /*static_specifier=*/true,
        /*const_specifier=*/true);

  // Slots of @forward's inputs and outputs, named as the ONNX graph names
  // them (the importer records the names).
  auto slots = [&](StringRef global, ValueRange values, StringRef namesAttr) {
    auto names = forward->getAttrOfType<ArrayAttr>(namesAttr);
    std::string init;
    llvm::raw_string_ostream text(init);
    text << "{";
    for (auto [i, value] : llvm::enumerate(values)) {
      RankedTensorType type = tensorType(value);
      StringRef name = names && i < names.size()
                           ? cast<StringAttr>(names[i]).getValue()
                           : StringRef();
      text << (i ? ", " : "") << "{" << cString(name) << ", "
           << offsetOf(value) << ", "
           << (type.getRank() ? program.arrayGlobal(type.getShape())
                              : StringRef("nullptr"))
           << ", " << type.getRank() << "}";
    }
    text << "}";
    emitc::GlobalOp::create(
        tables, loc, global,
        emitc::ArrayType::get({(int64_t)values.size()},
                              emitc::OpaqueType::get(&getContext(),
                                                     "dlc::rt::TensorSlot")),
        emitc::OpaqueAttr::get(&getContext(), init), false, true, true);
  };
  ValueRange outputs = forward.front().getTerminator()->getOperands();
  slots("dlc_forward_inputs", forward.getArguments(), "dlc.input_names");
  slots("dlc_forward_outputs", outputs, "dlc.output_names");

  // A model may have no input at all (`dlc run` on constants).
  bool hasInput = forward.getNumArguments() > 0;
  RankedTensorType inputType =
      hasInput ? tensorType(forward.getArgument(0))
               : RankedTensorType::get({}, Float32Type::get(&getContext()));
  RankedTensorType outputType = tensorType(outputs.front());
  auto source = module->getAttrOfType<StringAttr>("dlc.source");
  // The optimizer's defaults, as a Hyperparameters initializer.
  auto hyper = module->getAttrOfType<DictionaryAttr>(kHyperparametersAttr);
  auto hyperparameterDefaults = [&]() -> std::string {
    if (!hyper)
      return "{}";
    auto number = [&](StringRef key) {
      auto value = hyper.getAs<FloatAttr>(key);
      return llvm::formatv("{0:e9}f", value ? value.getValueAsDouble() : 0.0)
          .str();
    };
    auto name = hyper.getAs<StringAttr>("optimizer");
    StringRef optimizer = name ? name.getValue() : "sgd";
    return llvm::formatv("{{dlc::rt::Optimizer::{0}, {1}, {2}, {3}, {4}, {5}, "
                         "{6}, 1}",
                         optimizer == "adam"    ? "Adam"
                         : optimizer == "adamw" ? "AdamW"
                                                : "Sgd",
                         number("lr"), number("momentum"),
                         number("weight_decay"), number("beta1"),
                         number("beta2"), number("eps"))
        .str();
  };
  bool hasVelocity = false;
  module.walk([&](SgdUpdateOp update) {
    hasVelocity |= static_cast<bool>(update.getVelocity());
  });
  std::string trainFields =
      train ? llvm::formatv("trainStep, {0}, {1}, {2}",
                            offsetOf(train.getArgument(0)),
                            offsetOf(train.getArgument(1)),
                            offsetOf(train.front().getTerminator()->getOperand(0)))
                  .str()
            : "nullptr, 0, 0, 0";
  std::string model = llvm::formatv(
      "{{{0}, {1}, {2}, {3}, {4}, {5}, {6}, forward, {7}, {8}, {9}, {10}, "
      "dlc_forward_inputs, {11}, dlc_forward_outputs, {12}, {13}, {14}}",
      cString(source ? source.getValue() : ""), cString(trainingConfig),
      arenaSize.getInt(),
      inputType.getRank() ? program.arrayGlobal(inputType.getShape())
                          : StringRef("nullptr"),
      inputType.getRank(),
      outputType.getRank() == 2 ? outputType.getDimSize(1) : 0, trainFields,
      hasInput ? offsetOf(forward.getArgument(0)) : 0,
      offsetOf(outputs.front()),
      numVariables ? "dlc_variables" : "nullptr", numVariables,
      forward.getNumArguments(), outputs.size(), hyperparameterDefaults(),
      hasVelocity ? "true" : "false");
  emitc::GlobalOp::create(
      tables, loc, "dlc_model",
      emitc::OpaqueType::get(&getContext(), "dlc::rt::ModelInfo"),
      emitc::OpaqueAttr::get(&getContext(), model), /*extern_specifier=*/false,
      /*static_specifier=*/false, /*const_specifier=*/true);

  for (Operation *op : oldOps)
    op->erase();
  for (StringRef attr : {kArenaSizeAttr.data(), "dlc.onnx_input", "dlc.opset",
                         "dlc.source", kHyperparametersAttr.data()})
    module->removeAttr(attr);
}
