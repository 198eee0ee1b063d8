//===- LinearAlgebra.cpp - Gemm and N-D MatMul to exec kernels ------------===//

#include "KernelCall.h"
#include "dlc/Conversion/GraphToExec/GraphToExec.h"
#include "dlc/Dialect/Graph/GraphOps.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {
struct GemmLowering : OpConversionPattern<GemmOp> {
  GemmLowering(const TypeConverter &converter, MLIRContext *ctx,
               int64_t workspaceBytes)
      : OpConversionPattern(converter, ctx), workspaceBytes(workspaceBytes) {}
  /// The BLAS library's workspace for the call, planned in the arena (0:
  /// the library keeps its own, and the call passes none).
  int64_t workspaceBytes;

  LogicalResult
  matchAndRewrite(GemmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ArrayRef<int64_t> a = op.getA().getType().getShape();
    ArrayRef<int64_t> y = op.getType().getShape();
    Value result = allocate(rewriter, op.getResult());
    float beta = 0.0f;
    if (Value c = op.getC()) {
      // c is broadcast into the result first; the product accumulates.
      KernelCall fill(rewriter, op, "broadcastScaled");
      fill.create({fill.in(adaptor.getC()),
                   fill.array(broadcastStrides(tensorType(c).getShape(), y)),
                   fill.f32(op.getBeta()), fill.out(result), fill.array(y),
                   fill.i32(y.size())});
      beta = 1.0f;
    }
    Value workspace =
        workspaceBytes ? allocate(rewriter, op.getLoc(), {workspaceBytes},
                                  rewriter.getI8Type())
                       : Value();
    KernelCall gemm(rewriter, op, "gemm");
    gemm.create({gemm.boolean(op.getTransA()), gemm.boolean(op.getTransB()),
                 gemm.i64(y[0]), gemm.i64(y[1]),
                 gemm.i64(op.getTransA() ? a[0] : a[1]), gemm.f32(op.getAlpha()),
                 gemm.in(adaptor.getA()), gemm.in(adaptor.getB()),
                 gemm.f32(beta), gemm.out(result),
                 workspace ? gemm.scratch(workspace) : gemm.null(),
                 gemm.i64(workspaceBytes)});
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct MatMulLowering : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType a = op.getA().getType(), b = op.getB().getType();
    RankedTensorType y = op.getType();
    ArrayRef<int64_t> batch = y.getShape().drop_back(2);
    // Element strides through the batch: broadcast strides over the
    // matrices, times a matrix's size.
    auto strides = [&](RankedTensorType t) {
      SmallVector<int64_t> s =
          broadcastStrides(t.getShape().drop_back(2), batch);
      int64_t matrix =
          t.getDimSize(t.getRank() - 1) * t.getDimSize(t.getRank() - 2);
      for (int64_t &v : s)
        v *= matrix;
      return s;
    };
    int64_t k = a.getDimSize(a.getRank() - (op.getTransA() ? 2 : 1));
    Value result = allocate(rewriter, op.getResult());
    KernelCall call(rewriter, op, "batchedGemm");
    call.create({call.boolean(op.getTransA()), call.boolean(op.getTransB()),
                 call.i64(y.getDimSize(y.getRank() - 2)),
                 call.i64(y.getDimSize(y.getRank() - 1)), call.i64(k),
                 call.in(adaptor.getA()), call.array(strides(a)),
                 call.in(adaptor.getB()), call.array(strides(b)),
                 call.out(result), call.array(batch), call.i32(batch.size())});
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void dlc::populateLinearAlgebraPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns,
                                        const TargetInfo &target) {
  patterns.add<GemmLowering>(converter, patterns.getContext(),
                             target.blasWorkspaceBytes);
  patterns.add<MatMulLowering>(converter, patterns.getContext());
}
