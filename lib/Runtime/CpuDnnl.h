//===- CpuDnnl.h - CPU backend: running oneDNN primitives -------*- C++ -*-===//
//
// The arena holds every tensor in the plain layout the compiler planned
// (NCHW, OIHW). oneDNN's fastest convolution kernels want blocked layouts
// (nChw16c and the like), so a primitive is created with layout `any` and
// each operand whose chosen layout differs from the plain one goes through a
// reorder into (or out of) a buffer owned by the cached primitive. Reorders
// are memory-bound and cheap next to the convolution they enable.
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

/// One operand of a primitive: where it lives in the arena (plain layout)
/// and the layout the primitive asked for.
struct Operand {
  int argument; // DNNL_ARG_*
  bool isOutput;
  dnnl::memory::desc plain;
  dnnl::memory chosen;          // buffer in the chosen layout, if it differs
  dnnl::reorder toChosen, toPlain;

  Operand(int argument, bool isOutput, const dnnl::memory::desc &plain,
          const dnnl::memory::desc &chosen);
  bool needsReorder() const { return static_cast<bool>(chosen); }
};

/// A primitive with its operands, run on arena pointers given in the order
/// the operands were added.
class Execution {
public:
  Execution() = default;
  explicit Execution(dnnl::primitive primitive)
      : primitive(std::move(primitive)) {}

  void addInput(int argument, const dnnl::memory::desc &plain,
                const dnnl::memory::desc &chosen) {
    operands.emplace_back(argument, false, plain, chosen);
  }
  void addOutput(int argument, const dnnl::memory::desc &plain,
                 const dnnl::memory::desc &chosen) {
    operands.emplace_back(argument, true, plain, chosen);
  }
  /// Operands the primitive takes in the arena's own layout.
  void addInput(int argument, const dnnl::memory::desc &plain) {
    addInput(argument, plain, plain);
  }
  void addOutput(int argument, const dnnl::memory::desc &plain) {
    addOutput(argument, plain, plain);
  }
  /// An argument bound to memory outside the arena for good (a workspace
  /// or a discarded result); it takes no pointer in run().
  void addFixed(int argument, const dnnl::memory &memory) {
    fixed.emplace(argument, memory);
  }
  void run(const std::vector<const void *> &pointers);

private:
  dnnl::primitive primitive;
  std::vector<Operand> operands;
  std::unordered_map<int, dnnl::memory> fixed;
};

} // namespace dlc::rt::dnnl_support

#endif // DLC_LIB_RUNTIME_CPUDNNL_H
