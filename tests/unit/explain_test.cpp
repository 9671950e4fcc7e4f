// `hardwire explain`: the neuron's cone of the scheduled adder graph, as text and DOT.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>

#include "common/diag.h"
#include "driver/generate.h"
#include "explain/explain.h"
#include "model/model_io.h"
#include "model/random_model.h"

namespace hw {
namespace {

TEST(Explain, TinyNeuronTextAndDot) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  for (passes::ArithMode mode : {passes::ArithMode::kCsd, passes::ArithMode::kCmvm}) {
    driver::GenerateOptions o;
    o.lower.arith.mode = mode;
    const driver::CompiledDesign c = driver::Compile(m, o);
    const int li = explain::FindLayer(m, "fc1");
    const auto& d = std::get<model::DenseLayer>(m.layers[li].op);
    for (int n = 0; n < d.out; ++n) {
      const explain::NeuronExplanation e = explain::ExplainNeuron(m, c.design.layers[li], li, n);
      const ir::Module& mod = c.design.layers[li];
      const ir::Node& out = mod.nodes[mod.outputs[n]];
      if (out.kind == ir::NodeKind::kConst)  // an all-zero weight row folds to a constant
        EXPECT_NE(e.text.find("constant"), std::string::npos) << e.text;
      else
        EXPECT_NE(e.text.find(out.name), std::string::npos) << e.text;
      EXPECT_EQ(e.stages, out.stage);
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

TEST(Explain, ThresholdLayerShowsItsThresholdsAndComparisons) {
  model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  const int li = explain::FindLayer(m, "fc1");
  auto& d = std::get<model::DenseLayer>(m.layers[li].op);
  d.has_threshold = true;
  d.threshold_tensor = "fc1.t";
  d.clamp_hi = d.clamp_lo + 3;
  d.threshold.clear();
  for (int o = 0; o < d.out; ++o)
    for (int64_t t : {-5 - o, 2 * o, 40 + o}) d.threshold.push_back(t);
  std::fill(d.multiplier.begin(), d.multiplier.end(), 1), std::fill(d.shift.begin(), d.shift.end(), 0);
  const driver::CompiledDesign c = driver::Compile(m, driver::GenerateOptions{});
  int n = 0;  // a neuron with a nonzero weight row
  while (n < d.out && std::all_of(d.weight.w.begin() + n * d.in, d.weight.w.begin() + (n + 1) * d.in, [](int64_t w) { return w == 0; })) ++n;
  ASSERT_LT(n, d.out);
  const explain::NeuronExplanation e = explain::ExplainNeuron(m, c.design.layers[li], li, n);
  EXPECT_NE(e.text.find(fmt::format("y[{}] = {} + #{{k : acc >= T[{}][k]}}", n, d.clamp_lo, n)), std::string::npos) << e.text;
  EXPECT_NE(e.text.find(fmt::format("T[{}] = [{}, {}, {}]", n, -5 - n, 2 * n, 40 + n)), std::string::npos) << e.text;
  EXPECT_EQ(e.text.find("multiplier M"), std::string::npos) << e.text;
  // One comparison per threshold (a shift-0 hw_requant node) in the neuron's cone.
  size_t comparisons = 0;
  for (size_t p = e.text.find("(hw_requant)"); p != std::string::npos; p = e.text.find("(hw_requant)", p + 1)) ++comparisons;
  EXPECT_GE(comparisons, 3u) << e.text;
  EXPECT_NE(e.dot.find("3 thresholds"), std::string::npos);
}

TEST(Explain, SharedSubexpressionsAreMarked) {
  model::RandomModelSpec spec;
  spec.min_layers = spec.max_layers = 1;
  spec.min_width = spec.max_width = 12;
  spec.min_weight_bits = spec.max_weight_bits = 6;
  spec.allow_argmax = false;
  const model::Model m = model::RandomModel(spec, 5);
  const driver::CompiledDesign c = driver::Compile(m, driver::GenerateOptions{});  // cmvm
  int shared = 0;
  const auto& d = std::get<model::DenseLayer>(m.layers[0].op);
  for (int n = 0; n < d.out; ++n) shared += explain::ExplainNeuron(m, c.design.layers[0], 0, n).shared_adders;
  EXPECT_GT(shared, 0) << "cmvm on a 12x12 6-bit layer should share something";
}

TEST(Explain, BadLayerOrNeuronIsAnError) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  const driver::CompiledDesign c = driver::Compile(m, driver::GenerateOptions{});
  EXPECT_THROW(explain::FindLayer(m, "nope"), Error);
  EXPECT_EQ(explain::FindLayer(m, "0"), 0);
  EXPECT_THROW(explain::ExplainNeuron(m, c.design.layers[0], 0, 999), Error);
}

}  // namespace
}  // namespace hw
