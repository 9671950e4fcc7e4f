#include "emit/names.h"

#include <gtest/gtest.h>

#include <set>

#include "driver/generate.h"
#include "model/random_model.h"
#include "passes/range_analysis.h"
#include "schedule/pipeline.h"
#include "test_modules.h"

namespace hw::emit {
namespace {

TEST(NameNodes, NamesFollowRoleNeuronAndLevel) {
  ir::Module m = testing_modules::Chain();
  m.nodes[4].role = ir::Role::kNeuron, m.nodes[4].neuron = 2;
  m.nodes[5].role = ir::Role::kNeuron, m.nodes[5].neuron = 2;
  m.nodes[6].role = ir::Role::kShared;
  m.nodes[7].role = ir::Role::kShared;
  m.nodes[8].role = ir::Role::kOutput, m.nodes[8].neuron = 2;
  passes::RangeAnalysisPass().Run(m);
  schedule::PipelineSchedulePass(1).Run(m);
  NameNodesPass p;
  EXPECT_TRUE(p.Run(m));
  EXPECT_EQ(m.nodes[0].name, "x0");
  EXPECT_EQ(m.nodes[4].name, "n2_l1_0");
  EXPECT_EQ(m.nodes[5].name, "n2_l2_0");
  EXPECT_EQ(m.nodes[6].name, "s_l3_0");
  EXPECT_EQ(m.nodes[7].name, "s_l1_0");
  EXPECT_EQ(m.nodes[8].name, "y2");
  EXPECT_FALSE(p.Run(m));
}

TEST(NameNodes, UniqueLegalNamesOnRandomModels) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const auto c = driver::CompileIrV1(model::RandomModel(model::RandomModelSpec{}, seed), driver::GenerateOptions{});
    for (const ir::Module& m : c.design.layers) {
      std::set<std::string> seen;
      for (const ir::Node& n : m.nodes) {
        if (n.kind == ir::NodeKind::kConst) continue;  // folded into readers, never declared
        ASSERT_FALSE(n.name.empty());
        EXPECT_TRUE(seen.insert(n.name).second) << "duplicate name " << n.name << " in " << m.name;
        EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(n.name[0]))) << n.name;
        for (char ch : n.name) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') << n.name;
      }
    }
  }
}

}  // namespace
}  // namespace hw::emit
