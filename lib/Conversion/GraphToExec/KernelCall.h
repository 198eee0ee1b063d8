//===- KernelCall.h - building one exec.kernel from a graph op --*- C++ -*-===//
//
// What every GraphToExec pattern needs: buffers for an op's results, one
// kernel call with its buffers and ABI arguments in order, and the shape
// arithmetic that turns tensor types into kernel arguments.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_CONVERSION_GRAPHTOEXEC_KERNELCALL_H
#define DLC_LIB_CONVERSION_GRAPHTOEXEC_KERNELCALL_H

#include "dlc/Dialect/Exec/ExecOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace dlc {

/// An `exec.alloc` for `result`'s converted type, before the op being
/// rewritten.
mlir::Value allocate(mlir::ConversionPatternRewriter &rewriter,
                     mlir::Value result);
/// An `exec.alloc` of the given shape and element type.
mlir::Value allocate(mlir::ConversionPatternRewriter &rewriter,
                     mlir::Location loc, llvm::ArrayRef<int64_t> shape,
                     mlir::Type elementType);

/// An `exec.global_ref` to the global `name` (the variable's buffer).
mlir::Value globalBuffer(mlir::ConversionPatternRewriter &rewriter,
                         mlir::Operation *user, mlir::FlatSymbolRefAttr name);

/// One runtime call being built: its buffers (inputs, outputs) are
/// gathered as its arguments are, then `create` makes the exec.kernel.
class KernelCall {
public:
  /// An argument: a pointer into an input or output, or a constant.
  struct Arg {
    Arg(mlir::Attribute constant) : constant(constant) {}
    mlir::Attribute constant;
    enum Kind { Input, Output, Scratch } kind = Input;
    unsigned index = 0;
    int64_t elementOffset = 0;

  private:
    friend class KernelCall;
    Arg() = default;
  };

  KernelCall(mlir::ConversionPatternRewriter &rewriter, mlir::Operation *op,
             llvm::StringRef callee)
      : rewriter(rewriter), op(op), callee(callee) {}

  /// A buffer the kernel reads, `elementOffset` elements in.
  Arg in(mlir::Value buffer, int64_t elementOffset = 0);
  /// A buffer the kernel writes (and may read, as an accumulating GEMM).
  Arg out(mlir::Value buffer, int64_t elementOffset = 0);
  /// A buffer the kernel updates in place (an optimizer's parameter).
  Arg inOut(mlir::Value buffer);
  /// Bytes the kernel may use as it likes during the call.
  Arg scratch(mlir::Value buffer);

  Arg i64(int64_t value) { return Arg(rewriter.getI64IntegerAttr(value)); }
  Arg i32(int32_t value) { return Arg(rewriter.getI32IntegerAttr(value)); }
  Arg f32(float value) { return Arg(rewriter.getF32FloatAttr(value)); }
  Arg f32(const llvm::APFloat &value) { return f32(value.convertToFloat()); }
  Arg boolean(bool value) { return Arg(rewriter.getBoolAttr(value)); }
  Arg array(llvm::ArrayRef<int64_t> values) {
    return Arg(rewriter.getDenseI64ArrayAttr(values));
  }
  /// `dlc::rt::<name>`, e.g. "Binary::Add".
  Arg enumerator(llvm::StringRef name) {
    return Arg(exec::EnumAttr::get(rewriter.getContext(), name));
  }
  /// A `dlc::rt::<type>` initialised with `fields` in declaration order.
  Arg structure(llvm::StringRef type, llvm::ArrayRef<int64_t> fields) {
    return Arg(exec::StructAttr::get(rewriter.getContext(), type, fields));
  }
  Arg null() { return Arg(exec::NullAttr::get(rewriter.getContext())); }

  /// Declares that the kernel computes each output element from the same
  /// element of its same-typed inputs (an output may take the bytes of
  /// such an input that dies here: dlc-reuse-in-place).
  void setElementwise() { elementwise = true; }
  /// Declares that an output of the same type may take `input`'s bytes.
  void allowReuse(Arg input) { reusable.push_back(input.index); }

