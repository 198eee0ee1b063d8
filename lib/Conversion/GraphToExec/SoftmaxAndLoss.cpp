//===- SoftmaxAndLoss.cpp - softmax and losses to exec kernels ------------===//

#include "KernelCall.h"
#include "dlc/Conversion/GraphToExec/GraphToExec.h"
#include "dlc/Dialect/Graph/GraphOps.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
/// Softmax and log-softmax along an axis: (x, y, outer, extent, inner).
template <typename OpT>
struct SoftmaxLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  StringRef callee(OpT) const override {
    return std::is_same_v<OpT, SoftmaxOp> ? "softmax" : "logSoftmax";
  }
  KernelArgs arguments(OpT op, typename OpT::Adaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    auto [outer, extent, inner] = alongAxis(op.getType(), op.getAxis());
    return {call.in(adaptor.getInput()), call.out(results[0]),
            call.i64(outer), call.i64(extent), call.i64(inner)};
  }
};

/// Their gradients read the forward's output: (dy, y, dx, outer, extent,
/// inner).
template <typename OpT>
struct SoftmaxGradLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  StringRef callee(OpT) const override {
    return std::is_same_v<OpT, SoftmaxGradOp> ? "softmaxGrad"
                                              : "logSoftmaxGrad";
  }
  KernelArgs arguments(OpT op, typename OpT::Adaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    auto [outer, extent, inner] = alongAxis(op.getType(), op.getAxis());
    return {call.in(adaptor.getGrad()), call.in(adaptor.getOutput()),
            call.out(results[0]),       call.i64(outer),
            call.i64(extent),           call.i64(inner)};
  }
};

/// A loss over a batch x classes input: (x, labels, loss, rows, cols).
template <typename OpT>
struct LossLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  StringRef callee(OpT) const override {
    return std::is_same_v<OpT, MseLossOp> ? "mseLoss" : "softmaxCrossEntropy";
  }
  KernelArgs arguments(OpT op, typename OpT::Adaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    RankedTensorType x = op.getInput().getType();
    return {call.in(adaptor.getInput()), call.in(adaptor.getLabels()),
            call.out(results[0]), call.i64(x.getDimSize(0)),
            call.i64(x.getDimSize(1))};
  }
};

/// (x, labels, dloss, dx, rows, cols).
template <typename OpT>
struct LossGradLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  StringRef callee(OpT) const override {
    return std::is_same_v<OpT, MseLossGradOp> ? "mseLossGrad"
                                              : "softmaxCrossEntropyGrad";
  }
  KernelArgs arguments(OpT op, typename OpT::Adaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    RankedTensorType dx = op.getType();
    return {call.in(adaptor.getInput()), call.in(adaptor.getLabels()),
            call.in(adaptor.getGrad()),  call.out(results[0]),
            call.i64(dx.getDimSize(0)),  call.i64(dx.getDimSize(1))};
  }
};
} // namespace

void dlc::populateSoftmaxAndLossPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns) {
  patterns.add<SoftmaxLowering<SoftmaxOp>, SoftmaxLowering<LogSoftmaxOp>,
               SoftmaxGradLowering<SoftmaxGradOp>,
               SoftmaxGradLowering<LogSoftmaxGradOp>,
               LossLowering<SoftmaxCrossEntropyOp>, LossLowering<MseLossOp>,
               LossGradLowering<SoftmaxCrossEntropyGradOp>,
               LossGradLowering<MseLossGradOp>>(converter,
                                                patterns.getContext());
}
