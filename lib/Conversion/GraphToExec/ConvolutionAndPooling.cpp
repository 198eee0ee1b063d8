//===- ConvolutionAndPooling.cpp - conv and pooling to exec kernels -------===//
//
// The geometry of each call is a runtime struct (Conv2DGeometry,
// Pool2DGeometry); the field lists below follow their declaration order in
// dlc/Runtime/Kernels.h.
//
//===----------------------------------------------------------------------===//

#include "KernelCall.h"
#include "dlc/Conversion/GraphToExec/GraphToExec.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Runtime/Kernels.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
KernelCall::Arg convGeometry(KernelCall &call, RankedTensorType input,
                             RankedTensorType filter, RankedTensorType output,
                             ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                             ArrayRef<int64_t> dilations, int64_t group) {
  return call.structure(
      "Conv2DGeometry",
      {input.getDimSize(0), input.getDimSize(1), input.getDimSize(2),
       input.getDimSize(3), filter.getDimSize(0), filter.getDimSize(2),
       filter.getDimSize(3), output.getDimSize(2), output.getDimSize(3),
       strides[0], strides[1], pads[0], pads[1], pads[2], pads[3],
       dilations[0], dilations[1], group, /*imagesPerCall=*/input.getDimSize(0)});
}

KernelCall::Arg poolGeometry(KernelCall &call, RankedTensorType input,
                             RankedTensorType output, ArrayRef<int64_t> kernel,
                             ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                             bool countIncludePad,
                             ArrayRef<int64_t> dilations = {1, 1}) {
  return call.structure(
      "Pool2DGeometry",
      {input.getDimSize(0), input.getDimSize(1), input.getDimSize(2),
       input.getDimSize(3), output.getDimSize(2), output.getDimSize(3),
       kernel[0], kernel[1], strides[0], strides[1], pads[0], pads[1],
       pads[2], pads[3], countIncludePad, dilations[0], dilations[1]});
}

/// An upper bound of the bytes of oneDNN's layout copies of a
/// convolution's three tensors (input, filter, output: every direction
/// copies the same three): f32 blocked layouts pad each channel dimension
/// (and the groups) to a multiple of 16 at most. A backend whose copies
/// do not fit uses its own workspace instead.
int64_t layoutCopyBytes(RankedTensorType input, RankedTensorType filter,
                        RankedTensorType output, int64_t groups) {
  auto roundUp = [](int64_t n) { return (n + 15) / 16 * 16; };
  auto aligned = [](int64_t elements) {
    return static_cast<int64_t>(llvm::alignTo(elements * 4, 64));
  };
  auto activation = [&](RankedTensorType t) {
    return aligned(t.getDimSize(0) * roundUp(t.getDimSize(1)) *
                   t.getDimSize(2) * t.getDimSize(3));
  };
  int64_t window = filter.getDimSize(2) * filter.getDimSize(3);
  int64_t weights = roundUp(groups == 1 ? 1 : groups) *
                    roundUp(filter.getDimSize(0) / groups) *
                    roundUp(filter.getDimSize(1)) * window;
  return activation(input) + aligned(weights) + activation(output);
}

/// The explicitly padded input an unevenly padded convolution needs where
/// the library pads both sides alike (cuDNN; rt::explicitPaddingBytes).
int64_t explicitPaddingBytes(RankedTensorType input, ArrayRef<int64_t> pads) {
  rt::Conv2DGeometry g{};
  g.batch = input.getDimSize(0);
  g.inChannels = input.getDimSize(1);
  g.inHeight = input.getDimSize(2);
  g.inWidth = input.getDimSize(3);
  g.padTop = pads[0];
  g.padLeft = pads[1];
  g.padBottom = pads[2];
  g.padRight = pads[3];
  return rt::explicitPaddingBytes(g);
}

/// Each direction of a convolution takes the scratch its layout copies
/// need, and room for an explicitly padded input (dlc-size-cpu-workspaces
/// replaces the bound with oneDNN's own need on the CPU).
template <typename OpT>
struct ConvolutionLowering : LibraryKernelLowering<OpT> {
  using LibraryKernelLowering<OpT>::LibraryKernelLowering;
  int64_t scratchBytes(OpT op) const override {
    RankedTensorType input, filter, output;
    if constexpr (std::is_same_v<OpT, Conv2DOp>) {
      input = op.getInput().getType();
      filter = op.getFilter().getType();
      output = op.getType();
    } else if constexpr (std::is_same_v<OpT, Conv2DBackwardDataOp>) {
      input = op.getType();
      filter = op.getFilter().getType();
      output = op.getGrad().getType();
    } else {
      input = op.getInput().getType();
      filter = op.getType();
      output = op.getGrad().getType();
    }
    return layoutCopyBytes(input, filter, output, op.getGroup()) +
           explicitPaddingBytes(input, op.getPads());
  }
};

