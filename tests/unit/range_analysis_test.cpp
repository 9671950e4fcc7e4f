#include "passes/range_analysis.h"

#include <gtest/gtest.h>

#include "ir/datapath.h"

namespace hw::passes {
namespace {

ir::Module TwoInputs(bool is_signed, int bits) {
  ir::Module m;
  m.name = "t";
  m.num_inputs = 2;
  m.input_type = model::IntType{is_signed, bits};
  for (int i = 0; i < 2; ++i) {
    ir::Node n;
    n.kind = ir::NodeKind::kInput;
    n.input_index = i;
    m.AddNode(n);
  }
  return m;
}

int Add(ir::Module& m, ir::Operand a, ir::Operand b) {
  ir::Node n;
  n.kind = ir::NodeKind::kAdd;
  n.ops = {a, b};
  return m.AddNode(n);
}

TEST(WidthOf, UnsignedAndSigned) {
  bool s = false;
  EXPECT_EQ(ir::WidthOf(0, 0, &s), 1);
  EXPECT_FALSE(s);
  EXPECT_EQ(ir::WidthOf(0, 255, &s), 8);
  EXPECT_EQ(ir::WidthOf(0, 256, &s), 9);
  EXPECT_EQ(ir::WidthOf(-1, 0, &s), 1);
  EXPECT_TRUE(s);
  EXPECT_EQ(ir::WidthOf(-128, 127, &s), 8);
  EXPECT_EQ(ir::WidthOf(-129, 127, &s), 9);
  EXPECT_EQ(ir::WidthOf(-128, 128, &s), 9);
  EXPECT_EQ(ir::WidthOf(-5, -3, &s), 4);
  EXPECT_EQ(ir::WidthOf(INT64_MIN, INT64_MAX, &s), 64);
}

TEST(RangeAnalysis, LinearFormsAreExactWhereIntervalsAreNot) {
  ir::Module m = TwoInputs(false, 8);
  const int seven = Add(m, {0, 3, false}, {0, 0, true});  // (x0 << 3) - x0 = 7 x0
  const int back = Add(m, {seven, 0, false}, {0, 3, true});  // 7 x0 - 8 x0 = -x0
  m.outputs = {back};
  RangeAnalysisPass p;
  EXPECT_TRUE(p.Run(m));
  EXPECT_EQ(m.nodes[seven].lo, 0);
  EXPECT_EQ(m.nodes[seven].hi, 1785);
  EXPECT_EQ(m.nodes[seven].width, 11);
  EXPECT_FALSE(m.nodes[seven].is_signed);
  EXPECT_EQ(m.nodes[back].lo, -255);
  EXPECT_EQ(m.nodes[back].hi, 0);
  EXPECT_EQ(m.nodes[back].width, 9);
  EXPECT_EQ(ir::Verify(m, true), "");
  EXPECT_FALSE(p.Run(m)) << "second run must report no change";
}

TEST(RangeAnalysis, SignedInputsAndRequant) {
  ir::Module m = TwoInputs(true, 4);  // [-8, 7]
  const int sum = Add(m, {0, 0, false}, {1, 1, true});  // x0 - 2 x1 in [-22, 23]
  ir::Node rq;
  rq.kind = ir::NodeKind::kRequant;
  rq.ops = {{sum, 0, false}};
  rq.rq = {2, 2, -3, 3};  // clamp((v + 2) >> 2, -3, 3)
  const int out = m.AddNode(rq);
  m.outputs = {out};
  RangeAnalysisPass().Run(m);
  EXPECT_EQ(m.nodes[sum].lo, -22);
  EXPECT_EQ(m.nodes[sum].hi, 23);
  EXPECT_EQ(m.nodes[out].lo, -3);  // (-20 >> 2) = -5 -> clamped
  EXPECT_EQ(m.nodes[out].hi, 3);
  EXPECT_EQ(m.nodes[out].width, 3);
}

TEST(RequantRange, MonotoneEnds) {
  int64_t lo = 0, hi = 0;
  RequantRange({0, 0, -100, 100}, -7, 9, &lo, &hi);
  EXPECT_EQ(lo, -7);
  EXPECT_EQ(hi, 9);
  RequantRange({1, 1, 0, 255}, -3, 3, &lo, &hi);  // (-3+1)>>1 = -1 -> 0; (3+1)>>1 = 2
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 2);
}

}  // namespace
}  // namespace hw::passes
