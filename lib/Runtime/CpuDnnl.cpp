//===- CpuDnnl.cpp - CPU backend: running oneDNN primitives ---------------===//

#include "CpuDnnl.h"

#include <cassert>
#include <cstdlib>
#include <memory>
#include <new>

namespace dlc::rt::dnnl_support {

namespace {
constexpr size_t kAlignment = 64;
/// The shared workspace's size so far.
size_t capacity = 0;
} // namespace

size_t alignUp(size_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

dnnl::engine &engine() {
  static dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

dnnl::stream &stream() {
  static dnnl::stream cpuStream(engine());
  return cpuStream;
}

dnnl::memory::desc activationDesc(const dnnl::memory::dims &dims,
                                  int64_t block) {
  using Tag = dnnl::memory::format_tag;
  Tag tag = block == 16 ? Tag::nChw16c : block == 8 ? Tag::nChw8c : Tag::nchw;
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, tag);
}

const dnnl::primitive_attr &attributes() {
  static const dnnl::primitive_attr attr = [] {
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return a;
  }();
  return attr;
}

size_t workspaceCapacity() { return capacity; }

char *workspace(size_t bytes) {
  static std::unique_ptr<char, decltype(&std::free)> buffer(nullptr,
                                                            &std::free);
  if (bytes > capacity) {
    buffer.reset(); // the old contents are dead: free before allocating
    void *memory = std::aligned_alloc(kAlignment, alignUp(bytes));
    if (!memory)
      throw std::bad_alloc();
    buffer.reset(static_cast<char *>(memory));
    capacity = alignUp(bytes);
  }
  return buffer.get();
}

Operand::Operand(int argument, bool isOutput, const dnnl::memory::desc &inArena,
                 const dnnl::memory::desc &chosen)
    : argument(argument), isOutput(isOutput), inArena(inArena) {
  if (chosen == inArena)
    return;
  this->chosen = dnnl::memory(chosen, engine(), DNNL_MEMORY_NONE);
}

Execution::Execution(const dnnl::primitive_desc &descriptor)
    : descriptor(descriptor) {
  dnnl::memory::desc scratchpad = descriptor.scratchpad_desc();
  if (scratchpad.get_size() == 0)
    return;
  dnnl::memory memory(scratchpad, engine(), DNNL_MEMORY_NONE);
  transient.emplace_back(reserve(sharedBytes, scratchpad.get_size()), memory);
  fixed.emplace(DNNL_ARG_SCRATCHPAD, memory);
}

size_t Execution::reserve(size_t &area, size_t size) {
  size_t offset = area;
  area += alignUp(size);
  return offset;
}

void Execution::addOperand(int argument, bool isOutput,
                           const dnnl::memory::desc &inArena,
                           const dnnl::memory::desc &chosen) {
  Operand &operand = operands.emplace_back(argument, isOutput, inArena, chosen);
  if (operand.needsReorder())
    operand.offset = reserve(copyBytes, chosen.get_size());
}

void Execution::addDiscarded(int argument, const dnnl::memory::desc &desc) {
  dnnl::memory memory(desc, engine(), DNNL_MEMORY_NONE);
  transient.emplace_back(reserve(sharedBytes, desc.get_size()), memory);
  fixed.emplace(argument, memory);
}

/// The primitive and its reorders, generated on the first run.
void Execution::create() {
  if (primitive)
    return;
  primitive = dnnl::primitive(descriptor);
  // Layout reorders of f32 need no scratchpad; oneDNN keeps theirs.
  for (Operand &operand : operands) {
    if (!operand.needsReorder())
      continue;
    const dnnl::memory::desc &chosen = operand.chosen.get_desc();
    operand.reorder = operand.isOutput
                          ? dnnl::reorder(dnnl::reorder::primitive_desc(
                                engine(), chosen, engine(), operand.inArena))
                          : dnnl::reorder(dnnl::reorder::primitive_desc(
                                engine(), operand.inArena, engine(), chosen));
  }
}

void Execution::run(const std::vector<const void *> &pointers, char *scratch,
                    int64_t capacity) {
  assert(pointers.size() == operands.size() && "one pointer per operand");
  create();
  size_t planned = scratch ? static_cast<size_t>(capacity) : 0;
  char *copies, *shared;
  if (workspaceBytes() <= planned) {
    copies = scratch;
    shared = scratch + copyBytes;
  } else if (copyBytes <= planned) {
    copies = scratch;
    shared = workspace(sharedBytes);
  } else {
    copies = workspace(workspaceBytes());
    shared = copies + copyBytes;
  }
  std::unordered_map<int, dnnl::memory> arguments = fixed;
  // The scratchpad and discarded results (in `fixed` too).
  for (auto &[offset, memory] : transient)
    memory.set_data_handle(shared + offset);
  std::vector<std::pair<Operand *, dnnl::memory>> results;
  for (size_t i = 0; i < operands.size(); ++i) {
    Operand &operand = operands[i];
    dnnl::memory arena(operand.inArena, engine(),
                       const_cast<void *>(pointers[i]));
    if (!operand.needsReorder()) {
      arguments.emplace(operand.argument, arena);
      continue;
    }
    operand.chosen.set_data_handle(copies + operand.offset);
    if (operand.isOutput)
      results.emplace_back(&operand, arena);
    else
      operand.reorder.execute(stream(), arena, operand.chosen);
    arguments.emplace(operand.argument, operand.chosen);
  }
  primitive.execute(stream(), arguments);
  for (auto &[operand, arena] : results)
    operand->reorder.execute(stream(), operand->chosen, arena);
  stream().wait();
}

} // namespace dlc::rt::dnnl_support
