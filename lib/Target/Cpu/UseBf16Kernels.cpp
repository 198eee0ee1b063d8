//===- UseBf16Kernels.cpp - convolutions on bf16 values in bf16 kernels ---===//
//
// dlc-lower-precision makes every kernel read values of its operands'
// formats, and computes on them in fp32 (exact emulation). Where both
// operands a convolution multiplies are values bf16 holds, bf16 kernels
// compute the same products, and oneDNN's run about twice as fast on a CPU
// with AVX512-BF16. What the operands hold is known from who wrote them
// last: the precision kernels, whose slot names the format.
//
//===----------------------------------------------------------------------===//

#include "CpuGeometry.h"
#include "dlc/Analysis/PrecisionTensors.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Runtime/Precision/Formats.h"
#include "dlc/Target/Passes.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace dlc {
#define GEN_PASS_DEF_USEBF16KERNELS
#include "dlc/Target/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;
namespace precision = dlc::rt::precision;

namespace {

/// The convolutions whose bf16 kernels pay here. oneDNN 2.6's bf16
/// backward-weights kernels run slower than its fp32 ones on ResNet-18's
/// shapes (68 against 39 ms a step on an AVX512-BF16 EPYC), and that call
/// reads no weight: on operands already rounded, fp32 kernels give it the
/// same products.
bool takesBf16Kernels(StringRef callee) {
  return callee == "conv2d" || callee == "conv2dBackwardData";
}

/// The buffer behind `kernel`'s `index`th call argument, a pointer.
Value pointerOperand(exec::KernelOp kernel, unsigned index) {
  SmallVector<Attribute> args = kernel.getCallArguments();
  auto ptr = index < args.size() ? dyn_cast<exec::PointerAttr>(args[index])
                                 : exec::PointerAttr();
  return ptr ? kernel.getBuffers()[ptr.getOperand()] : Value();
}

/// A tensor's format and exponent in the plan.
struct PlannedFormat {
  precision::Format format;
  int exponent;
};

struct UseBf16Kernels : dlc::impl::UseBf16KernelsBase<UseBf16Kernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    slots = module->getAttrOfType<ArrayAttr>("dlc.precision");
    auto step = module.lookupSymbol<func::FuncOp>("train_step");
    if (!slots || module->hasAttr("dlc.precision_adjustable") || !step ||
        step.isExternal())
      return;
    for (Operation &op : llvm::make_early_inc_range(step.front())) {
      auto kernel = dyn_cast<exec::KernelOp>(&op);
      if (!kernel)
        continue;
      if (takesBf16Kernels(kernel.getCallee()))
        useBf16(kernel);
      for (Value output : kernel.getOutputs())
        lastWriter[exec::storageOf(output)] = kernel;
    }
  }

  ArrayAttr slots;
  /// The kernel that last wrote each storage, so far in the step's order.
  DenseMap<Value, exec::KernelOp> lastWriter;

  /// The format of the slot a precision kernel converts to.
  std::optional<PlannedFormat> formatOf(exec::KernelOp kernel) {
    SmallVector<Attribute> args = kernel.getCallArguments();
    auto slot = args.size() > 3 ? dyn_cast<IntegerAttr>(args[3]) : IntegerAttr();
    if (!slot || slot.getInt() < 0 ||
        slot.getInt() >= static_cast<int64_t>(slots.size()))
      return std::nullopt;
    auto entry = dyn_cast<DictionaryAttr>(slots[slot.getInt()]);
    auto name = entry ? entry.getAs<StringAttr>("format") : StringAttr();
    auto exponent = entry ? entry.getAs<IntegerAttr>("exponent") : IntegerAttr();
    std::optional<precision::Format> format =
        name ? precision::parseFormat(name.getValue().str()) : std::nullopt;
    if (!format)
      return std::nullopt;
    return PlannedFormat{*format, exponent ? int(exponent.getInt()) : 0};
  }

  /// The precision kernel that wrote all of `operand` last, if one did.
  static exec::KernelOp
  precisionWriter(Value operand, const DenseMap<Value, exec::KernelOp> &last) {
    Value storage = exec::storageOf(operand);
    exec::KernelOp writer = last.lookup(storage);
    if (!writer || (writer.getCallee() != kRoundKernel &&
                    writer.getCallee() != kUnpackKernel))
      return nullptr;
    Value written = writer.getOutputs().front();
    return written == operand || written == storage ? writer : nullptr;
  }

  void useBf16(exec::KernelOp conv) {
    SmallVector<exec::KernelOp, 2> writers;
    for (unsigned index : {1u, 2u}) {
      Value operand = pointerOperand(conv, index);
      exec::KernelOp writer =
          operand ? precisionWriter(operand, lastWriter) : nullptr;
      std::optional<PlannedFormat> format =
          writer ? formatOf(writer) : std::nullopt;
      if (!format ||
          !precision::bf16HoldsExactly(format->format, format->exponent))
        return;
      writers.push_back(writer);
    }
    SmallVector<Attribute> args = conv.getCallArguments();
    std::optional<rt::Conv2DGeometry> g = cpu::readConvGeometry(args);
    if (!g)
      return;
    g->bf16Operands = 1;
    args.front() = cpu::geometryAttr(&getContext(), *g);
    conv.setArgsAttr(ArrayAttr::get(&getContext(), args));
    for (exec::KernelOp writer : writers)
      dropWeightCopy(conv, writer);
  }

  /// Where `round` made a bf16 copy of a weight for `conv` alone, `conv`
  /// reads the master weight instead: it rounds it the same way itself.
  void dropWeightCopy(exec::KernelOp conv, exec::KernelOp round) {
    std::optional<PlannedFormat> format = formatOf(round);
    Value master = round.getInputs().front(), copy = round.getOutputs().front();
    if (!format || round.getCallee() != kRoundKernel || master == copy ||
        !master.getDefiningOp<exec::GlobalRefOp>() ||
        format->format != precision::Format::BF16 || format->exponent != 0)
      return;
    for (Operation *user : copy.getUsers())
      if (user != round.getOperation() && user != conv.getOperation())
        return; // read through a view, or by another kernel too
    conv->replaceUsesOfWith(copy, master);
    Operation *alloc = copy.getDefiningOp();
    lastWriter.erase(copy);
    round->erase();
    if (alloc && alloc->use_empty())
      alloc->erase();
  }
};

} // namespace
