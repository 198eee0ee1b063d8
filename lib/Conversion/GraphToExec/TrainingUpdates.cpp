//===- TrainingUpdates.cpp - allreduce and optimizer updates to exec ------===//
//
// Each gradient's average over the ranks is an allreduce_start and its
// wait, in place on the gradient's buffer. They are adjacent here (the
// step blocks, as before); scheduling passes move the waits. The updates
// change their variables' global buffers in place.
//
//===----------------------------------------------------------------------===//

#include "KernelCall.h"
#include "dlc/Conversion/GraphToExec/GraphToExec.h"
#include "dlc/Dialect/Graph/GraphOps.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
struct AllReduceMeanLowering : OpConversionPattern<AllReduceMeanOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AllReduceMeanOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value gradient = adaptor.getInput();
    auto start = exec::AllReduceStartOp::create(
        rewriter, op.getLoc(), exec::TokenType::get(op.getContext()),
        gradient);
    exec::WaitOp::create(rewriter, op.getLoc(), start.getToken());
    rewriter.replaceOp(op, gradient);
    return success();
  }
};

/// Lowers a variable update: one kernel, nothing to replace.
template <typename OpT>
struct UpdateLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  using OpAdaptor = typename OpT::Adaptor;
  LogicalResult
  matchAndRewrite(OpT op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto global = [&](FlatSymbolRefAttr name) {
      return globalBuffer(rewriter, op, name);
    };
    if constexpr (std::is_same_v<OpT, SgdUpdateOp>) {
      Value param = global(op.getParamAttr());
      Value velocity = op.getVelocity() ? global(op.getVelocityAttr()) : Value();
      KernelCall call(rewriter, op, "sgdUpdate");
      call.create({call.inOut(param), call.in(adaptor.getGradient()),
                   velocity ? call.inOut(velocity) : call.null(),
                   call.i64(numElements(op.getGradient()))});
    } else if constexpr (std::is_same_v<OpT, AdamUpdateOp>) {
      Value param = global(op.getParamAttr());
      Value first = global(op.getFirstMomentAttr());
      Value second = global(op.getSecondMomentAttr());
      KernelCall call(rewriter, op, "adamUpdate");
      call.create({call.inOut(param), call.in(adaptor.getGradient()),
                   call.inOut(first), call.inOut(second),
                   call.i64(numElements(op.getGradient())),
                   call.boolean(op.getDecoupled())});
    } else {
      Value variable = global(op.getVariableAttr());
      KernelCall call(rewriter, op, "runningUpdate");
      call.create({call.inOut(variable), call.in(adaptor.getStatistic()),
                   call.i64(numElements(op.getStatistic())),
                   call.f32(op.getMomentum()), call.f32(op.getCorrection())});
    }
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

void dlc::populateTrainingUpdatePatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns) {
  patterns.add<AllReduceMeanLowering, UpdateLowering<SgdUpdateOp>,
               UpdateLowering<AdamUpdateOp>, UpdateLowering<RunningUpdateOp>>(
      converter, patterns.getContext());
}
