// Fault machinery (generator/faults): the bit-level interpreter of the IR v2 layer graphs without faults is the
// reference;
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

driver::CompiledDesign CompileK(const model::Model& m, int k, bool offset_binary = true) {
  driver::GenerateOptions o;
  o.adders_per_stage = k;
  o.offset_binary = offset_binary;
  o.threads = 1;
  return driver::Compile(m, o);
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
    driver::GenerateOptions o;
    o.adders_per_stage = 1 + seed % 3;
    o.threads = 1;
    if (seed % 5 == 0) o.clock_ns = 6;  // a clock target: split requants, other register placement
    const driver::CompiledDesign c = driver::Compile(m, o);
    const reference::Batch x = cosim::RandomInputs(m, 300, seed);
    const faults::Interpreter in(m, c.graphs, {});
    ASSERT_EQ(in.Run(x), reference::Run(m, x).output()) << "model seed " << 1000 + seed;
  }
}

TEST(FaultInterpreter, StuckBitForcesTheAdderValueAndItsReaders) {
  const model::Model m = Small();
  const driver::CompiledDesign c = CompileK(m, 1);
  const reference::Batch x = cosim::RandomInputs(m, 200, 3);
  const faults::Sites sites = faults::EnumerateSites(m, c.graphs);
  ASSERT_FALSE(sites.adder_bits.empty());
  // Every single stuck-at on the first layer's adders: the output is unchanged exactly when the bit already
  // had the stuck value on every vector; some single faults must change something.
  int changed = 0;
  for (const auto& s : sites.adder_bits) {
    if (s.layer != 0) continue;
    for (bool one : {false, true}) {
      HwFault f;
      f.kind = HwFault::Kind::kStuckOutput, f.layer = 0, f.node = s.node, f.bit = s.bit, f.one = one;
      const faults::Interpreter in(m, c.graphs, {f});
      changed += in.Run(x, 0, 0) != faults::Interpreter(m, c.graphs, {}).Run(x, 0, 0);
    }
  }
  EXPECT_GT(changed, 0);
}

