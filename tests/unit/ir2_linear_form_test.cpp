// Linear-form ranges of sums in IR v2 range analysis (passes/ir2_linear_form.h): exact where the same input
// reaches an add along several paths, never wider than the interval rule, registers looked through.
#include <gtest/gtest.h>

#include "ir2/text.h"
#include "passes/ir2_passes.h"

namespace hw::passes::ir2 {
namespace {

hw::ir2::Graph Ranged(const std::string& text) {
  hw::ir2::Graph g = hw::ir2::Parse(text, "t.ir");
  MakePass("range-analysis", {1})->Run(g);
  return g;
}

TEST(Ir2LinearForm, SharedInputsCancelOrCombine) {
  const hw::ir2::Graph g = Ranged(R"(graph lf streams=1
%0 = input x s8
%1 = input y u4
%2 = add %0<<2, -%0
%3 = add %0, %1
%4 = add %3, -%0
%5 = add %2, %4, %0<<1
%6 = reg %3
%7 = add %6, -%0
%8 = output a, %5
%9 = output b, %7
)");
  EXPECT_EQ(g.nodes[2].range[0], (hw::ir2::Range{-384, 381}));  // 3x, not [-639, 636]
  EXPECT_EQ(g.nodes[4].range[0], (hw::ir2::Range{0, 15}));      // (x + y) - x = y
  EXPECT_EQ(g.nodes[5].range[0], (hw::ir2::Range{-640, 650}));   // 5x + y
  EXPECT_EQ(g.nodes[7].range[0], (hw::ir2::Range{0, 15}));      // through a register
}

TEST(Ir2LinearForm, ConstantsFoldIntoTheForm) {
  const hw::ir2::Graph g = Ranged(R"(graph lf streams=1
%0 = input x u8
%1 = const 100
%2 = add %0, %1
%3 = add %2, -%0<<1
%4 = output a, %3
)");
  EXPECT_EQ(g.nodes[3].range[0], (hw::ir2::Range{100 - 255, 100}));  // 100 - x
}

}  // namespace
}  // namespace hw::passes::ir2