struct Conv2DLowering : ConvolutionLowering<Conv2DOp> {
  using ConvolutionLowering::ConvolutionLowering;
  StringRef callee(Conv2DOp) const override { return "conv2d"; }
  Args arguments(Conv2DOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    return {convGeometry(call, op.getInput().getType(),
                         op.getFilter().getType(), op.getType(),
                         op.getStrides(), op.getPads(), op.getDilations(),
                         op.getGroup()),
            call.in(adaptor.getInput()), call.in(adaptor.getFilter()),
            adaptor.getBias() ? call.in(adaptor.getBias()) : call.null(),
            call.out(results[0])};
  }
};

struct Conv2DBackwardDataLowering
    : ConvolutionLowering<Conv2DBackwardDataOp> {
  using ConvolutionLowering::ConvolutionLowering;
  StringRef callee(Conv2DBackwardDataOp) const override {
    return "conv2dBackwardData";
  }
  Args arguments(Conv2DBackwardDataOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    return {convGeometry(call, op.getType(), op.getFilter().getType(),
                         op.getGrad().getType(), op.getStrides(),
                         op.getPads(), op.getDilations(), op.getGroup()),
            call.in(adaptor.getGrad()), call.in(adaptor.getFilter()),
            call.out(results[0])};
  }
};

struct Conv2DBackwardFilterLowering
    : ConvolutionLowering<Conv2DBackwardFilterOp> {
  using ConvolutionLowering::ConvolutionLowering;
  StringRef callee(Conv2DBackwardFilterOp) const override {
    return "conv2dBackwardFilter";
  }
  Args arguments(Conv2DBackwardFilterOp op, OpAdaptor adaptor,
                 KernelCall &call, ValueRange results) const override {
    return {convGeometry(call, op.getInput().getType(), op.getType(),
                         op.getGrad().getType(), op.getStrides(),
                         op.getPads(), op.getDilations(), op.getGroup()),
            call.in(adaptor.getGrad()), call.in(adaptor.getInput()),
            call.out(results[0])};
  }
};

ArrayRef<int64_t> dilationsOr1(std::optional<ArrayRef<int64_t>> dilations) {
  static const int64_t ones[] = {1, 1};
  return dilations.value_or(ArrayRef<int64_t>(ones));
}

struct MaxPool2DLowering : LibraryKernelLowering<MaxPool2DOp> {
  using LibraryKernelLowering::LibraryKernelLowering;
  StringRef callee(MaxPool2DOp) const override { return "maxPool2d"; }
  Args arguments(MaxPool2DOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    return {poolGeometry(call, op.getInput().getType(), op.getType(),
                         op.getKernel(), op.getStrides(), op.getPads(), false,
                         dilationsOr1(op.getDilations())),
            call.in(adaptor.getInput()), call.out(results[0])};
  }
};

struct MaxPool2DGradLowering : LibraryKernelLowering<MaxPool2DGradOp> {
  using LibraryKernelLowering::LibraryKernelLowering;
  /// The rerun forward pass's output and where it records the maxima (at
  /// most an int32 each), one element per output element: a bound of
  /// what oneDNN needs besides its scratchpad.
  int64_t scratchBytes(MaxPool2DGradOp op) const override {
    return 2 * static_cast<int64_t>(
                   llvm::alignTo(numElements(op.getGrad()) * 4, 64));
  }
  StringRef callee(MaxPool2DGradOp) const override { return "maxPool2dGrad"; }
  Args arguments(MaxPool2DGradOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    return {poolGeometry(call, op.getInput().getType(),
                         op.getGrad().getType(), op.getKernel(),
                         op.getStrides(), op.getPads(), false,
                         dilationsOr1(op.getDilations())),
            call.in(adaptor.getGrad()), call.in(adaptor.getInput()),
            call.out(results[0])};
  }
};

struct AvgPool2DLowering : LibraryKernelLowering<AvgPool2DOp> {
  using LibraryKernelLowering::LibraryKernelLowering;
  StringRef callee(AvgPool2DOp) const override { return "avgPool2d"; }
  Args arguments(AvgPool2DOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    return {poolGeometry(call, op.getInput().getType(), op.getType(),
                         op.getKernel(), op.getStrides(), op.getPads(),
                         op.getCountIncludePad()),
            call.in(adaptor.getInput()), call.out(results[0])};
  }
};

struct AvgPool2DGradLowering : LibraryKernelLowering<AvgPool2DGradOp> {
  using LibraryKernelLowering::LibraryKernelLowering;
  StringRef callee(AvgPool2DGradOp) const override { return "avgPool2dGrad"; }
  Args arguments(AvgPool2DGradOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    return {poolGeometry(call, op.getType(), op.getGrad().getType(),
                         op.getKernel(), op.getStrides(), op.getPads(),
                         op.getCountIncludePad()),
            call.in(adaptor.getGrad()), call.out(results[0])};
  }
};
} // namespace

void dlc::populateConvolutionAndPoolingPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<Conv2DLowering, Conv2DBackwardDataLowering,
               Conv2DBackwardFilterLowering, MaxPool2DLowering,
               MaxPool2DGradLowering, AvgPool2DLowering,
               AvgPool2DGradLowering>(converter, patterns.getContext());
}
