//===- CpuDnnl.cpp - CPU backend: running oneDNN primitives ---------------===//

#include "CpuDnnl.h"

#include <cassert>

namespace dlc::rt::dnnl_support {

dnnl::engine &engine() {
  static dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

dnnl::stream &stream() {
  static dnnl::stream cpuStream(engine());
  return cpuStream;
}

Operand::Operand(int argument, bool isOutput, const dnnl::memory::desc &plain,
                 const dnnl::memory::desc &chosen)
    : argument(argument), isOutput(isOutput), plain(plain) {
  if (chosen == plain)
    return;
  this->chosen = dnnl::memory(chosen, engine());
  if (isOutput)
    toPlain = dnnl::reorder(
        dnnl::reorder::primitive_desc(engine(), chosen, engine(), plain));
  else
    toChosen = dnnl::reorder(
        dnnl::reorder::primitive_desc(engine(), plain, engine(), chosen));
}

void Execution::run(const std::vector<const void *> &pointers) {
  assert(pointers.size() == operands.size() && "one pointer per operand");
  std::unordered_map<int, dnnl::memory> arguments = fixed;
  std::vector<std::pair<Operand *, dnnl::memory>> results;
  for (size_t i = 0; i < operands.size(); ++i) {
    Operand &operand = operands[i];
    dnnl::memory arena(operand.plain, engine(),
                       const_cast<void *>(pointers[i]));
    if (!operand.needsReorder()) {
      arguments.emplace(operand.argument, arena);
      continue;
    }
    if (operand.isOutput)
      results.emplace_back(&operand, arena);
    else
      operand.toChosen.execute(stream(), arena, operand.chosen);
    arguments.emplace(operand.argument, operand.chosen);
  }
  primitive.execute(stream(), arguments);
  for (auto &[operand, arena] : results)
    operand->toPlain.execute(stream(), operand->chosen, arena);
  stream().wait();
}

} // namespace dlc::rt::dnnl_support
