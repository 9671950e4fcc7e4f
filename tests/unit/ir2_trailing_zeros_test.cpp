// The trailing-zeros pass (passes/ir2_trailing_zeros.h): a requant whose value always ends in zero bits is
// computed without them and its readers shift it back, so the register after it is narrower; outputs unchanged.
#include <gtest/gtest.h>

#include "ir2/interpreter.h"
#include "ir2/op_table.h"
#include "ir2/text.h"
#include "passes/ir2_passes.h"

namespace hw {
namespace {

using hw::ir2::Graph;
using hw::ir2::Node;
using hw::ir2::Op;

// y = 160a + 96 = (5a + 3) * 32 for a 4-bit a: the requant's clamp never triggers, so y ends in 5 zero bits.
constexpr const char* kGraph = R"(graph zeros streams=1
%0 = input a u4
%1 = const 96
%2 = add %0<<5, %0<<7
%3 = add %2, %1
%4 = requant %3 add=0 shift=0 clamp=[-1000000, 1000000]
%5 = output y, %4
)";

long RegisterBits(const Graph& g) {
  long bits = 0;
  for (const Node& n : g.nodes)
    if (n.op == Op::kReg) bits += hw::ir2::TypeOf(n.range[0]).width;
  return bits;
}

TEST(TrailingZeros, TheRegisterHoldsTheValueWithoutItsZeroBits) {
  Graph g = hw::ir2::Parse(kGraph, "zeros.ir"), plain = g;
  passes::ir2::PassManager pm({"range-analysis", "trailing-zeros"}, {});
  pm.Run(g);
  ASSERT_TRUE(pm.records().back().changed);
  EXPECT_EQ(g.nodes[4].shift, 5);
  EXPECT_EQ(g.nodes[4].range[0], (hw::ir2::Range{3, 78}));
  EXPECT_EQ(hw::ir2::Cost(g, g.nodes[4]), 0);  // a shift and a clamp that never triggers: wiring
  EXPECT_EQ(g.nodes[5].operands[0].shift, 5);
  EXPECT_EQ(hw::ir2::OperandRange(g, g.nodes[5].operands[0]), (hw::ir2::Range{96, 2496}));
  for (int k : {1, 2}) {
    Graph a = plain, b = plain;
    passes::ir2::PassOptions po;
    po.adders_per_stage = k;
    std::vector<std::string> without = passes::ir2::DefaultPipeline();
    without.erase(std::find(without.begin(), without.end(), "trailing-zeros"));
    passes::ir2::PassManager(without, po).Run(a);
    passes::ir2::PassManager(passes::ir2::DefaultPipeline(), po).Run(b);
    EXPECT_EQ(RegisterBits(a) - RegisterBits(b), 5) << "K=" << k << "\n" << hw::ir2::Dump(b, true);
    hw::ir2::Interpreter ia(a), ib(b);
    for (int64_t x = 0; x < 16; ++x) {
      EXPECT_EQ(ia.Step({x})[0], 160 * x + 96);
      EXPECT_EQ(ib.Step({x})[0], 160 * x + 96) << "a = " << x << " K=" << k;
    }
  }
}

// Left alone: a clamp that can trigger (the value is not the exact sum), a negated operand, a reader that takes no
// shifted operand (here a compare-select).
TEST(TrailingZeros, LeavesClampsNegationsAndOtherReadersAlone) {
  for (const char* text : {R"(graph clamped streams=1
%0 = input a u4
%1 = add %0<<5, %0<<7
%2 = requant %1 add=0 shift=0 clamp=[0, 1000]
%3 = output y, %2
)",
                           R"(graph negated streams=1
%0 = input a u4
%1 = add %0<<5, %0<<7
%2 = requant -%1 add=0 shift=0 clamp=[-1000000, 1000000]
%3 = output y, %2
)",
                           R"(graph cmpsel streams=1
%0 = input a u4
%1 = input b u4
%2 = const 0
%3 = const 1
%4 = add %0<<5, %0<<7
%5 = requant %4 add=0 shift=0 clamp=[-1000000, 1000000]
%6 = cmpsel %5, %2, %1, %3
%7 = output y, %6.1
)"}) {
    Graph g = hw::ir2::Parse(text, "alone.ir");
    passes::ir2::PassManager pm({"range-analysis", "trailing-zeros"}, {});
    pm.Run(g);
    EXPECT_FALSE(pm.records().back().changed) << g.name;
  }
}

}  // namespace
}  // namespace hw
