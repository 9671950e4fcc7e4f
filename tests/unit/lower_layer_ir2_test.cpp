// The dense chain lowered to IR v2 (passes/lower_layer_ir2.h): every layer graph, after the whole IR v2 pass
// pipeline, interpreted by the IR v2 interpreter equals the reference layer by layer; the threshold worked
// example; constant outputs and the folded bias.
#include "passes/lower_layer_ir2.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "cosim/cosim.h"
#include "driver/generate.h"
#include "ir2/interpreter.h"
#include "ir2/text.h"
#include "ir2/verify.h"
#include "model/model_io.h"
#include "model/random_model.h"
#include "passes/ir2_passes.h"
#include "reference/reference.h"

namespace hw::passes {
namespace {

struct Variant {
  ArithChoice choice;
  int k;
};

std::vector<Variant> Variants() {
  std::vector<Variant> v;
  for (int k = 1; k <= 3; ++k) {
    ArithChoice csd, cmvm, mindepth, transposed;
    csd.mode = ArithMode::kCsd;
    mindepth.depth = arith::DepthMode::kMinimum;
    transposed.depth = arith::DepthMode::kMinimum;
    transposed.transposed = true;
    v.push_back({csd, k});
    v.push_back({cmvm, k});
    v.push_back({mindepth, k});
    v.push_back({transposed, k});
  }
  return v;
}

TEST(LowerLayerIr2, InterpretedLayersEqualTheReference) {
  int models = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    model::Model m = model::RandomModel(model::RandomModelSpec{}, seed);
    if (seed % 3 == 0) model::UseRandomThresholds(m, 0, seed);
    const reference::Batch x = cosim::RandomInputs(m, 40, seed);
    const reference::Trace t = reference::Run(m, x);
    for (const Variant& v : Variants()) {
      ++models;
      for (int i = 0; i < static_cast<int>(m.layers.size()); ++i) {
        hw::ir2::Graph g = LowerLayerToIr2(m, i, v.choice);
        hw::passes::ir2::PassOptions po;
        po.adders_per_stage = v.k;
        hw::passes::ir2::PassManager(hw::passes::ir2::DefaultPipeline(), po).Run(g);
        ASSERT_TRUE(hw::ir2::Verify(g, hw::ir2::VerifyLevel::kScheduled).empty()) << g.name;
        hw::ir2::Interpreter in(g);
        const reference::Batch& layer_in = i == 0 ? x : t.layers[i - 1];
        for (Eigen::Index r = 0; r < x.rows(); ++r) {
          std::vector<int64_t> row(layer_in.row(r).data(), layer_in.row(r).data() + layer_in.cols());
          const std::vector<int64_t> y = in.Step(row);
          ASSERT_EQ(static_cast<Eigen::Index>(y.size()), t.layers[i].cols()) << g.name;
          for (size_t o = 0; o < y.size(); ++o)
            ASSERT_EQ(y[o], t.layers[i](r, static_cast<Eigen::Index>(o)))
                << g.name << " K=" << v.k << " vector " << r << " output " << o << "\n" << hw::ir2::Dump(g);
        }
      }
    }
  }
  EXPECT_EQ(models, 24 * 12);
}

// docs/semantics.md's threshold worked example: W = [1], thresholds {-3, 5, 9}, output -1 + count, through the
// reference, the manifest round trip and the layer's IR v2 graph.
TEST(LowerLayerIr2, ThresholdWorkedExample) {
  model::Model m;
  m.name = "t";
  m.tensors_file = "t.safetensors";
  m.input_length = 1;
  m.input = model::IntType{true, 8};
  model::DenseLayer d;
  d.in = 1, d.out = 1;
  d.weight = arith::IntMatrix{1, 1, {1}};
  d.bias = {0}, d.multiplier = {1}, d.shift = {0};
  d.output = model::IntType{true, 3};
  d.clamp_lo = -1, d.clamp_hi = 2;
  d.has_threshold = true;
  d.threshold = {-3, 5, 9};
  d.weight_tensor = "w", d.multiplier_tensor = "m", d.shift_tensor = "s", d.threshold_tensor = "th";
  model::Layer l;
  l.name = "fc";
  l.op = d;
  m.layers.push_back(l);
  reference::Batch x(4, 1);
  x << 5, 4, -10, 9;
  const std::vector<int64_t> want = {1, 0, -1, 2};
  const reference::Batch y = reference::Run(m, x).output();
  hw::ir2::Graph g = LowerLayerToIr2(m, 0, ArithChoice{});
  hw::passes::ir2::PassManager(hw::passes::ir2::DefaultPipeline(), {1}).Run(g);
  hw::ir2::Interpreter in(g);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(y(r, 0), want[r]) << r;
    EXPECT_EQ(in.Step({x(r, 0)}), (std::vector<int64_t>{want[r]})) << r;
  }
  const std::string dir = std::string(HW_BINARY_DIR) + "/test_out/threshold_model";
  model::WriteModel(m, dir);
  const model::Model back = model::LoadModel(dir + "/model.json");
  const auto& bd = std::get<model::DenseLayer>(back.layers[0].op);
  EXPECT_TRUE(bd.has_threshold);
  EXPECT_EQ(bd.threshold, (std::vector<int64_t>{-3, 5, 9}));
  EXPECT_EQ(model::ManifestJson(back), model::ManifestJson(m));
}

// The tiny test model: neuron 1's weights and bias make it 0 for every input (bias -1, relu): its output is the
// constant 0, no adders; neuron 0's bias (2) times M (5) plus the rounding 2^(S-1) is one constant operand of the
// multiply's adder tree (M = 5 = 4 + 1 costs shift-and-add, no multiplier), so its requant has no constant of its own
// and costs no adder level (a saturation).
TEST(LowerLayerIr2, ConstantOutputsAndFoldedBias) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  ArithChoice csd;
  csd.mode = ArithMode::kCsd;
  const hw::ir2::Graph g = LowerLayerToIr2(m, 0, csd);  // as lowered: outputs read their values directly
  const std::vector<int> outs = g.Outputs();
  const hw::ir2::Node& y1 = g.nodes[g.nodes[outs[1]].operands[0].node];
  EXPECT_EQ(y1.op, hw::ir2::Op::kConst);
  EXPECT_EQ(y1.value, 0);
  const hw::ir2::Node& y0 = g.nodes[g.nodes[outs[0]].operands[0].node];
  ASSERT_EQ(y0.op, hw::ir2::Op::kRequant);
  EXPECT_EQ(y0.add, 0);
  EXPECT_EQ(y0.shift, 2);
  // the constant is an operand of an add of the multiply's tree, which feeds the requant
  int folded = 0;
  for (const hw::ir2::Node& n : g.nodes)
    if (n.op == hw::ir2::Op::kAdd)
      for (const hw::ir2::Use& u : n.operands) folded += g.nodes[u.node].op == hw::ir2::Op::kConst && g.nodes[u.node].value == 2 * 5 + 2;
  EXPECT_EQ(folded, 1);
  for (const hw::ir2::Node& n : g.nodes) EXPECT_NE(n.op, hw::ir2::Op::kMul);
}

}  // namespace
}  // namespace hw::passes
