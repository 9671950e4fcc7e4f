// The offset-encode pass (passes/ir2_offset_encode.h): sums held as p * v + O in offset binary compute the same
// outputs, every inverted operand is a bitwise NOT, the ranges it sets are those range analysis finds again, and
// on the Fashion model the registers and adders get narrower.
#include <gtest/gtest.h>

#include "driver/generate.h"
#include "ir2/interpreter.h"
#include "ir2/op_table.h"
#include "ir2/text.h"
#include "ir2/verify.h"
#include "model/model_io.h"
#include "passes/ir2_passes.h"

namespace hw {
namespace {

using hw::ir2::Graph;
using hw::ir2::Node;
using hw::ir2::Op;

// a - b - 2c is [-21, 7] in two's complement (6 bits with the sign); in offset binary a + ~b + ~c<<1 is [0, 28]
// (5 bits). %7 is the child whose constant takes out the root's offset; %11 is a requant with a rounding constant
// of its own, which takes %4's offset itself.
constexpr const char* kGraph = R"(graph offsets streams=1
%0 = input a u3
%1 = input b u3
%2 = input c u3
%3 = add %0, -%1
%4 = add %3, -%2<<1
%5 = add %4<<1, %0
%6 = const 7
%7 = add %4, %6
%8 = add %5, %7
%9 = requant %8 add=0 shift=1 clamp=[0, 7]
%10 = output y, %9
%11 = requant %4 add=3 shift=0 clamp=[-8, 7]
%12 = output z, %11
)";

Graph RunPasses(const std::vector<std::string>& passes, bool offset_binary) {
  Graph g = hw::ir2::Parse(kGraph, "offsets.ir");
  passes::ir2::PassOptions o;
  o.offset_binary = offset_binary;
  passes::ir2::PassManager(passes, o).Run(g);
  return g;
}

TEST(OffsetEncode, SameOutputsNarrowerSumsAndConsistentRanges) {
  const Graph plain = RunPasses({"range-analysis"}, false);
  const Graph enc = RunPasses({"range-analysis", "offset-encode"}, true);
  ASSERT_TRUE(hw::ir2::Verify(enc, hw::ir2::VerifyLevel::kRanges).empty());
  int nots = 0, widest_plain = 0, widest_enc = 0;
  for (const Node& n : enc.nodes) {
    if (n.op == Op::kXor) {
      EXPECT_TRUE(hw::ir2::IsBitwiseNot(enc, n));
      EXPECT_EQ(hw::ir2::Cost(enc, n), 0);
      ++nots;
    }
    if (n.op == Op::kAdd) widest_enc = std::max(widest_enc, hw::ir2::TypeOf(n.range[0]).width);
  }
  for (const Node& n : plain.nodes)
    if (n.op == Op::kAdd) widest_plain = std::max(widest_plain, hw::ir2::TypeOf(n.range[0]).width);
  EXPECT_GT(nots, 0);
  EXPECT_EQ(plain.nodes[4].range[0], (hw::ir2::Range{-21, 7}));
  // a - b - 2c is held as an unsigned 5-bit value
  bool found = false;
  for (const Node& n : enc.nodes) found |= n.op == Op::kAdd && n.range[0].lo >= 0 && n.range[0].hi - n.range[0].lo == 28;
  EXPECT_TRUE(found) << hw::ir2::Dump(enc, true);
  EXPECT_LE(widest_enc, widest_plain);
  // Range analysis (linear forms see through the NOTs) finds the ranges the pass set.
  Graph again = enc;
  passes::ir2::PassManager({"range-analysis"}, {}).Run(again);
  for (size_t i = 0; i < enc.nodes.size(); ++i) EXPECT_EQ(again.nodes[i].range, enc.nodes[i].range) << "%" << i;
  // Every input: the same outputs, scheduled and registered at K = 1 and 2.
  for (int k : {1, 2}) {
    Graph a = hw::ir2::Parse(kGraph, "offsets.ir"), b = a;
    passes::ir2::PassOptions po;
    po.adders_per_stage = k;
    po.offset_binary = false;
    passes::ir2::PassManager(passes::ir2::DefaultPipeline(), po).Run(a);
    po.offset_binary = true;
    passes::ir2::PassManager(passes::ir2::DefaultPipeline(), po).Run(b);
    hw::ir2::Interpreter ia(a), ib(b);
    for (int64_t x = 0; x < 8 * 8 * 8; ++x) {
      const std::vector<int64_t> in = {x % 8, x / 8 % 8, x / 64};
      const std::vector<int64_t> ya = ia.Step(in), yb = ib.Step(in);
      const int64_t s = in[0] - in[1] - 2 * in[2];
      EXPECT_EQ(ya[1], std::clamp<int64_t>(s + 3, -8, 7));
      EXPECT_EQ(ya, yb) << "inputs " << in[0] << " " << in[1] << " " << in[2] << " K=" << k;
    }
  }
}

// A root with no constant to take its offset out (an output reads it) is left exact, with everything it reads.
TEST(OffsetEncode, LeavesSumsExactWhereNoConstantCanAbsorbTheOffset) {
  Graph g = hw::ir2::Parse(R"(graph exact streams=1
%0 = input a u3
%1 = input b u3
%2 = add %0, -%1
%3 = add %2, -%0<<2
%4 = output y, %3
)", "exact.ir");
  const Graph before = [&] {
    Graph h = g;
    passes::ir2::PassManager({"range-analysis"}, {}).Run(h);
    return h;
  }();
  passes::ir2::PassManager pm({"range-analysis", "offset-encode"}, {});
  pm.Run(g);
  EXPECT_EQ(g.nodes, before.nodes);
  EXPECT_FALSE(pm.records().back().changed);
}

// The Fashion model at K = 2: offset binary saves register bits (19,199 -> 18,907 when measured) and adder bits,
// with the same adders and latency.
TEST(OffsetEncode, NarrowsTheFashionModel) {
  const model::Model m = model::LoadModel(std::string(HW_SOURCE_DIR) + "/weights/fashion_mlp/model.json");
  driver::GenerateOptions o;
  o.adders_per_stage = 2;
  o.threads = 1;
  o.offset_binary = false;
  const driver::CompiledDesign plain = driver::Compile(m, o);
  o.offset_binary = true;
  const driver::CompiledDesign enc = driver::Compile(m, o);
  EXPECT_LT(enc.stats.total.register_bits, plain.stats.total.register_bits * 0.99);
  EXPECT_LT(enc.stats.total.adder_bits, plain.stats.total.adder_bits);
  EXPECT_EQ(enc.stats.total.adders, plain.stats.total.adders);
  EXPECT_EQ(enc.stats.total.latency, plain.stats.total.latency);
}

}  // namespace
}  // namespace hw
