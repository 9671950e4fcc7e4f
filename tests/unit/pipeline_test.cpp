#include "schedule/pipeline.h"

#include <gtest/gtest.h>

#include "passes/dead_node_elimination.h"
#include "passes/range_analysis.h"

namespace hw {
namespace {

// x0..x3 -> ((x0 + x1) + x2) + x3 chained: levels 1, 2, 3, then requant at level 4.
ir::Module Chain() {
  ir::Module m;
  m.name = "chain";
  m.num_inputs = 4;
  m.input_type = model::IntType{false, 4};
  for (int i = 0; i < 4; ++i) {
    ir::Node n;
    n.kind = ir::NodeKind::kInput;
    n.input_index = i;
    m.AddNode(n);
  }
  int prev = 0;
  for (int i = 1; i < 4; ++i) {
    ir::Node a;
    a.kind = ir::NodeKind::kAdd;
    a.ops = {{prev, 0, false}, {i, 0, false}};
    prev = m.AddNode(a);
  }
  ir::Node dead;
  dead.kind = ir::NodeKind::kAdd;
  dead.ops = {{0, 0, false}, {1, 0, false}};
  m.AddNode(dead);
  ir::Node rq;
  rq.kind = ir::NodeKind::kRequant;
  rq.ops = {{prev, 0, false}};
  rq.rq = {0, 0, 0, 63};
  m.outputs = {m.AddNode(rq)};
  return m;
}

TEST(DeadNodeElimination, RemovesUnusedKeepsInputs) {
  ir::Module m = Chain();
  passes::DeadNodeEliminationPass dce;
  EXPECT_TRUE(dce.Run(m));
  EXPECT_EQ(m.nodes.size(), 8u);
  EXPECT_EQ(ir::Verify(m, false), "");
  EXPECT_EQ(m.outputs[0], 7);
  EXPECT_FALSE(dce.Run(m));
}

TEST(PipelineSchedule, OneRankPerLevel) {
  ir::Module m = Chain();
  passes::DeadNodeEliminationPass().Run(m);
  passes::RangeAnalysisPass().Run(m);
  schedule::PipelineSchedulePass(1).Run(m);
  EXPECT_EQ(m.latency, 4);
  EXPECT_EQ(m.nodes[4].level, 1);
  EXPECT_EQ(m.nodes[7].stage, 4);
  // x3 is read at stage 3: it arrives registered, so it needs 2 more ranks
  EXPECT_EQ(schedule::DelayFor(m, 3, 3), 2);
  EXPECT_EQ(schedule::DelayFor(m, 0, 1), 0);
  const auto taps = schedule::RegisterDepths(m);
  EXPECT_EQ(taps[3].value, 2);
  EXPECT_EQ(taps[7].value, 1);  // output register
  // registers: x2 1, x3 2, the three adders 1 each, output 1
  EXPECT_EQ(schedule::CountRegisters(m).registers, 7);
}

TEST(PipelineSchedule, SeveralLevelsPerStage) {
  for (int k = 1; k <= 5; ++k) {
    ir::Module m = Chain();
    passes::RangeAnalysisPass().Run(m);
    schedule::PipelineSchedulePass(k).Run(m);
    EXPECT_EQ(m.latency, (4 + k - 1) / k) << "K=" << k;
    for (const ir::Node& n : m.nodes) EXPECT_EQ(n.stage, (n.level + k - 1) / k);
  }
}

}  // namespace
}  // namespace hw