TEST(FaultInterpreter, TopBitStuckAtOneOfAnOutputRegisterChangesTheOutput) {
  // The register that carries output y0 of layer 0 (requantized, non-negative here or not): forcing its top bit
  // to the value it never has on some vector must change that vector's output.
  const model::Model m = Small();
  const driver::CompiledDesign c = CompileK(m, 1);
  const hw::ir2::Graph& g = c.graphs[0];
  const reference::Batch x = cosim::RandomInputs(m, 200, 4);
  const reference::Batch clean = faults::Interpreter(m, c.graphs, {}).Run(x, 0, 0);
  int checked = 0;
  for (int o : g.Outputs()) {
    const int id = g.nodes[o].operands[0].node;
    if (g.nodes[id].op != hw::ir2::Op::kReg) continue;
    const int w = faults::OpWidth(g, id);
    for (bool one : {false, true}) {
      faults::HwFault f;
      f.kind = HwFault::Kind::kStuckRegister, f.layer = 0, f.node = id, f.bit = w - 1, f.one = one;
      const reference::Batch got = faults::Interpreter(m, c.graphs, {f}).Run(x, 0, 0);
      const int col = std::stoi(g.nodes[o].symbol.substr(1));
      // The output changes exactly on the vectors whose register bit differs from the stuck value.
      for (long r = 0; r < x.rows(); ++r) {
        const bool bit = (static_cast<uint64_t>(clean(r, col)) >> (w - 1)) & 1;
        if (bit != one) EXPECT_NE(got(r, col), clean(r, col)) << "row " << r;
        else EXPECT_EQ(got(r, col), clean(r, col)) << "row " << r;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(FaultInterpreter, DroppingEveryAdderOperandLeavesTheBias) {
  // Drop every operand of every adder of layer 0 except those that carry a constant (the folded bias and rounding,
  // an operand of the multiply's adder tree): every accumulator is 0 and the multiply's tree leaves the constant,
  // so an output whose requant reads an adder is requant(folded bias) — what the reference computes for an all-zero
  // weight matrix. In plain two's complement: in offset binary (the default) a dropped operand reads 0, which is
  // not the encoding of the value 0, so the closed form does not hold there.
  const model::Model m = Small();
  const driver::CompiledDesign c = CompileK(m, 2, /*offset_binary=*/false);
  const hw::ir2::Graph& g = c.graphs[0];
  std::vector<bool> carries_constant(g.nodes.size(), false);
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    const hw::ir2::Node& n = g.nodes[id];
    carries_constant[id] = n.op == hw::ir2::Op::kConst;
    if (n.op == hw::ir2::Op::kAdd || n.op == hw::ir2::Op::kReg)
      for (const hw::ir2::Use& u : n.operands) carries_constant[id] = carries_constant[id] || carries_constant[u.node];
  }
  std::vector<HwFault> fs;
  for (size_t id = 0; id < g.nodes.size(); ++id)
    if (g.nodes[id].op == hw::ir2::Op::kAdd)
      for (size_t k = 0; k < g.nodes[id].operands.size(); ++k) {
        if (carries_constant[g.nodes[id].operands[k].node]) continue;
        HwFault f;
        f.kind = HwFault::Kind::kDropOperand, f.layer = 0, f.node = static_cast<int>(id), f.operand = static_cast<int>(k);
        fs.push_back(f);
      }
  ASSERT_FALSE(fs.empty());
  model::Model zero = m;
  auto& d0 = std::get<model::DenseLayer>(zero.layers[0].op);
  std::fill(d0.weight.w.begin(), d0.weight.w.end(), 0);
  const reference::Batch x = cosim::RandomInputs(m, 50, 5);
  const reference::Batch got = faults::Interpreter(m, c.graphs, fs).Run(x, 0, 0);
  const reference::Batch want = reference::Run(zero, x).layers[0];
  auto through_regs = [&](int id) {
    while (g.nodes[id].op == hw::ir2::Op::kReg) id = g.nodes[id].operands[0].node;
    return id;
  };
  int compared = 0;
  for (int o : g.Outputs()) {
    const int rq = through_regs(g.nodes[o].operands[0].node);
    if (g.nodes[rq].op != hw::ir2::Op::kRequant || g.nodes[through_regs(g.nodes[rq].operands[0].node)].op != hw::ir2::Op::kAdd) continue;
    ++compared;
    const int col = std::stoi(g.nodes[o].symbol.substr(1));
    for (long r = 0; r < x.rows(); ++r) EXPECT_EQ(got(r, col), want(r, col)) << "output " << col;
  }
  EXPECT_GT(compared, 0);
}

TEST(FaultSampling, DeterministicConfinedAndExact) {
  const model::Model m = Small();
  const driver::CompiledDesign c = CompileK(m, 1);
  const faults::Sites sites = faults::EnumerateSites(m, c.graphs);
  faults::SampleSpec spec;
  spec.level = faults::Level::kRegister;
  spec.rate = 0.3;
  const FaultSet a = faults::Sample(spec, sites, m, c.graphs, 7), b = faults::Sample(spec, sites, m, c.graphs, 7);
  const FaultSet other = faults::Sample(spec, sites, m, c.graphs, 8);
  EXPECT_EQ(faults::FormatFaultList(a, m, c.graphs), faults::FormatFaultList(b, m, c.graphs));
  EXPECT_NE(faults::FormatFaultList(a, m, c.graphs), faults::FormatFaultList(other, m, c.graphs));
  // Rate 0: nothing; rate 1: every site once.
  spec.rate = 0;
  EXPECT_EQ(faults::Sample(spec, sites, m, c.graphs, 1).size(), 0u);
  spec.rate = 1;
  EXPECT_EQ(faults::Sample(spec, sites, m, c.graphs, 1).size(), sites.register_bits.size());
  // Exactly `count` distinct adder bits, all in the named layer.
  spec.level = faults::Level::kAdder;
  spec.rate = 0;
  spec.count = 5;
  spec.layer = m.layers[1].name;
  const FaultSet f = faults::Sample(spec, sites, m, c.graphs, 3);
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
  const FaultSet w = faults::Sample(spec, sites, m, c.graphs, 1);
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
  const driver::CompiledDesign c = CompileK(m, 1);
  const faults::Sites sites = faults::EnumerateSites(m, c.graphs);
  faults::SampleSpec spec;
  spec.level = faults::Level::kRegister;
  spec.count = 6;
  FaultSet f = faults::Sample(spec, sites, m, c.graphs, 11);
  spec.level = faults::Level::kAdder;
  spec.adder_kind = "drop";
  spec.count = 2;
  const FaultSet d = faults::Sample(spec, sites, m, c.graphs, 12);
  f.hw.insert(f.hw.end(), d.hw.begin(), d.hw.end());
  const std::string text = faults::FormatFaultList(f, m, c.graphs);
  const FaultSet back = faults::ParseFaultList("# a comment\n\n" + text, "list.txt", m, c.graphs);
  EXPECT_EQ(faults::FormatFaultList(back, m, c.graphs), text);
  const reference::Batch x = cosim::RandomInputs(m, 100, 2);
  EXPECT_EQ(faults::Interpreter(m, c.graphs, f.hw).Run(x), faults::Interpreter(m, c.graphs, back.hw).Run(x));
}

TEST(FaultList, BadInputNamesFileLineAndField) {
  const model::Model m = Small();
  const driver::CompiledDesign c = CompileK(m, 1);
  const std::string l0 = m.layers[0].name;
  std::string adder, reg;
  int reg_width = 0;
  const hw::ir2::Graph& g = c.graphs[0];
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    if (g.nodes[id].op == hw::ir2::Op::kAdd) adder = faults::OpName(g, static_cast<int>(id));
    if (g.nodes[id].op == hw::ir2::Op::kReg) reg = faults::OpName(g, static_cast<int>(id)), reg_width = faults::OpWidth(g, static_cast<int>(id));
  }
  ASSERT_FALSE(adder.empty());
  ASSERT_FALSE(reg.empty());
  struct Case {
    std::string line, expect;
  };
  const std::vector<Case> cases = {
      {"weight nosuch 0 0 zero", "f.txt:1: field 'layer': no layer 'nosuch'"},
      {"weight " + l0 + " 999 0 zero", "f.txt:1: field 'row': row 999 out of range"},
      {"weight " + l0 + " 0 999 flip", "f.txt:1: field 'col': column 999 out of range"},
      {"weight " + l0 + " 0 0 melt", "f.txt:1: field 'kind': unknown weight fault 'melt'"},
      {"adder " + l0 + " n_nosuch stuck 0 1", "f.txt:1: field 'node': no op 'n_nosuch' in layer"},
      {"adder " + l0 + " n999999 stuck 0 1", "f.txt:1: field 'node': no op 'n999999'"},
      {"adder " + l0 + " " + reg + " stuck 0 1", "f.txt:1: field 'node': '" + reg + "' is not an adder (it is reg)"},
      {"register " + l0 + " " + adder + " 0 1", "f.txt:1: field 'node': '" + adder + "' is not a pipeline register (it is add)"},
      {"register " + l0 + " " + reg + " " + std::to_string(reg_width) + " 1",
       "f.txt:1: field 'bit': bit " + std::to_string(reg_width) + " out of range 0.." + std::to_string(reg_width - 1) + " of register '" + reg + "'"},
      {"register " + l0 + " " + reg + " 0 1 index", "f.txt:1: field 'kind': expected: register LAYER r<N> BIT 0|1"},
      {"adder " + l0 + " " + adder + " stuck 99 1", "f.txt:1: field 'bit': bit 99 out of range"},
      {"adder " + l0 + " " + adder + " stuck 0 2", "f.txt:1: field 'value'"},
      {"adder " + l0 + " " + adder + " drop 2", "f.txt:1: field 'operand'"},
      {"cosmic " + l0, "f.txt:1: field 'level': unknown fault level 'cosmic'"},
  };
  for (const Case& k : cases) {
    try {
      faults::ParseFaultList(k.line + "\n", "f.txt", m, c.graphs);
      ADD_FAILURE() << "accepted: " << k.line;
    } catch (const Error& e) {
      EXPECT_NE(Message(e).find(k.expect), std::string::npos) << k.line << "\n -> " << Message(e);
    }
  }
  // Two problems on two lines are reported together.
  try {
    faults::ParseFaultList("weight nosuch 0 0 zero\nadder " + l0 + " nope stuck 0 1\n", "f.txt", m, c.graphs);
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
  const driver::CompiledDesign c = CompileK(m, 1);
  const reference::Batch x = cosim::RandomInputs(m, 300, 9);
  // Labels = the fault-free outputs, so the fault-free accuracy is 100 %.
  const reference::Batch y = reference::Run(m, x).output();
  std::vector<int64_t> labels(y.data(), y.data() + y.rows());
  const faults::Evaluator ev(m, c.graphs, x, labels);
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
  const driver::CompiledDesign c = CompileK(m, 1);
  const FaultSet w = faults::ReadFaultList(std::string(HW_TEST_DATA) + "/faults/fashion_weights.txt", m, c.graphs);
  const FaultSet h = faults::ReadFaultList(std::string(HW_TEST_DATA) + "/faults/fashion_hardware.txt", m, c.graphs);
  EXPECT_EQ(w.weights.size(), 4u);
  EXPECT_EQ(h.hw.size(), 4u);
  EXPECT_EQ(h.hw.back().kind, HwFault::Kind::kStuckRegister);
  // The hardware faults change the classes of some test vectors (they were chosen to).
  const reference::Batch x = cosim::RandomInputs(m, 300, 1);
  EXPECT_NE(faults::Interpreter(m, c.graphs, h.hw).Run(x), faults::Interpreter(m, c.graphs, {}).Run(x));
}

}  // namespace
}  // namespace hw
