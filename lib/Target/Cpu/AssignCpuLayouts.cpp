//===- AssignCpuLayouts.cpp - Blocked layouts between oneDNN's kernels ----===//
//
// Groups the step's buffers into sets that must share one layout (what an
// elementwise kernel or batch norm reads and writes together), marks the
// sets some kernel or operation needs in NCHW, and writes the channel block
// into the geometry of every convolution, pooling and batch norm that
// touches a set left free. See the pass's description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "CpuGeometry.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Runtime/CpuWorkspaces.h"
#include "dlc/Target/Passes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSwitch.h"

namespace dlc {
#define GEN_PASS_DEF_ASSIGNCPULAYOUTS
#include "dlc/Target/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

/// Which layout field of a kernel's geometry an operand's layout goes to.
enum class Field { None, Input, Output, Norm };

/// Operands of one kernel that share a layout, and the geometry field that
/// records it (None for elementwise kernels, which have no geometry).
struct Slot {
  SmallVector<Value, 3> buffers;
  Field field;
};

/// The kernel's slots, or nothing where the kernel needs every operand in
/// NCHW. Operand orders are the lowering's (GraphToExec).
std::optional<SmallVector<Slot>> slotsOf(exec::KernelOp kernel) {
  StringRef callee = kernel.getCallee();
  auto in = [&](unsigned i) { return kernel.getInputs()[i]; };
  auto out = [&](unsigned i) { return kernel.getOutputs()[i]; };
  SmallVector<Attribute> args = kernel.getCallArguments();

  if (callee == "conv2d")
    return SmallVector<Slot>{{{in(0)}, Field::Input},
                             {{out(0)}, Field::Output}};
  if (callee == "conv2dBackwardData")
    return SmallVector<Slot>{{{in(0)}, Field::Output},
                             {{out(0)}, Field::Input}};
  if (callee == "conv2dBackwardFilter")
    return SmallVector<Slot>{{{in(0)}, Field::Output}, {{in(1)}, Field::Input}};
  if (callee == "batchNormTraining" || callee == "batchNormInference")
    return SmallVector<Slot>{{{in(0), out(0)}, Field::Norm}};
  if (callee == "batchNormTrainingGrad")
    return SmallVector<Slot>{{{in(0), in(1), out(0)}, Field::Norm}};

  bool max = callee.starts_with("maxPool2d");
  if (max || callee.starts_with("avgPool2d")) {
    std::optional<rt::Pool2DGeometry> g = cpu::readPoolGeometry(args);
    if (!g || !rt::pool2dOnLibrary(*g, max))
      return std::nullopt; // the plain loops
    if (callee == "maxPool2d" || callee == "avgPool2d")
      return SmallVector<Slot>{{{in(0)}, Field::Input},
                               {{out(0)}, Field::Output}};
    if (callee == "maxPool2dGrad")
      return SmallVector<Slot>{{{in(0)}, Field::Output},
                               {{in(1), out(0)}, Field::Input}};
    if (callee == "avgPool2dGrad")
      return SmallVector<Slot>{{{in(0)}, Field::Output},
                               {{out(0)}, Field::Input}};
    return std::nullopt;
  }

  bool elementwise =
      llvm::StringSwitch<bool>(callee)
          .Cases({"activation", "activationGrad", "scale", "clip", "clipGrad"},
                 true)
          .Default(false);
  if (callee == "binary") {
    // Same shapes only: its arguments end with the result's shape and rank,
    // and each operand's strides must be that shape's dense ones.
    auto shape = args.size() >= 2
                     ? dyn_cast<DenseI64ArrayAttr>(args[args.size() - 2])
                     : DenseI64ArrayAttr();
    if (!shape)
      return std::nullopt;
    SmallVector<int64_t> dense(shape.size(), 1);
    for (int d = int(shape.size()) - 2; d >= 0; --d)
      dense[d] = dense[d + 1] * shape[d + 1];
    elementwise = llvm::all_of(llvm::drop_end(args, 2), [&](Attribute arg) {
      auto strides = dyn_cast<DenseI64ArrayAttr>(arg);
      return !strides || strides.asArrayRef() == ArrayRef<int64_t>(dense);
    });
  }
  if (!elementwise)
    return std::nullopt;
  Slot all{{}, Field::None};
  llvm::append_range(all.buffers, kernel.getInputs());
  llvm::append_range(all.buffers, kernel.getOutputs());
  return SmallVector<Slot>{all};
}

/// Sets of buffers that share a layout (union-find), each with whether it
/// must stay NCHW.
class LayoutSets {
public:
  explicit LayoutSets(int64_t block) : block(block) {}

  Value find(Value v) {
    auto it = parent.try_emplace(v, v).first;
    if (it->second == v)
      return v;
    Value root = find(it->second);
    parent[v] = root;
    return root;
  }
  void tie(Value a, Value b) {
    Value ra = find(a), rb = find(b);
    if (ra == rb)
      return;
    parent[rb] = ra;
    if (plain.erase(rb))
      plain.insert(ra);
    if (touchedByLibrary.erase(rb))
      touchedByLibrary.insert(ra);
  }
  void keepPlain(Value v) { plain.insert(find(v)); }
  /// A library kernel takes `v` in whichever layout the set gets.
  void libraryUse(Value v) {
    if (!blockable(v))
      keepPlain(v);
    touchedByLibrary.insert(find(v));
  }
  void elementwiseUse(Value v) {
    if (!blockable(v))
      keepPlain(v);
  }

