//===- CpuDnnl.h - CPU backend: running oneDNN primitives -------*- C++ -*-===//
//
// The arena holds every tensor in the layout the compiler planned: plain
// (NCHW, OIHW), or, for activations between oneDNN's own kernels, the
// blocked nChw8c / nChw16c its fastest kernels want (dlc-assign-cpu-layouts
// chooses; the geometry structs carry the choice). A convolution is created
// with layout `any`, and each operand whose chosen layout differs from the
// arena's goes through a reorder into (or out of) a copy in that layout:
// always correct, and free where the compiler guessed what oneDNN picks.
//
// Everything else a call needs besides its operands -- the layout copies,
// oneDNN's scratchpad (primitives are created with scratchpad_mode::user)
// and results nobody reads -- goes into the scratch the compiler planned
// for the call in the arena: the compiler asks these same primitives how
// much that is (the *WorkspaceBytes functions of dlc/Runtime/Kernels.h).
// Where a call needs more than was planned (the compiling machine's CPU
// picked other kernels), it falls back to one workspace that every
// primitive shares: kernels run one at a time, so it is as large as the
// largest single call needs. It grows while the first step meets each
// geometry and is never allocated again after; the trainer reports its
// size as library_workspace_bytes.
//
// Primitives are created (their kernels generated) on their first run, so
// asking for the sizes costs no code generation.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_CPUDNNL_H
#define DLC_LIB_RUNTIME_CPUDNNL_H

#include <oneapi/dnnl/dnnl.hpp>

#include <unordered_map>
#include <vector>

namespace dlc::rt::dnnl_support {

dnnl::engine &engine();
dnnl::stream &stream();

/// The arena's layout of an N x C x H x W activation whose channels lie in
/// blocks of `block` (0: plain NCHW; 8, 16: nChw8c, nChw16c).
dnnl::memory::desc activationDesc(const dnnl::memory::dims &dims,
                                  int64_t block);

/// Attributes every primitive is created with: its scratchpad is ours.
const dnnl::primitive_attr &attributes();

/// `bytes` rounded up to the 64 bytes every workspace part is aligned to.
size_t alignUp(size_t bytes);

/// The shared workspace, at least `bytes` large (64-byte aligned). Its
/// contents do not survive the next call of a kernel.
char *workspace(size_t bytes);
/// Its size so far.
size_t workspaceCapacity();

/// One operand of a primitive: where it lives in the arena (in the arena's
/// layout) and the layout the primitive asked for.
struct Operand {
  int argument; // DNNL_ARG_*
  bool isOutput;
  dnnl::memory::desc inArena;
  /// The copy in the chosen layout, if it differs: `offset` bytes into
  /// the run's layout copies.
  dnnl::memory chosen;
  size_t offset = 0;
  /// The reorder between the two layouts (arena to chosen for an input),
  /// created on the first run.
  dnnl::reorder reorder;

  Operand(int argument, bool isOutput, const dnnl::memory::desc &inArena,
          const dnnl::memory::desc &chosen);
  bool needsReorder() const { return static_cast<bool>(chosen); }
};

/// A primitive with its operands, run on arena pointers given in the order
/// the operands were added.
class Execution {
public:
  Execution() = default;
  explicit Execution(const dnnl::primitive_desc &descriptor);

  void addInput(int argument, const dnnl::memory::desc &inArena,
                const dnnl::memory::desc &chosen) {
    addOperand(argument, false, inArena, chosen);
  }
  void addOutput(int argument, const dnnl::memory::desc &inArena,
                 const dnnl::memory::desc &chosen) {
    addOperand(argument, true, inArena, chosen);
  }
  /// Operands the primitive takes in the arena's own layout.
  void addInput(int argument, const dnnl::memory::desc &inArena) {
    addInput(argument, inArena, inArena);
  }
  void addOutput(int argument, const dnnl::memory::desc &inArena) {
    addOutput(argument, inArena, inArena);
  }
  /// A result nobody reads: it lives in the workspace.
  void addDiscarded(int argument, const dnnl::memory::desc &desc);
  /// An argument bound to memory the caller places (a pooling workspace
  /// that two primitives share); it takes no pointer in run().
  void addFixed(int argument, const dnnl::memory &memory) {
    fixed.emplace(argument, memory);
  }

  /// The bytes one run needs besides its operands: the layout copies,
  /// then the scratchpad and the discarded results.
  size_t workspaceBytes() const { return copyBytes + sharedBytes; }
  /// Runs with the copies, scratchpad and discarded results in `scratch`
  /// (`capacity` bytes the compiler planned) where they fit; otherwise the
  /// copies there if they fit, and the rest in the shared workspace.
  void run(const std::vector<const void *> &pointers, char *scratch,
           int64_t capacity);
  /// Runs with everything in the shared workspace.
  void run(const std::vector<const void *> &pointers) {
    run(pointers, nullptr, 0);
  }

private:
  void addOperand(int argument, bool isOutput, const dnnl::memory::desc &plain,
                  const dnnl::memory::desc &chosen);
  /// Reserves `size` bytes of the shared part or of the layout copies;
  /// returns their offset there.
  static size_t reserve(size_t &area, size_t size);
  void create();

  dnnl::primitive_desc descriptor;
  /// Created from `descriptor` on the first run.
  dnnl::primitive primitive;
  std::vector<Operand> operands;
  std::unordered_map<int, dnnl::memory> fixed;
  /// The scratchpad and discarded results: offsets in the shared part.
  std::vector<std::pair<size_t, dnnl::memory>> transient;
  size_t sharedBytes = 0, copyBytes = 0;
};

} // namespace dlc::rt::dnnl_support

#endif // DLC_LIB_RUNTIME_CPUDNNL_H
