//===- BufferLivenessTest.cpp - live ranges and the peak of exec buffers --===//
//
// Intervals and peaks computed by hand for small steps: views share their
// source's range, a collective keeps its buffer live to the wait, globals
// take no range, and the peak is the largest total live at one operation.
//
//===----------------------------------------------------------------------===//

#include "dlc/Analysis/BufferLiveness.h"
#include "dlc/Dialect/Exec/ExecOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {
struct Parsed {
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  Block &body() {
    return module->lookupSymbol<func::FuncOp>("step").front();
  }
};

std::unique_ptr<Parsed> parse(const char *source) {
  auto parsed = std::make_unique<Parsed>();
  parsed->context.loadDialect<dlc::exec::ExecDialect, func::FuncDialect>();
  parsed->module = parseSourceString<ModuleOp>(source, &parsed->context);
  return parsed;
}

TEST(BufferLiveness, ViewsCollectivesAndGlobals) {
  auto parsed = parse(R"mlir(
    exec.global @w : !exec.buffer<1024xf32>
    func.func @step(%x: !exec.buffer<16xf32>) {
      %w = exec.global_ref @w : !exec.buffer<1024xf32>
      %a = exec.alloc : !exec.buffer<16xf32>
      exec.kernel "scale" ins(%x : !exec.buffer<16xf32>) outs(%a : !exec.buffer<16xf32>)
      %v = exec.view %a : !exec.buffer<16xf32> -> !exec.buffer<4x4xf32>
      %t = exec.allreduce_start %v : !exec.buffer<4x4xf32>
      %b = exec.alloc : !exec.buffer<32xf32>
      exec.kernel "fill" outs(%b : !exec.buffer<32xf32>)
      exec.wait %t
      exec.kernel "touch" ins(%w : !exec.buffer<1024xf32>)
      return
    }
  )mlir");
  ASSERT_TRUE(parsed->module);
  dlc::BufferLiveness liveness(parsed->body());
  auto intervals = liveness.getIntervals();
  // %x (the argument), %a, %b; the global takes no range.
  ASSERT_EQ(intervals.size(), 3u);
  // %x: from before the first op to the kernel that reads it (op 2).
  EXPECT_EQ(intervals[0].first, -1);
  EXPECT_EQ(intervals[0].last, 2);
  EXPECT_EQ(intervals[0].sizeInBytes, 64);
  // %a: allocated at op 1 but empty until its kernel writes it (op 2),
  // used through its view by the collective until the wait (op 7).
  EXPECT_EQ(intervals[1].first, 2);
  EXPECT_EQ(intervals[1].last, 7);
  // %b: from its kernel at op 6 (not its alloc at op 5) to the same.
  EXPECT_EQ(intervals[2].first, 6);
  EXPECT_EQ(intervals[2].last, 6);
  // The view's bytes are %a's.
  auto view = *parsed->body().getOps<dlc::exec::ViewOp>().begin();
  EXPECT_EQ(dlc::exec::storageOf(view.getResult()), intervals[1].root);
  // At op 2, %x and %a (128 bytes); at 6, %a and %b (192).
  EXPECT_EQ(liveness.getPeakBytes(), 192);
}

TEST(BufferLiveness, ReturnedBufferLivesToTheEnd) {
  auto parsed = parse(R"mlir(
    func.func @step() -> !exec.buffer<8xf32> {
      %a = exec.alloc : !exec.buffer<8xf32>
      exec.kernel "fill" outs(%a : !exec.buffer<8xf32>)
      %b = exec.alloc : !exec.buffer<100xf32>
      exec.kernel "fill" outs(%b : !exec.buffer<100xf32>)
      return %a : !exec.buffer<8xf32>
    }
  )mlir");
  ASSERT_TRUE(parsed->module);
  dlc::BufferLiveness liveness(parsed->body());
  auto intervals = liveness.getIntervals();
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_EQ(intervals[0].last, 4);
  EXPECT_EQ(liveness.getPeakBytes(), 32 + 400);
}
} // namespace