  /// The block of `v`'s set: `block` if the set is free and a library
  /// kernel touches it, else 0.
  int64_t blockOf(Value v) {
    Value root = find(v);
    return !plain.contains(root) && touchedByLibrary.contains(root) ? block : 0;
  }

private:
  /// A 4-D f32 buffer whose channels fill whole blocks.
  bool blockable(Value v) const {
    auto type = dyn_cast<exec::BufferType>(v.getType());
    return type && type.getShape().size() == 4 &&
           type.getElementType().isF32() && type.getShape()[1] % block == 0;
  }

  int64_t block;
  DenseMap<Value, Value> parent;
  DenseSet<Value> plain, touchedByLibrary;
};

struct AssignCpuLayouts : dlc::impl::AssignCpuLayoutsBase<AssignCpuLayouts> {
  using AssignCpuLayoutsBase::AssignCpuLayoutsBase;

  void runOnOperation() override {
    int64_t chosen = block >= 0 ? block : rt::preferredChannelBlock();
    if (chosen != 0 && chosen != 8 && chosen != 16) {
      getOperation().emitError("dlc-assign-cpu-layouts: block ")
          << chosen << " is none of 0, 8, 16";
      return signalPassFailure();
    }
    if (chosen == 0)
      return;
    LayoutSets sets(chosen);
    DenseMap<Operation *, SmallVector<Slot>> slots;

    getOperation().walk([&](Operation *op) {
      auto kernel = dyn_cast<exec::KernelOp>(op);
      // A constant fill is the same in every layout.
      if (kernel && kernel.getCallee() == "fill")
        return;
      std::optional<SmallVector<Slot>> kernelSlots;
      if (kernel)
        kernelSlots = slotsOf(kernel);
      // Every buffer an operation touches outside a slot stays NCHW: scratch
      // is raw bytes, and the rest is read in NCHW.
      DenseSet<Value> inSlots;
      if (kernelSlots)
        for (const Slot &slot : *kernelSlots)
          inSlots.insert(slot.buffers.begin(), slot.buffers.end());
      for (Value operand : op->getOperands())
        if (isa<exec::BufferType>(operand.getType()) &&
            !inSlots.contains(operand) &&
            !(kernel && llvm::is_contained(kernel.getScratch(), operand)))
          sets.keepPlain(operand);
      // Buffers that are not the step's own allocations stay NCHW:
      // arguments, globals, views.
      for (Value result : op->getResults())
        if (isa<exec::BufferType>(result.getType()) && !isa<exec::AllocOp>(op))
          sets.keepPlain(result);
      for (Region &region : op->getRegions())
        for (Block &block : region)
          for (BlockArgument argument : block.getArguments())
            if (isa<exec::BufferType>(argument.getType()))
              sets.keepPlain(argument);
      if (!kernelSlots)
        return;
      for (const Slot &slot : *kernelSlots) {
        for (Value buffer : slot.buffers) {
          if (slot.field == Field::None)
            sets.elementwiseUse(buffer);
          else
            sets.libraryUse(buffer);
          sets.tie(slot.buffers.front(), buffer);
        }
      }
      // Elementwise kernels have no geometry to write into.
      if (llvm::any_of(*kernelSlots, [](const Slot &slot) {
            return slot.field != Field::None;
          }))
        slots[op] = std::move(*kernelSlots);
    });

    for (auto &[op, kernelSlots] : slots)
      writeLayouts(cast<exec::KernelOp>(op), kernelSlots, sets);
  }

  /// Writes the blocks of `kernel`'s slots into its geometry.
  void writeLayouts(exec::KernelOp kernel, ArrayRef<Slot> kernelSlots,
                    LayoutSets &sets) {
    int64_t input = 0, output = 0, norm = 0;
    for (const Slot &slot : kernelSlots) {
      int64_t b = sets.blockOf(slot.buffers.front());
      if (slot.field == Field::Input)
        input = b;
      else if (slot.field == Field::Output)
        output = b;
      else if (slot.field == Field::Norm)
        norm = b;
    }
    // Nothing blocked: the lowering's geometry (NCHW) stays as written.
    if (input == 0 && output == 0 && norm == 0)
      return;
    SmallVector<Attribute> args = kernel.getCallArguments();
    MLIRContext *ctx = kernel.getContext();
    if (auto g = cpu::readConvGeometry(args)) {
      g->inputBlock = input;
      g->outputBlock = output;
      args.front() = cpu::geometryAttr(ctx, *g);
    } else if (auto g = cpu::readPoolGeometry(args)) {
      g->inputBlock = input;
      g->outputBlock = output;
      args.front() = cpu::geometryAttr(ctx, *g);
    } else if (auto g = cpu::readBatchNormGeometry(args)) {
      g->block = norm;
      args.front() = cpu::geometryAttr(ctx, *g);
    } else {
      return;
    }
    kernel.setArgsAttr(ArrayAttr::get(ctx, args));
  }
};

} // namespace
