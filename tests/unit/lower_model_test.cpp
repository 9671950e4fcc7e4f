#include "passes/lower_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "arith/csd.h"
#include "model/model_io.h"
#include "model/random_model.h"
#include "passes/range_analysis.h"
#include "reference/reference.h"

namespace hw::passes {
namespace {

// Interprets a lowered module on one input vector, straight from the IR semantics (ir/datapath.h).
std::vector<int64_t> Interpret(const ir::Module& m, const std::vector<int64_t>& x) {
  std::vector<int64_t> v(m.nodes.size()), idx(m.nodes.size());
  auto operand = [&](const ir::Operand& o) { return (o.neg ? -1 : 1) * (v[o.node] << o.shift); };
  for (size_t id = 0; id < m.nodes.size(); ++id) {
    const ir::Node& n = m.nodes[id];
    switch (n.kind) {
      case ir::NodeKind::kInput: v[id] = x[n.input_index], idx[id] = n.input_index; break;
      case ir::NodeKind::kConst: v[id] = n.value; break;
      case ir::NodeKind::kAdd: v[id] = operand(n.ops[0]) + operand(n.ops[1]); break;
      case ir::NodeKind::kRequant: {
        const int64_t in = n.ops.empty() ? 0 : operand(n.ops[0]);
        int64_t lo = 0, hi = 0;
        RequantRange(n.rq, in, in, &lo, &hi);
        v[id] = lo;
        break;
      }
      case ir::NodeKind::kMaxSel: {
        const bool b = v[n.ops[1].node] > v[n.ops[0].node];
        v[id] = b ? v[n.ops[1].node] : v[n.ops[0].node];
        idx[id] = b ? idx[n.ops[1].node] : idx[n.ops[0].node];
        break;
      }
    }
  }
  std::vector<int64_t> y;
  for (int o : m.outputs) y.push_back(m.nodes[o].kind == ir::NodeKind::kMaxSel || m.nodes[o].kind == ir::NodeKind::kInput
                                          ? (m.kind == "argmax" ? idx[o] : v[o])
                                          : v[o]);
  return y;
}

TEST(LowerModel, InterpretedModulesEqualTheReference) {
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    const model::Model m = model::RandomModel(model::RandomModelSpec{}, seed);
    for (ArithMode mode : {ArithMode::kCsd, ArithMode::kCmvm}) {
      LowerOptions o;
      o.arith.mode = mode;
      const ir::Design d = LowerModel(m, o);
      ASSERT_EQ(d.layers.size(), m.layers.size());
      for (const ir::Module& mod : d.layers) ASSERT_EQ(ir::Verify(mod, false), "") << mod.name;
      const reference::Batch x = [&] {
        reference::Batch b(50, m.input_length);
        std::mt19937_64 rng(seed);
        for (Eigen::Index r = 0; r < b.rows(); ++r)
          for (Eigen::Index c = 0; c < b.cols(); ++c)
            b(r, c) = std::uniform_int_distribution<int64_t>(m.input.min(), m.input.max())(rng);
        return b;
      }();
      const reference::Trace t = reference::Run(m, x);
      for (Eigen::Index r = 0; r < x.rows(); ++r) {
        std::vector<int64_t> v(x.row(r).data(), x.row(r).data() + x.cols());
        for (size_t l = 0; l < d.layers.size(); ++l) {
          v = Interpret(d.layers[l], v);
          for (size_t k = 0; k < v.size(); ++k)
            ASSERT_EQ(v[k], t.layers[l](r, k)) << "seed " << seed << " layer " << l << " output " << k;
        }
      }
    }
  }
}

// Threshold layers (docs/semantics.md, dense with thresholds): the worked example, the manifest round trip,
// and the lowering (comparisons + adder tree) equal to the reference on random models.
model::Model WithThresholds(model::Model m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (model::Layer& l : m.layers) {
    auto* d = std::get_if<model::DenseLayer>(&l.op);
    if (!d) continue;
    d->has_threshold = true;
    d->threshold_tensor = l.name + ".t";
    const int64_t L = d->clamp_hi - d->clamp_lo;
    if (L > 64) d->clamp_hi = d->clamp_lo + 64;
    d->threshold.clear();
    for (int o = 0; o < d->out; ++o) {
      std::vector<int64_t> row;
      for (int64_t k = 0; k < d->clamp_hi - d->clamp_lo; ++k) row.push_back(std::uniform_int_distribution<int64_t>(-300, 300)(rng));
      if (o == 0) std::fill(row.begin(), row.end(), 0);  // equal thresholds: jumps of several levels
      std::sort(row.begin(), row.end());
      d->threshold.insert(d->threshold.end(), row.begin(), row.end());
    }
    std::fill(d->multiplier.begin(), d->multiplier.end(), 1);
    std::fill(d->shift.begin(), d->shift.end(), 0);
  }
  return m;
}

TEST(LowerModel, ThresholdWorkedExample) {
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
  const reference::Batch y = reference::Run(m, x).output();
  EXPECT_EQ(y(0, 0), 1);
  EXPECT_EQ(y(1, 0), 0);
  EXPECT_EQ(y(2, 0), -1);
  EXPECT_EQ(y(3, 0), 2);
  const std::string dir = std::string(HW_BINARY_DIR) + "/test_out/threshold_model";
  model::WriteModel(m, dir);
  const model::Model back = model::LoadModel(dir + "/model.json");
  const auto& bd = std::get<model::DenseLayer>(back.layers[0].op);
  EXPECT_TRUE(bd.has_threshold);
  EXPECT_EQ(bd.threshold, (std::vector<int64_t>{-3, 5, 9}));
  EXPECT_EQ(model::ManifestJson(back), model::ManifestJson(m));
}

TEST(LowerModel, ThresholdLayersInterpretedEqualTheReference) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const model::Model m = WithThresholds(model::RandomModel(model::RandomModelSpec{}, seed), seed);
    LowerOptions o;
    const ir::Design d = LowerModel(m, o);
    for (const ir::Module& mod : d.layers) ASSERT_EQ(ir::Verify(mod, false), "") << mod.name;
    reference::Batch x(50, m.input_length);
    std::mt19937_64 rng(seed);
    for (Eigen::Index r = 0; r < x.rows(); ++r)
      for (Eigen::Index c = 0; c < x.cols(); ++c) x(r, c) = std::uniform_int_distribution<int64_t>(m.input.min(), m.input.max())(rng);
    const reference::Trace t = reference::Run(m, x);
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      std::vector<int64_t> v(x.row(r).data(), x.row(r).data() + x.cols());
      for (size_t l = 0; l < d.layers.size(); ++l) {
        v = Interpret(d.layers[l], v);
        for (size_t k = 0; k < v.size(); ++k) ASSERT_EQ(v[k], t.layers[l](r, k)) << "seed " << seed << " layer " << l << " output " << k;
      }
    }
  }
}

