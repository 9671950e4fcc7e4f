#include "passes/dead_node_elimination.h"

#include <gtest/gtest.h>

#include "test_modules.h"

namespace hw::passes {
namespace {

TEST(DeadNodeElimination, RemovesUnusedKeepsInputsAndOrder) {
  ir::Module m = testing_modules::Chain();
  DeadNodeEliminationPass dce;
  EXPECT_TRUE(dce.Run(m));
  ASSERT_EQ(m.nodes.size(), 8u);  // 4 inputs, 3 adders, requant; the unused adder is gone
  EXPECT_EQ(ir::Verify(m, false), "");
  EXPECT_EQ(m.outputs[0], 7);
  EXPECT_EQ(m.nodes[7].ops[0].node, 6) << "operands are renumbered";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(m.nodes[i].input_index, i) << "input i stays node i";
  EXPECT_FALSE(dce.Run(m)) << "a second run changes nothing";
}

TEST(DeadNodeElimination, KeepsUnusedInputs) {
  ir::Module m = testing_modules::Chain();
  m.nodes[6].ops[1].node = 2;  // x3 no longer read
  DeadNodeEliminationPass().Run(m);
  EXPECT_EQ(m.nodes[3].kind, ir::NodeKind::kInput);
  EXPECT_EQ(m.nodes[3].input_index, 3);
}

}  // namespace
}  // namespace hw::passes