  /// Creates the kernel, on the function's stream where it has one.
  exec::KernelOp create(llvm::ArrayRef<Arg> args);

private:
  mlir::ConversionPatternRewriter &rewriter;
  mlir::Operation *op;
  llvm::StringRef callee;
  llvm::SmallVector<mlir::Value> inputs, outputs, scratchBuffers;
  llvm::SmallVector<int64_t> inPlace, reusable;
  bool elementwise = false;
};

/// A kernel call's arguments, in order.
using KernelArgs = llvm::SmallVector<KernelCall::Arg>;

/// The pattern for an op that is one kernel call writing a new buffer for
/// each result: a subclass names the callee and lists the arguments.
template <typename OpT>
class KernelLowering : public mlir::OpConversionPattern<OpT> {
public:
  using mlir::OpConversionPattern<OpT>::OpConversionPattern;
  using OpAdaptor = typename OpT::Adaptor;
  using Args = KernelArgs;

  virtual llvm::StringRef callee(OpT op) const = 0;
  /// The call's arguments; `results` are the buffers of the op's results.
  virtual Args arguments(OpT op, OpAdaptor adaptor, KernelCall &call,
                         mlir::ValueRange results) const = 0;
  /// Whether the call ends with (scratch, scratchBytes): a buffer planned
  /// for the call's library workspace and its size, or null and 0.
  virtual bool takesScratch() const { return false; }
  /// The scratch the lowering plans by itself (layout copies, by a bound);
  /// a target pass may size it again by asking the library
  /// (dlc-size-cpu-workspaces).
  virtual int64_t scratchBytes(OpT op) const { return 0; }

  mlir::LogicalResult
  matchAndRewrite(OpT op, OpAdaptor adaptor,
                  mlir::ConversionPatternRewriter &rewriter) const override {
    llvm::SmallVector<mlir::Value> results;
    for (mlir::Value result : op->getResults())
      results.push_back(allocate(rewriter, result));
    int64_t bytes = takesScratch() ? scratchBytes(op) : 0;
    mlir::Value scratch =
        bytes ? allocate(rewriter, op.getLoc(), {bytes}, rewriter.getI8Type())
              : mlir::Value();
    KernelCall call(rewriter, op, callee(op));
    Args args = arguments(op, adaptor, call, results);
    if (takesScratch())
      llvm::append_values(args, scratch ? call.scratch(scratch) : call.null(),
                          call.i64(bytes));
    call.create(args);
    rewriter.replaceOp(op, results);
    return mlir::success();
  }
};

/// A call that a library backs (oneDNN on the CPU), which takes scratch.
template <typename OpT>
struct LibraryKernelLowering : KernelLowering<OpT> {
  using KernelLowering<OpT>::KernelLowering;
  bool takesScratch() const override { return true; }
};

/// The number of elements of a tensor value.
inline int64_t numElements(mlir::Value tensor) {
  return llvm::cast<mlir::RankedTensorType>(tensor.getType()).getNumElements();
}

/// Element strides that read a tensor of shape `operand` broadcast to
/// `shape` (numpy rules).
llvm::SmallVector<int64_t> broadcastStrides(llvm::ArrayRef<int64_t> operand,
                                            llvm::ArrayRef<int64_t> shape);

/// (outer, extent, inner) of `type` along `axis` (negative: from the end):
/// the tensor seen as outer x extent x inner.
std::tuple<int64_t, int64_t, int64_t> alongAxis(mlir::RankedTensorType type,
                                                int64_t axis);

inline mlir::RankedTensorType tensorType(mlir::Value value) {
  return llvm::cast<mlir::RankedTensorType>(value.getType());
}

} // namespace dlc

#endif // DLC_LIB_CONVERSION_GRAPHTOEXEC_KERNELCALL_H
