//===- KernelCall.cpp - building one exec.kernel from a graph op ----------===//

#include "KernelCall.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace dlc;

Value dlc::allocate(ConversionPatternRewriter &rewriter, Location loc,
                   ArrayRef<int64_t> shape, Type elementType) {
  auto buffer = exec::BufferType::get(rewriter.getContext(), shape, elementType);
  return exec::AllocOp::create(rewriter, loc, buffer, /*alignment=*/64,
                               /*offset=*/nullptr);
}

Value dlc::allocate(ConversionPatternRewriter &rewriter, Value result) {
  auto tensor = cast<RankedTensorType>(result.getType());
  return allocate(rewriter, result.getLoc(), tensor.getShape(),
                  tensor.getElementType());
}

Value dlc::globalBuffer(ConversionPatternRewriter &rewriter, Operation *user,
                        FlatSymbolRefAttr name) {
  auto global = SymbolTable::lookupNearestSymbolFrom<exec::GlobalOp>(user, name);
  assert(global && "variables become globals before their users convert");
  return exec::GlobalRefOp::create(rewriter, user->getLoc(),
                                   global.getBufferType(), name);
}

KernelCall::Arg KernelCall::in(Value buffer, int64_t elementOffset) {
  Arg arg;
  arg.index = inputs.size();
  arg.elementOffset = elementOffset;
  inputs.push_back(buffer);
  return arg;
}

KernelCall::Arg KernelCall::out(Value buffer, int64_t elementOffset) {
  Arg arg;
  arg.kind = Arg::Output;
  arg.index = outputs.size();
  arg.elementOffset = elementOffset;
  outputs.push_back(buffer);
  inPlace.push_back(-1);
  return arg;
}

KernelCall::Arg KernelCall::inOut(Value buffer) {
  int64_t input = inputs.size();
  inputs.push_back(buffer);
  Arg arg = out(buffer);
  inPlace.back() = input;
  return arg;
}

KernelCall::Arg KernelCall::scratch(Value buffer) {
  Arg arg;
  arg.kind = Arg::Scratch;
  arg.index = scratchBuffers.size();
  scratchBuffers.push_back(buffer);
  return arg;
}

exec::KernelOp KernelCall::create(ArrayRef<Arg> args) {
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<Attribute> attrs;
  for (const Arg &arg : args) {
    if (arg.constant) {
      attrs.push_back(arg.constant);
      continue;
    }
    unsigned operand = arg.index;
    if (arg.kind != Arg::Input)
      operand += inputs.size();
    if (arg.kind == Arg::Scratch)
      operand += outputs.size();
    attrs.push_back(exec::PointerAttr::get(ctx, operand, arg.elementOffset));
  }
  // The function's stream (CUDA) is the first op of its entry block.
  Value stream;
  if (auto func = op->getParentOfType<func::FuncOp>())
    if (auto streamOp = dyn_cast<exec::StreamOp>(func.front().front()))
      stream = streamOp.getResult();
  bool anyInPlace = llvm::any_of(inPlace, [](int64_t i) { return i >= 0; });
  if (elementwise)
    reusable = llvm::to_vector(llvm::seq<int64_t>(0, inputs.size()));
  return exec::KernelOp::create(
      rewriter, op->getLoc(), callee, stream, inputs, outputs, scratchBuffers,
      anyInPlace ? rewriter.getDenseI64ArrayAttr(inPlace) : nullptr,
      rewriter.getArrayAttr(attrs),
      reusable.empty() ? nullptr : rewriter.getDenseI64ArrayAttr(reusable));
}

SmallVector<int64_t> dlc::broadcastStrides(ArrayRef<int64_t> operand,
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

std::tuple<int64_t, int64_t, int64_t> dlc::alongAxis(RankedTensorType type,
                                                     int64_t axis) {
  if (axis < 0)
    axis += type.getRank();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d < axis)
      outer *= type.getDimSize(d);
    else if (d > axis)
      inner *= type.getDimSize(d);
  }
  return {outer, type.getDimSize(axis), inner};
}
