#include "schedule/pipeline.h"

#include <gtest/gtest.h>

#include "passes/dead_node_elimination.h"
#include "passes/range_analysis.h"
#include "test_modules.h"

namespace hw {
namespace {

using testing_modules::Chain;

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
