// Fault machinery (generator/faults): the interpreter of the lowered design without faults is the reference;
// faults are drawn deterministically, confined where asked, parsed and printed losslessly, and bad input is
// refused with the file, line and field. Whether injected RTL agrees with the faulty interpreter is checked in
// Verilator by tests/cosim/faults_cosim_test.cpp.
#include <gtest/gtest.h>

#include <set>

#include "common/diag.h"
#include "cosim/cosim.h"
#include "driver/generate.h"
#include "faults/faults.h"
#include "faults/interpreter.h"
#include "faults/study.h"
#include "model/model_io.h"
#include "model/random_model.h"
#include "reference/reference.h"

namespace hw {
namespace {

using faults::FaultSet;
using faults::HwFault;
using faults::WeightFault;

driver::CompiledIrV1 CompileK(const model::Model& m, int k) {
  driver::GenerateOptions o;
  o.adders_per_stage = k;
  o.threads = 1;
  return driver::CompileIrV1(m, o);
}

// A fixed little model: dense 3 -> 2 (weights with several CSD digits), dense 2 -> 3, argmax.
model::Model Small() {
  model::RandomModelSpec spec;
  spec.min_layers = spec.max_layers = 2;
  spec.min_width = 3, spec.max_width = 6;
  spec.min_weight_bits = 4, spec.max_weight_bits = 6;
  spec.encoding = static_cast<int>(model::WeightEncoding::kSigned);
  for (uint64_t seed = 1;; ++seed) {  // the first seed whose model ends in an argmax
    model::Model m = model::RandomModel(spec, seed);
    if (std::holds_alternative<model::ArgmaxLayer>(m.layers.back().op)) return m;
  }
}

std::string Message(const Error& e) {
  std::string s;
  for (const std::string& m : e.messages()) s += m + "\n";
  return s;
}

TEST(FaultInterpreter, FaultFreeEqualsReferenceOnRandomModels) {
  for (int seed = 1; seed <= 24; ++seed) {
    model::RandomModelSpec spec;  // every weight encoding; odd seeds: extreme M, S, weights and inputs
    spec.extremes = seed % 2 == 1;
    spec.max_input_bits = seed % 3 == 0 ? 16 : 8;
    spec.max_output_bits = seed % 4 == 0 ? 32 : 10;
    const model::Model m = model::RandomModel(spec, 1000 + seed);
    const driver::CompiledIrV1 c = CompileK(m, 1 + seed % 3);
    const reference::Batch x = cosim::RandomInputs(m, 300, seed);
    const faults::Interpreter in(c.design, {});
    ASSERT_EQ(in.Run(x), reference::Run(m, x).output()) << "model seed " << 1000 + seed;
  }
}

TEST(FaultInterpreter, StuckBitForcesTheAdderValueAndItsReaders) {
  const model::Model m = Small();
  const driver::CompiledIrV1 c = CompileK(m, 1);
  const reference::Batch x = cosim::RandomInputs(m, 200, 3);
  const faults::Sites sites = faults::EnumerateSites(m, c.design);
  ASSERT_FALSE(sites.adder_bits.empty());
  // Every single stuck-at on the first layer's adders: the output is unchanged exactly when the bit already
  // had the stuck value on every vector; some single faults must change something.
  int changed = 0;
  for (const auto& s : sites.adder_bits) {
    if (s.layer != 0) continue;
    for (bool one : {false, true}) {
      HwFault f;
      f.kind = HwFault::Kind::kStuckOutput, f.layer = 0, f.node = s.node, f.bit = s.bit, f.one = one;
      const faults::Interpreter in(c.design, {f});
      changed += in.Run(x, 0, 0) != faults::Interpreter(c.design, {}).Run(x, 0, 0);
    }
  }
  EXPECT_GT(changed, 0);
}

TEST(FaultInterpreter, DroppingBothOperandsOfAnOutputAdderZeroesItsAccumulator) {
  // Drop both operands of every adder: every accumulator is 0, so layer 0 outputs requant(bias) — exactly what
  // the reference computes for an all-zero weight matrix.
  const model::Model m = Small();
  const driver::CompiledIrV1 c = CompileK(m, 2);
  std::vector<HwFault> fs;
  for (size_t id = 0; id < c.design.layers[0].nodes.size(); ++id)
    if (c.design.layers[0].nodes[id].kind == ir::NodeKind::kAdd)
      for (int k = 0; k < 2; ++k) {
        HwFault f;
        f.kind = HwFault::Kind::kDropOperand, f.layer = 0, f.node = static_cast<int>(id), f.operand = k;
        fs.push_back(f);
      }
  ASSERT_FALSE(fs.empty());
  model::Model zero = m;
  auto& d0 = std::get<model::DenseLayer>(zero.layers[0].op);
  std::fill(d0.weight.w.begin(), d0.weight.w.end(), 0);
  const reference::Batch x = cosim::RandomInputs(m, 50, 5);
  const reference::Batch got = faults::Interpreter(c.design, fs).Run(x, 0, 0);
  const reference::Batch want = reference::Run(zero, x).layers[0];
  // Outputs whose requant reads an adder (not an input wire directly) see 0 + the folded bias.
  const ir::Module& l0 = c.design.layers[0];
  int compared = 0;
  for (int o = 0; o < d0.out; ++o) {
    const ir::Node& rq = l0.nodes[l0.outputs[o]];
    if (rq.kind != ir::NodeKind::kRequant || rq.ops.empty() || l0.nodes[rq.ops[0].node].kind != ir::NodeKind::kAdd) continue;
    ++compared;
    for (long r = 0; r < x.rows(); ++r) EXPECT_EQ(got(r, o), want(r, o)) << "output " << o;
  }
  EXPECT_GT(compared, 0);
}

TEST(FaultSampling, DeterministicConfinedAndExact) {
  const model::Model m = Small();
  const driver::CompiledIrV1 c = CompileK(m, 1);
  const faults::Sites sites = faults::EnumerateSites(m, c.design);
  faults::SampleSpec spec;
  spec.level = faults::Level::kRegister;
  spec.rate = 0.3;
  const FaultSet a = faults::Sample(spec, sites, m, c.design, 7), b = faults::Sample(spec, sites, m, c.design, 7);
  const FaultSet other = faults::Sample(spec, sites, m, c.design, 8);
  EXPECT_EQ(faults::FormatFaultList(a, m, c.design), faults::FormatFaultList(b, m, c.design));
  EXPECT_NE(faults::FormatFaultList(a, m, c.design), faults::FormatFaultList(other, m, c.design));
  // Rate 0: nothing; rate 1: every site once.
  spec.rate = 0;
  EXPECT_EQ(faults::Sample(spec, sites, m, c.design, 1).size(), 0u);
  spec.rate = 1;
  EXPECT_EQ(faults::Sample(spec, sites, m, c.design, 1).size(), sites.register_bits.size());
  // Exactly `count` distinct adder bits, all in the named layer.
  spec.level = faults::Level::kAdder;
  spec.rate = 0;
  spec.count = 5;
  spec.layer = m.layers[1].name;
  const FaultSet f = faults::Sample(spec, sites, m, c.design, 3);
  EXPECT_EQ(f.hw.size(), 5u);
  std::set<std::pair<int, int>> distinct;
  for (const HwFault& h : f.hw) {
    EXPECT_EQ(h.layer, 1);
    distinct.insert({h.node, h.bit});
  }
  EXPECT_EQ(distinct.size(), 5u);
  // Weight faults at rate 1 touch every weight of the model.
  spec = {};
  spec.level = faults::Level::kWeight;
  spec.rate = 1;
  spec.weight_kind = "flip";
  const FaultSet w = faults::Sample(spec, sites, m, c.design, 1);
  EXPECT_EQ(w.weights.size(), sites.weights.size());
  const model::Model flipped = faults::ApplyWeightFaults(m, w.weights);
  const auto& d0 = std::get<model::DenseLayer>(m.layers[0].op);
  const auto& f0 = std::get<model::DenseLayer>(flipped.layers[0].op);
  for (size_t i = 0; i < d0.weight.w.size(); ++i) EXPECT_EQ(f0.weight.w[i], -d0.weight.w[i]);
}

TEST(FaultWeights, CsdDigitRemovedAndAdded) {
  const model::Model base = Small();
  model::Model m = base;
  auto& d0 = std::get<model::DenseLayer>(m.layers[0].op);
  d0.weight.at(0, 0) = 6;  // CSD +2^3 -2^1
  d0.weight.at(0, 1) = 0;
  WeightFault rm{WeightFault::Kind::kDigitRemove, 0, 0, 0, 3};
  WeightFault add{WeightFault::Kind::kDigitAdd, 0, 0, 1, 2, true};
  const model::Model f = faults::ApplyWeightFaults(m, {rm, add});
  EXPECT_EQ(std::get<model::DenseLayer>(f.layers[0].op).weight.at(0, 0), -2);
  EXPECT_EQ(std::get<model::DenseLayer>(f.layers[0].op).weight.at(0, 1), -4);
  WeightFault bad{WeightFault::Kind::kDigitRemove, 0, 0, 0, 2};  // 6 has no digit at 2^2
  EXPECT_THROW(faults::ApplyWeightFaults(m, {bad}), Error);
}

TEST(FaultList, RoundTripsAndEvaluatesLikeTheSampledSet) {
  const model::Model m = Small();
  const driver::CompiledIrV1 c = CompileK(m, 1);
  const faults::Sites sites = faults::EnumerateSites(m, c.design);
  faults::SampleSpec spec;
  spec.level = faults::Level::kRegister;
  spec.count = 6;
  FaultSet f = faults::Sample(spec, sites, m, c.design, 11);
  spec.level = faults::Level::kAdder;
  spec.adder_kind = "drop";
  spec.count = 2;
  const FaultSet d = faults::Sample(spec, sites, m, c.design, 12);
  f.hw.insert(f.hw.end(), d.hw.begin(), d.hw.end());
  const std::string text = faults::FormatFaultList(f, m, c.design);
  const FaultSet back = faults::ParseFaultList("# a comment\n\n" + text, "list.txt", m, c.design);
  EXPECT_EQ(faults::FormatFaultList(back, m, c.design), text);
  const reference::Batch x = cosim::RandomInputs(m, 100, 2);
  EXPECT_EQ(faults::Interpreter(c.design, f.hw).Run(x), faults::Interpreter(c.design, back.hw).Run(x));
}

TEST(FaultList, BadInputNamesFileLineAndField) {
  const model::Model m = Small();
  const driver::CompiledIrV1 c = CompileK(m, 1);
  const std::string l0 = m.layers[0].name;
  std::string adder;
  for (const ir::Node& n : c.design.layers[0].nodes)
    if (n.kind == ir::NodeKind::kAdd) adder = n.name;
  ASSERT_FALSE(adder.empty());
  struct Case {
    std::string line, expect;
  };
  const std::vector<Case> cases = {
      {"weight nosuch 0 0 zero", "f.txt:1: field 'layer': no layer 'nosuch'"},
      {"weight " + l0 + " 999 0 zero", "f.txt:1: field 'row': row 999 out of range"},
      {"weight " + l0 + " 0 999 flip", "f.txt:1: field 'col': column 999 out of range"},
      {"weight " + l0 + " 0 0 melt", "f.txt:1: field 'kind': unknown weight fault 'melt'"},
      {"adder " + l0 + " n_nosuch stuck 0 1", "f.txt:1: field 'node': no node 'n_nosuch'"},
      {"adder " + l0 + " " + adder + " stuck 99 1", "f.txt:1: field 'bit': bit 99 out of range"},
      {"adder " + l0 + " " + adder + " stuck 0 2", "f.txt:1: field 'value'"},
      {"adder " + l0 + " " + adder + " drop 2", "f.txt:1: field 'operand'"},
      {"register " + l0 + " " + adder + " 999 0 1", "rank 999 out of range"},
      {"cosmic " + l0, "f.txt:1: field 'level': unknown fault level 'cosmic'"},
  };
  for (const Case& k : cases) {
    try {
      faults::ParseFaultList(k.line + "\n", "f.txt", m, c.design);
      ADD_FAILURE() << "accepted: " << k.line;
    } catch (const Error& e) {
      EXPECT_NE(Message(e).find(k.expect), std::string::npos) << k.line << "\n -> " << Message(e);
    }
  }
  // Two problems on two lines are reported together.
  try {
    faults::ParseFaultList("weight nosuch 0 0 zero\nadder " + l0 + " nope stuck 0 1\n", "f.txt", m, c.design);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.messages().size(), 2u);
    EXPECT_NE(Message(e).find("f.txt:2"), std::string::npos);
  }
}

TEST(FaultSpec, RatesOutsideUnitIntervalAreRefused) {
  const model::Model m = Small();
  for (double r : {-0.1, 1.5}) {
    faults::SampleSpec spec;
    spec.rate = r;
    try {
      faults::CheckSpec(spec, m);
      ADD_FAILURE() << r;
    } catch (const Error& e) {
      EXPECT_NE(Message(e).find("field 'rate'"), std::string::npos) << Message(e);
      EXPECT_NE(Message(e).find("outside [0, 1]"), std::string::npos);
    }
  }
  faults::SampleSpec spec;
  spec.layer = "nosuch";
  EXPECT_THROW(faults::CheckSpec(spec, m), Error);
}

TEST(FaultStudy, PointsAblationAndYieldBehave) {
  const model::Model m = Small();
  const driver::CompiledIrV1 c = CompileK(m, 1);
  const reference::Batch x = cosim::RandomInputs(m, 300, 9);
  // Labels = the fault-free outputs, so the fault-free accuracy is 100 %.
  const reference::Batch y = reference::Run(m, x).output();
  std::vector<int64_t> labels(y.data(), y.data() + y.rows());
  const faults::Evaluator ev(m, c.design, x, labels);
  EXPECT_DOUBLE_EQ(ev.Evaluate({}).accuracy, 1.0);
  faults::StudyOptions o;
  o.samples = 8;
  const faults::Point none = faults::RunPoint(ev, faults::Level::kAdder, "", 0.0, -1, o);
  const faults::Point all = faults::RunPoint(ev, faults::Level::kRegister, "", 0.5, -1, o);
  EXPECT_EQ(none.Quantile(none.changed, 0.9), 0.0);
  EXPECT_GT(all.Quantile(all.changed, 0.5), 0.0);
  EXPECT_GT(all.mean_faults, 0.0);
  // Same seed, same point; more threads, same numbers.
  o.threads = 2;
  EXPECT_EQ(faults::RunPoint(ev, faults::Level::kRegister, "", 0.5, -1, o).accuracy, all.accuracy);
  // Yield without defects is 100 %; the ablation is sorted by impact.
  const faults::YieldPoint y0 = faults::RunYield(ev, 0.0, 1.0, o);
  EXPECT_EQ(y0.good, y0.dies);
  const auto rows = faults::Ablate(ev, 1);
  ASSERT_FALSE(rows.empty());
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_LE(rows[i - 1].quality.accuracy, rows[i].quality.accuracy);
}

TEST(FaultList, ShippedExamplesParseOnTheFashionModel) {
  // The lists docs/faults.md shows name real weights and RTL nodes of weights/fashion_mlp.
  const model::Model m = model::LoadModel(std::string(HW_SOURCE_DIR) + "/weights/fashion_mlp/model.json");
  const driver::CompiledIrV1 c = CompileK(m, 1);
  const FaultSet w = faults::ReadFaultList(std::string(HW_TEST_DATA) + "/faults/fashion_weights.txt", m, c.design);
  const FaultSet h = faults::ReadFaultList(std::string(HW_TEST_DATA) + "/faults/fashion_hardware.txt", m, c.design);
  EXPECT_EQ(w.weights.size(), 4u);
  EXPECT_EQ(h.hw.size(), 4u);
  EXPECT_TRUE(h.hw.back().index_line);
}

}  // namespace
}  // namespace hw
