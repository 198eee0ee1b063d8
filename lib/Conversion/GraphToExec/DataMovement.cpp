//===- DataMovement.cpp - views and copies to exec ------------------------===//
//
// A load is the variable's global buffer and a reshape a view of its
// operand: neither copies. The rest are copy kernels; concat and slice are
// strided row copies at an offset into one of their buffers.
//
//===----------------------------------------------------------------------===//

#include "KernelCall.h"
#include "dlc/Conversion/GraphToExec/GraphToExec.h"
#include "dlc/Dialect/Graph/GraphOps.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
struct LoadLowering : OpConversionPattern<LoadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LoadOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op,
                       globalBuffer(rewriter, op, op.getVariableAttr()));
    return success();
  }
};

struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = getTypeConverter()->convertType(op.getType());
    rewriter.replaceOpWithNewOp<exec::ViewOp>(op, type, adaptor.getInput());
    return success();
  }
};

struct TransposeLowering : KernelLowering<TransposeOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(TransposeOp) const override { return "transpose"; }
  Args arguments(TransposeOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    return {call.in(adaptor.getInput()), call.array(shape),
            call.array(op.getPermutation()), call.i32(shape.size()),
            call.out(results[0])};
  }
};

struct PadLowering : KernelLowering<PadOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(PadOp) const override { return "pad"; }
  Args arguments(PadOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    return {call.in(adaptor.getInput()),  call.array(shape),
            call.i32(shape.size()),        call.array(op.getLow()),
            call.f32(op.getValue()),       call.out(results[0]),
            call.array(op.getType().getShape())};
  }
};

struct CropLowering : KernelLowering<CropOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(CropOp) const override { return "crop"; }
  Args arguments(CropOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    return {call.in(adaptor.getInput()), call.array(shape),
            call.i32(shape.size()),       call.array(op.getOffsets()),
            call.out(results[0]),         call.array(op.getType().getShape())};
  }
};

/// Each input is `outer` rows of (its extent x inner) elements, copied to
/// its place in the result's rows: one copy kernel per input.
struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType y = op.getType();
    auto [outer, extent, inner] = alongAxis(y, op.getAxis());
    Value result = allocate(rewriter, op.getResult());
    int64_t start = 0;
    for (auto [input, buffer] : llvm::zip(op.getInputs(), adaptor.getInputs())) {
      int64_t rows = tensorType(input).getDimSize(op.getAxis());
      KernelCall copy(rewriter, op, "copyRows");
      copy.create({copy.in(buffer), copy.i64(rows * inner),
                   copy.out(result, start * inner), copy.i64(extent * inner),
                   copy.i64(outer), copy.i64(rows * inner)});
      start += rows;
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SliceLowering : KernelLowering<SliceOp> {
  using KernelLowering::KernelLowering;
  StringRef callee(SliceOp) const override { return "copyRows"; }
  Args arguments(SliceOp op, OpAdaptor adaptor, KernelCall &call,
                 ValueRange results) const override {
    auto [outer, extent, inner] =
        alongAxis(op.getInput().getType(), op.getAxis());
    int64_t rows = op.getType().getDimSize(op.getAxis());
    return {call.in(adaptor.getInput(), op.getStart() * inner),
            call.i64(extent * inner), call.out(results[0]),
            call.i64(rows * inner),   call.i64(outer),
            call.i64(rows * inner)};
  }
};
} // namespace

void dlc::populateDataMovementPatterns(const TypeConverter &converter,
                                       RewritePatternSet &patterns) {
  patterns.add<LoadLowering, ReshapeLowering, TransposeLowering, PadLowering,
               CropLowering, ConcatLowering, SliceLowering>(
      converter, patterns.getContext());
}
