//===- Normalization.cpp - batch norm and LRN to exec kernels -------------===//

#include "KernelCall.h"
#include "dlc/Conversion/GraphToExec/GraphToExec.h"
#include "dlc/Dialect/Graph/GraphOps.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
/// N x C x (the product of the other dimensions).
SmallVector<int64_t, 3> batchChannelsSpatial(RankedTensorType type) {
  int64_t n = type.getDimSize(0), c = type.getDimSize(1);
  return {n, c, type.getNumElements() / (n * c)};
}

/// dlc::rt::BatchNormGeometry's fields.
KernelCall::Arg normGeometry(KernelCall &call, RankedTensorType input) {
  return call.structure("BatchNormGeometry", batchChannelsSpatial(input));
}

struct BatchNormTrainLowering : LibraryKernelLowering<BatchNormTrainOp> {
  using LibraryKernelLowering::LibraryKernelLowering;
  StringRef callee(BatchNormTrainOp) const override {
    return "batchNormTraining";
  }
  Args arguments(BatchNormTrainOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    return {normGeometry(call, op.getInput().getType()),
            call.f32(op.getEpsilon()), call.in(adaptor.getInput()),
            call.in(adaptor.getScale()), call.in(adaptor.getBias()),
            call.out(results[0]), call.out(results[1]),
            call.out(results[2])};
  }
};

struct BatchNormInferenceLowering
    : LibraryKernelLowering<BatchNormInferenceOp> {
  using LibraryKernelLowering::LibraryKernelLowering;
  StringRef callee(BatchNormInferenceOp) const override {
    return "batchNormInference";
  }
  Args arguments(BatchNormInferenceOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    return {normGeometry(call, op.getInput().getType()),
            call.f32(op.getEpsilon()),
            call.in(adaptor.getInput()),
            call.in(adaptor.getScale()),
            call.in(adaptor.getBias()),
            call.in(adaptor.getMean()),
            call.in(adaptor.getVariance()),
            call.out(results[0])};
  }
};

struct BatchNormGradLowering : LibraryKernelLowering<BatchNormGradOp> {
  using LibraryKernelLowering::LibraryKernelLowering;
  /// cuDNN's backward takes 1 / sqrt(variance + epsilon) per channel, which
  /// it would otherwise compute again from x; oneDNN's need replaces this
  /// on the CPU (dlc-size-cpu-workspaces).
  int64_t scratchBytes(BatchNormGradOp op) const override {
    return op.getScale().getType().getNumElements() * sizeof(float);
  }
  StringRef callee(BatchNormGradOp) const override {
    return "batchNormTrainingGrad";
  }
  Args arguments(BatchNormGradOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    // oneDNN writes the data gradient over the output gradient in place.
    KernelCall::Arg grad = call.in(adaptor.getGrad());
    call.allowReuse(grad);
    return {normGeometry(call, op.getInput().getType()),
            call.f32(op.getEpsilon()), grad,
            call.in(adaptor.getInput()), call.in(adaptor.getScale()),
            call.in(adaptor.getMean()), call.in(adaptor.getVariance()),
            call.out(results[0]), call.out(results[1]),
            call.out(results[2])};
  }
};

/// LRN and its gradient: (inputs..., result, N, C, spatial, size, alpha,
/// beta, bias); the gradient's inputs are dy, x and LRN's output.
template <typename OpT>
struct LrnLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  StringRef callee(OpT) const override {
    return std::is_same_v<OpT, LrnOp> ? "lrn" : "lrnGrad";
  }
  KernelArgs arguments(OpT op, typename OpT::Adaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    KernelArgs args;
    if constexpr (std::is_same_v<OpT, LrnGradOp>)
      args.push_back(call.in(adaptor.getGrad()));
    args.push_back(call.in(adaptor.getInput()));
    if constexpr (std::is_same_v<OpT, LrnGradOp>)
      args.push_back(call.in(adaptor.getOutput()));
    args.push_back(call.out(results[0]));
    for (int64_t d : batchChannelsSpatial(op.getType()))
      args.push_back(call.i64(d));
    llvm::append_values(args, call.i64(op.getSize()), call.f32(op.getAlpha()),
                        call.f32(op.getBeta()), call.f32(op.getBias()));
    return args;
  }
};
} // namespace

void dlc::populateNormalizationPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns) {
  patterns
      .add<BatchNormTrainLowering, BatchNormInferenceLowering,
           BatchNormGradLowering, LrnLowering<LrnOp>, LrnLowering<LrnGradOp>>(
          converter, patterns.getContext());
}
