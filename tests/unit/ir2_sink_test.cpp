// The sink pass (passes/ir2_sink.h): moves pure ops later when that carries fewer register bits, keeps
// narrowing ops early, moves state reads together with their writes within the loop bound, and reports
// "unchanged" truthfully.
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "ir2/interpreter.h"
#include "ir2/text.h"
#include "ir2/verify.h"
#include "passes/ir2_passes.h"
#include "passes/ir2_sink.h"

namespace hw::passes::ir2 {
namespace {

using hw::ir2::Graph;
using hw::ir2::Parse;

Graph Scheduled(const std::string& text, int k = 1) {
  Graph g = Parse(text, "t.ir");
  for (const char* p : {"range-analysis", "schedule"}) MakePass(p, {k})->Run(g);
  return g;
}

// y passes through four adders before it meets w = (x << 8) + x: w is 17 bits wide, x only 8.
const char* kWiden = R"(graph widen streams=1
%0 = input x s8
%1 = input y s8
%2 = add %0<<8, %0
%3 = add %1, %1<<1
%4 = add %3, %1<<2
%5 = add %4, %1<<3
%6 = add %5, %1<<4
%7 = add %6, %2
%8 = output z, %7
)";

TEST(Ir2Sink, WideResultMovesDownToItsReader) {
  Graph g = Scheduled(kWiden);
  ASSERT_EQ(g.schedule[2].stage, 1);
  ASSERT_EQ(g.schedule[7].stage, 5);
  const int64_t before = DelayLineBits(g);
  // x to w (1 stage), y to its last reader (4), w to its reader (4), each of the other adders to the next (1).
  int64_t chain = 0;
  for (int i = 3; i <= 7; ++i) chain += hw::ir2::TypeOf(g.nodes[i].range[0]).width;
  EXPECT_EQ(before, 8 * 1 + 8 * 4 + 17 * 4 + chain);
  EXPECT_TRUE(MakeSinkPass({1})->Run(g));
  // w starts the stage before its reader (both are one adder level; K = 1 puts one level per stage).
  EXPECT_EQ(g.schedule[2].stage, 4);
  EXPECT_EQ(g.schedule[2].level, 4);
  EXPECT_EQ(before - DelayLineBits(g), 17 * 3 - 8 * 3);
  EXPECT_TRUE(hw::ir2::Verify(g, hw::ir2::VerifyLevel::kRanges).empty());
}

TEST(Ir2Sink, NarrowingOpStaysAndThePassSaysUnchanged) {
  std::string text = kWiden;
  text.replace(text.find("%2 = add %0<<8, %0"), 18, "%2 = requant %0 add=0 shift=4 clamp=[-8, 7]");
  Graph g = Scheduled(text);
  const std::string before = hw::ir2::Dump(g, true);
  EXPECT_FALSE(MakeSinkPass({1})->Run(g));
  EXPECT_EQ(hw::ir2::Dump(g, true), before);
}

TEST(Ir2Sink, ReadsMoveWithTheirWritesWithinTheLoopBound) {
  const std::string text = ReadFileOrThrow(std::string(HW_TEST_DATA) + "/ir2/kvcache.ir", "ir");
  Graph g = Scheduled(text);
  const int64_t before = DelayLineBits(g);
  EXPECT_TRUE(MakeSinkPass({1})->Run(g));
  EXPECT_LT(DelayLineBits(g), before);
  // The cached values are read and selected just before the multipliers that use them; their writes follow the
  // reads so that a token never sees its own write.
  EXPECT_EQ(g.schedule[11].stage, g.schedule[21].stage - 1);
  EXPECT_EQ(g.schedule[10].stage, g.schedule[11].stage - 1);
  EXPECT_GE(g.schedule[14].stage, g.schedule[10].stage);
  EXPECT_TRUE(hw::ir2::Verify(g, hw::ir2::VerifyLevel::kRanges).empty());
  for (const auto& l : hw::ir2::FeedbackLoops(g)) EXPECT_LE(l.clocks(), g.streams) << l.symbol;

}

TEST(Ir2Sink, TokenLevelMeaningIsUnchanged) {
  // Stages do not change what a token computes; the Verilator co-simulation of kvcache.ir (cosim label) checks
  // the registers. Here: the lowered graph with and without the pass gives the same outputs.
  const std::string text = ReadFileOrThrow(std::string(HW_TEST_DATA) + "/ir2/kvcache.ir", "ir");
  Graph a = Parse(text, "a"), b = Parse(text, "b");
  PassManager({"range-analysis", "schedule", "materialize-registers"}, {1}).Run(a);
  PassManager(DefaultPipeline(), {1}).Run(b);
  hw::ir2::Interpreter ia(a), ib(b);
  for (int t = 0; t < 200; ++t) {
    const std::vector<int64_t> in = {(t * 37) % 256 - 128, (t * 11) % 256 - 128};
    EXPECT_EQ(ia.Step(in, true), ib.Step(in, true)) << t;
  }
}

}  // namespace
}  // namespace hw::passes::ir2
