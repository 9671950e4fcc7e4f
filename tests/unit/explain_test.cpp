// `hardwire explain`: the neuron's cone of the scheduled adder graph, as text and DOT.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>

#include "common/diag.h"
#include "explain/explain.h"
#include "model/model_io.h"
#include "model/random_model.h"
#include "passes/ir2_passes.h"
#include "passes/lower_layer_ir2.h"

namespace hw {
namespace {

TEST(Explain, TinyNeuronTextAndDot) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  for (passes::ArithMode mode : {passes::ArithMode::kCsd, passes::ArithMode::kCmvm}) {
    passes::ArithChoice choice;
    choice.mode = mode;
    const int li = explain::FindLayer(m, "fc1");
    const auto& d = std::get<model::DenseLayer>(m.layers[li].op);
    // The layer as `generate` schedules it (the same lowering, K = 1).
    hw::ir2::Graph g = passes::LowerLayerToIr2(m, li, choice);
    passes::ir2::PassManager({"range-analysis", "schedule", "sink"}, {1}).Run(g);
    for (int n = 0; n < d.out; ++n) {
      const explain::NeuronExplanation e = explain::ExplainNeuron(m, li, n, choice, 1);
      const hw::ir2::Use y = g.nodes[g.Outputs()[n]].operands[0];
      const hw::ir2::Node& out = g.nodes[y.node];
      if (out.op == hw::ir2::Op::kConst)  // an all-zero weight row folds to a constant
        EXPECT_NE(e.text.find("constant"), std::string::npos) << e.text;
      else
        EXPECT_NE(e.text.find(fmt::format("%{} ", y.node)), std::string::npos) << e.text;
      EXPECT_EQ(e.stages, g.StageOf(y.node));
      // Every nonzero weight is listed with its digits, and every input it reads appears in the graph.
      for (int i = 0; i < d.in; ++i)
        if (d.weight.at(n, i) != 0) EXPECT_NE(e.dot.find(fmt::format("label=\"x{}\\n", i)), std::string::npos) << i;
      EXPECT_EQ(e.dot.rfind("digraph neuron {", 0), std::string::npos);  // header comment first
      EXPECT_NE(e.dot.find("digraph neuron {"), std::string::npos);
      // Edges only between declared nodes.
      std::set<std::string> nodes;
      static const std::regex decl(R"(\n    (n\d+) \[label=)");
      for (auto it = std::sregex_iterator(e.dot.begin(), e.dot.end(), decl); it != std::sregex_iterator(); ++it)
        nodes.insert((*it)[1].str());
      static const std::regex edge(R"((n\d+) -> (n\d+))");
      int edges = 0;
      for (auto it = std::sregex_iterator(e.dot.begin(), e.dot.end(), edge); it != std::sregex_iterator(); ++it, ++edges) {
        EXPECT_TRUE(nodes.count((*it)[1].str())) << (*it)[1].str();
        EXPECT_TRUE(nodes.count((*it)[2].str())) << (*it)[2].str();
      }
      EXPECT_GE(edges, e.adders);
    }
  }
}

TEST(Explain, SharedSubexpressionsAreMarked) {
  model::RandomModelSpec spec;
  spec.min_layers = spec.max_layers = 1;
  spec.min_width = spec.max_width = 12;
  spec.min_weight_bits = spec.max_weight_bits = 6;
  spec.allow_argmax = false;
  const model::Model m = model::RandomModel(spec, 5);
  int shared = 0;
  const auto& d = std::get<model::DenseLayer>(m.layers[0].op);
  for (int n = 0; n < d.out; ++n) shared += explain::ExplainNeuron(m, 0, n, passes::ArithChoice{}, 1).shared_adders;  // cmvm
  EXPECT_GT(shared, 0) << "cmvm on a 12x12 6-bit layer should share something";
}

TEST(Explain, ThresholdLayersShowTheirTests) {
  model::RandomModelSpec spec;
  spec.min_layers = spec.max_layers = 1;
  spec.min_width = spec.max_width = 6;
  spec.allow_argmax = false;
  model::Model m = model::RandomModel(spec, 11);
  model::UseRandomThresholds(m, 0, 11);
  const auto& d = std::get<model::DenseLayer>(m.layers[0].op);
  int tests = 0;
  for (int n = 0; n < d.out; ++n) {
    const explain::NeuronExplanation e = explain::ExplainNeuron(m, 0, n, passes::ArithChoice{}, 2);
    EXPECT_NE(e.text.find("#{k : "), std::string::npos) << e.text;
    for (size_t at = e.text.find("(threshold test)"); at != std::string::npos; at = e.text.find("(threshold test)", at + 1)) ++tests;
  }
  EXPECT_GT(tests, 0);
}

TEST(Explain, BadLayerOrNeuronIsAnError) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  EXPECT_THROW(explain::FindLayer(m, "nope"), Error);
  EXPECT_EQ(explain::FindLayer(m, "0"), 0);
  EXPECT_THROW(explain::ExplainNeuron(m, 0, 999, passes::ArithChoice{}, 1), Error);
  EXPECT_THROW(explain::ExplainNeuron(m, 2, 0, passes::ArithChoice{}, 1), Error);  // the argmax layer
}

}  // namespace
}  // namespace hw
