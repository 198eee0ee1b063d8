//===- Elementwise.cpp - arithmetic and activations to exec kernels -------===//

#include "KernelCall.h"
#include "dlc/Conversion/GraphToExec/GraphToExec.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
template <typename OpT>
struct BinaryLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  StringRef callee(OpT) const override { return "binary"; }
  KernelArgs arguments(OpT op, typename OpT::Adaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    call.setElementwise();
    StringRef kind = llvm::TypeSwitch<Operation *, StringRef>(op)
                         .Case([](AddOp) { return "Binary::Add"; })
                         .Case([](SubOp) { return "Binary::Sub"; })
                         .Case([](MulOp) { return "Binary::Mul"; })
                         .Default([](Operation *) { return "Binary::Div"; });
    ArrayRef<int64_t> y = op.getType().getShape();
    auto strides = [&](Value v) {
      return call.array(broadcastStrides(tensorType(v).getShape(), y));
    };
    return {call.enumerator(kind),  call.in(adaptor.getLhs()),
            strides(op.getLhs()),   call.in(adaptor.getRhs()),
            strides(op.getRhs()),   call.out(results[0]),
            call.array(y),          call.i32(y.size())};
  }
};

struct ReduceSumToLowering : KernelLowering<ReduceSumToOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(ReduceSumToOp) const override { return "reduceSumTo"; }
  Args arguments(ReduceSumToOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    ArrayRef<int64_t> x = op.getInput().getType().getShape();
    return {call.in(adaptor.getInput()), call.array(x), call.i32(x.size()),
            call.out(results[0]),
            call.array(broadcastStrides(op.getType().getShape(), x)),
            call.i64(numElements(op))};
  }
};

struct BroadcastLowering : KernelLowering<BroadcastOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(BroadcastOp) const override { return "broadcastScaled"; }
  Args arguments(BroadcastOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    ArrayRef<int64_t> y = op.getType().getShape();
    return {call.in(adaptor.getInput()),
            call.array(
                broadcastStrides(op.getInput().getType().getShape(), y)),
            call.f32(1.0f), call.out(results[0]), call.array(y),
            call.i32(y.size())};
  }
};

struct ScaleLowering : KernelLowering<ScaleOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(ScaleOp) const override { return "scale"; }
  Args arguments(ScaleOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    call.setElementwise();
    return {call.in(adaptor.getInput()), call.f32(op.getFactor()),
            call.out(results[0]), call.i64(numElements(op))};
  }
};

struct OnesLowering : KernelLowering<OnesOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(OnesOp) const override { return "fill"; }
  Args arguments(OnesOp op, OpAdaptor, KernelCall &call,
                 ValueRange results) const override {
    return {call.out(results[0]), call.f32(1.0f), call.i64(numElements(op))};
  }
};

/// The runtime's Activation enumerator for an activation or its gradient.
StringRef activationKind(Operation *op) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case<ReluOp, ReluGradOp>([](auto) { return "Activation::Relu"; })
      .Case<SigmoidOp, SigmoidGradOp>([](auto) { return "Activation::Sigmoid"; })
      .Case<TanhOp, TanhGradOp>([](auto) { return "Activation::Tanh"; })
      .Case<RsqrtOp, RsqrtGradOp>([](auto) { return "Activation::Rsqrt"; })
      .Default([](Operation *) { return "Activation::LeakyRelu"; });
}

/// The runtime's `alpha` for an activation or its gradient: Rsqrt's
/// epsilon, LeakyRelu's slope, 0 for the others.
float activationParameter(Operation *op) {
  return llvm::TypeSwitch<Operation *, float>(op)
      .Case([](RsqrtOp f) { return f.getEpsilon().convertToFloat(); })
      .Case<LeakyReluOp, LeakyReluGradOp>(
          [](auto f) { return f.getAlpha().convertToFloat(); })
      .Default([](Operation *) { return 0.0f; });
}

template <typename OpT>
struct ActivationLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  StringRef callee(OpT) const override { return "activation"; }
  KernelArgs arguments(OpT op, typename OpT::Adaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    call.setElementwise();
    return {call.enumerator(activationKind(op)),
            call.f32(activationParameter(op)), call.in(adaptor.getInput()),
            call.out(results[0]), call.i64(numElements(op))};
  }
};

/// The gradient reads the forward's output (ReLU, sigmoid, tanh, rsqrt) or,
/// for LeakyRelu, its input.
template <typename OpT>
struct ActivationGradLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  StringRef callee(OpT) const override { return "activationGrad"; }
  KernelArgs arguments(OpT op, typename OpT::Adaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    call.setElementwise();
    Value forward;
    if constexpr (std::is_same_v<OpT, LeakyReluGradOp>)
      forward = adaptor.getInput();
    else
      forward = adaptor.getOutput();
    return {call.enumerator(activationKind(op)),
            call.f32(activationParameter(op)), call.in(adaptor.getGrad()),
            call.in(forward), call.out(results[0]), call.i64(numElements(op))};
  }
};

struct ClipLowering : KernelLowering<ClipOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(ClipOp) const override { return "clip"; }
  Args arguments(ClipOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    call.setElementwise();
    return {call.in(adaptor.getInput()), call.f32(op.getMin()),
            call.f32(op.getMax()), call.out(results[0]),
            call.i64(numElements(op))};
  }
};

struct ClipGradLowering : KernelLowering<ClipGradOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(ClipGradOp) const override { return "clipGrad"; }
  Args arguments(ClipGradOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    call.setElementwise();
    return {call.in(adaptor.getGrad()), call.in(adaptor.getInput()),
            call.f32(op.getMin()),      call.f32(op.getMax()),
            call.out(results[0]),       call.i64(numElements(op))};
  }
};

struct DropoutMaskLowering : KernelLowering<DropoutMaskOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(DropoutMaskOp) const override { return "dropoutMask"; }
  Args arguments(DropoutMaskOp op, OpAdaptor, KernelCall &call,
                 ValueRange results) const override {
    return {call.out(results[0]), call.i64(numElements(op)),
            call.f32(op.getRatio()), call.i64(op.getStream())};
  }
};
} // namespace

void dlc::populateElementwisePatterns(const TypeConverter &converter,
                                      RewritePatternSet &patterns) {
  patterns.add<BinaryLowering<AddOp>, BinaryLowering<SubOp>,
               BinaryLowering<MulOp>, BinaryLowering<DivOp>,
               ReduceSumToLowering, BroadcastLowering, ScaleLowering,
               OnesLowering, ActivationLowering<ReluOp>,
               ActivationLowering<SigmoidOp>, ActivationLowering<TanhOp>,
               ActivationLowering<RsqrtOp>, ActivationLowering<LeakyReluOp>,
               ActivationGradLowering<ReluGradOp>,
               ActivationGradLowering<SigmoidGradOp>,
               ActivationGradLowering<TanhGradOp>,
               ActivationGradLowering<RsqrtGradOp>,
               ActivationGradLowering<LeakyReluGradOp>, ClipLowering,
               ClipGradLowering, DropoutMaskLowering>(converter,
                                                      patterns.getContext());
}
