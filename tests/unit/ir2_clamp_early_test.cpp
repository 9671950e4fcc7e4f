// The clamp-early pass (passes/ir2_clamp_early.h): a requant's saturation applied to the value its multiply tree
// reads, bounded by bit tests, without changing any output.
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

// `g` after range-analysis and clamp-early (the pass must change it), and the saturation it put on input %0.
int SaturationOfInput(Graph& g) {
  passes::ir2::PassManager pm({"range-analysis", "clamp-early"}, {});
  pm.Run(g);
  EXPECT_TRUE(pm.records().back().changed);
  int sat = -1;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].op == Op::kRequant && g.nodes[i].operands[0].node == 0) sat = static_cast<int>(i);
  EXPECT_GE(sat, 0) << hw::ir2::Dump(g, true);
  return sat;
}

// The whole default pipeline on `plain` at K = 1 and 2 computes want(a) for every 8-bit input a.
template <typename F>
void ExpectEveryInput(const Graph& plain, F want) {
  for (int k : {1, 2}) {
    Graph b = plain;
    passes::ir2::PassOptions po;
    po.adders_per_stage = k;
    passes::ir2::PassManager(passes::ir2::DefaultPipeline(), po).Run(b);
    hw::ir2::Interpreter ib(b);
    for (int64_t x = 0; x < 256; ++x) EXPECT_EQ(ib.Step({x})[0], want(x)) << "a = " << x << " K=" << k;
  }
}

// y = clamp((7a - 1000) >> 4, 0, 15), the two window tests' neuron
int64_t WindowY(int64_t a) { return std::clamp<int64_t>((7 * a - 1000) >> 4, 0, 15); }

// y = clamp((7a + 5) >> 4, 0, 15) for an 8-bit a: every a >= 34 gives 15 (7 * 34 + 5 = 243 >> 4 = 15), so the
// multiply needs a only up to 34: a saturation to [0, 63] (6 bits instead of 8) in front of it changes nothing.
constexpr const char* kGraph = R"(graph early streams=1
%0 = input a u8
%1 = const 5
%2 = add %0<<3, -%0
%3 = add %2, %1
%4 = requant %3 add=0 shift=4 clamp=[0, 15]
%5 = output y, %4
)";

TEST(ClampEarly, SaturatesTheMultiplyInputWithoutChangingTheOutput) {
  Graph g = hw::ir2::Parse(kGraph, "early.ir"), plain = g;
  const int sat = SaturationOfInput(g);
  ASSERT_GE(sat, 0);
  EXPECT_EQ(g.nodes[sat].lo, 0);
  EXPECT_EQ(g.nodes[sat].hi, 63);
  EXPECT_EQ(g.nodes[sat].range[0], (hw::ir2::Range{0, 63}));
  EXPECT_EQ(hw::ir2::Cost(g, g.nodes[sat]), 0);  // bit tests, no adder level
  for (const Node& n : g.nodes)
    if (n.op == Op::kAdd)
      for (const hw::ir2::Use& u : n.operands) EXPECT_NE(u.node, 0) << "the multiply tree reads the saturated value";
  // every input, scheduled at K = 1 and 2, with the pass (and without it: the graph computes what we think)
  auto want = [](int64_t a) { return std::clamp<int64_t>((7 * a + 5) >> 4, 0, 15); };
  hw::ir2::Interpreter direct(plain);
  for (int64_t x = 0; x < 256; ++x) EXPECT_EQ(direct.Step({x})[0], want(x));
  ExpectEveryInput(plain, want);
}