TEST(LowerModel, AllZeroRowBecomesAConstant) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  const ir::Design d = LowerModel(m, LowerOptions{});
  const ir::Node& y1 = d.layers[0].nodes[d.layers[0].outputs[1]];
  EXPECT_EQ(y1.kind, ir::NodeKind::kConst);
  EXPECT_EQ(y1.value, 0);  // bias -1 -> relu -> 0
}

TEST(LowerModel, MultiplierIsShiftAddAndBiasIsFolded) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  LowerOptions o;
  o.arith.mode = ArithMode::kCsd;
  const ir::Design d = LowerModel(m, o);
  const ir::Module& fc1 = d.layers[0];
  const ir::Node& y0 = fc1.nodes[fc1.outputs[0]];
  ASSERT_EQ(y0.kind, ir::NodeKind::kRequant);
  EXPECT_EQ(y0.rq.add, 2 * 5 + 2);  // bias 2 * M 5 + 2^(S-1)
  EXPECT_EQ(y0.rq.shift, 2);
  // M = 5 = +2^2 +2^0: exactly one scale adder for neuron 0
  int scale_adders = 0;
  for (const ir::Node& n : fc1.nodes) scale_adders += n.role == ir::Role::kScale && n.neuron == 0;
  EXPECT_EQ(scale_adders, 1);
}

}  // namespace
}  // namespace hw::passes