// y = clamp((7a - 1000) >> 4, 0, 15): 0 up to a = 145, 15 from a = 178. Bounds 0 and 2^m - 1 would need all 8 bits
// of a; the window [128, 191] (6 bits, 145 and 178 share bits 6..) holds a - 128, and the tree's constant takes
// 7 * 128 back (-1000 + 896 = -104).
TEST(ClampEarly, AWindowAwayFromZeroStoresTheLowBits) {
  const char* text = R"(graph window streams=1
%0 = input a u8
%1 = const -1000
%2 = add %0<<3, -%0
%3 = add %2, %1
%4 = requant %3 add=0 shift=4 clamp=[0, 15]
%5 = output y, %4
)";
  Graph g = hw::ir2::Parse(text, "window.ir"), plain = g;
  const int sat = SaturationOfInput(g);
  ASSERT_GE(sat, 0);
  EXPECT_EQ(g.nodes[sat].add, -128);
  EXPECT_EQ(g.nodes[sat].lo, 0);
  EXPECT_EQ(g.nodes[sat].hi, 63);
  const hw::ir2::RequantClamp c = hw::ir2::ClampOf(g, g.nodes[sat]);
  EXPECT_TRUE(c.window);
  EXPECT_FALSE(c.rounding_adder);
  EXPECT_EQ(c.window_bit, 6);
  EXPECT_EQ(c.window_base, 2);
  EXPECT_EQ(hw::ir2::Cost(g, g.nodes[sat]), 0);  // no adder: a - 128 has a's low 6 bits
  bool moved = false;
  for (const Node& n : g.nodes) moved |= n.op == Op::kConst && n.value == -104;
  EXPECT_TRUE(moved) << hw::ir2::Dump(g, true);
  ExpectEveryInput(plain, WindowY);
}

// The same y, the tree reading a and its NOT (255 - a): the NOT then inverts the window's 6 bits (63 - (a - 128)),
// and the constant takes back what both leaves lose.
TEST(ClampEarly, AWindowWithTheNotOfTheValue) {
  const char* text = R"(graph window_not streams=1
%0 = input a u8
%1 = const 255
%2 = xor %0, %1
%3 = const -1255
%4 = add %0<<3, %2
%5 = add %4, %3
%6 = requant %5 add=0 shift=4 clamp=[0, 15]
%7 = output y, %6
)";
  Graph g = hw::ir2::Parse(text, "window_not.ir"), plain = g;
  const int sat = SaturationOfInput(g);
  ASSERT_GE(sat, 0);
  int inverted = -1;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (hw::ir2::IsBitwiseNot(g, g.nodes[i]) && g.nodes[i].operands[0].node == sat) inverted = static_cast<int>(i);
  ASSERT_GE(inverted, 0) << hw::ir2::Dump(g, true);
  EXPECT_EQ(g.nodes[g.nodes[inverted].operands[1].node].value, 63);
  EXPECT_TRUE(hw::ir2::ClampOf(g, g.nodes[sat]).window);
  hw::ir2::Interpreter direct(g);
  for (int64_t x = 0; x < 256; ++x) EXPECT_EQ(direct.Step({x})[0], WindowY(x)) << "a = " << x;
  ExpectEveryInput(plain, WindowY);
}

// A multiply tree that also reads another value, or a value read outside the tree, is left alone.
TEST(ClampEarly, LeavesTreesOfSeveralValuesAlone) {
  for (const char* text : {R"(graph mixed streams=1
%0 = input a u8
%1 = input b u2
%2 = add %0<<3, -%0
%3 = add %2, %1
%4 = requant %3 add=0 shift=4 clamp=[0, 15]
%5 = output y, %4
%6 = output z, %0
)",
                           // the tree's root is read outside it too (an output sees the product itself)
                           R"(graph shared streams=1
%0 = input a u8
%1 = const 5
%2 = add %0<<3, -%0
%3 = add %2, %1
%4 = requant %3 add=0 shift=4 clamp=[0, 15]
%5 = output y, %4
%6 = output p, %3
)"}) {
    Graph g = hw::ir2::Parse(text, "alone.ir");
    passes::ir2::PassManager pm({"range-analysis", "clamp-early"}, {});
    pm.Run(g);
    EXPECT_FALSE(pm.records().back().changed) << g.name;
  }
}

}  // namespace
}  // namespace hw
