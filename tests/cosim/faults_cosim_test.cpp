// The fault model is true to the hardware: faults injected into the generated RTL (faults/rtl_inject.h) give,
// in Verilator, exactly the outputs the faulty interpreter predicts — for stuck adder bits, dropped operands,
// stuck register bits (reg ops of IR v2, on values and on compare-select index lines) and faulty weights, at
// several K. Each case also checks that its faults change some outputs, so a vacuous injection cannot pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <ostream>
#include <set>

#include "cosim/cosim.h"
#include "driver/generate.h"
#include "faults/faults.h"
#include "faults/rtl_check.h"
#include "faults/study.h"
#include "model/random_model.h"
#include "reference/reference.h"

namespace hw {
namespace {

namespace fs = std::filesystem;

struct Case {
  const char* name;
  faults::Level level;
  const char* adder_kind;
  long count;
  int k;
  bool argmax;
};

// gtest prints parameters in test names: a name, not the struct's bytes (which hold pointers).
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class FaultsCosim : public ::testing::TestWithParam<Case> {};

TEST_P(FaultsCosim, InjectedRtlEqualsFaultyInterpreter) {
  const Case& c = GetParam();
  model::RandomModelSpec spec;
  spec.min_layers = spec.max_layers = 2;
  spec.min_width = 6, spec.max_width = 12;
  spec.min_weight_bits = 3, spec.max_weight_bits = 8;
  spec.allow_argmax = c.argmax;
  model::Model m;
  for (uint64_t seed = 21;; ++seed) {
    m = model::RandomModel(spec, seed);
    if (!c.argmax || std::holds_alternative<model::ArgmaxLayer>(m.layers.back().op)) break;
  }
  driver::GenerateOptions o;
  o.adders_per_stage = c.k;
  o.threads = 1;
  const driver::CompiledDesign compiled = driver::Compile(m, o);
  const faults::Evaluator ev(m, compiled.graphs, cosim::RandomInputs(m, 400, 5), {});
  faults::SampleSpec s;
  s.level = c.level;
  s.count = c.count;
  s.adder_kind = c.adder_kind;
  // The first seed whose faults change some output (most do).
  faults::FaultSet f;
  for (uint64_t seed = 1; seed < 50; ++seed) {
    f = faults::Sample(s, ev.sites(), m, compiled.graphs, seed);
    if (ev.Evaluate(f).changed > 0) break;
  }
  ASSERT_GT(f.size(), 0u);
  if (c.argmax) {  // make sure a register of a compare-select's index result is among the stuck flip-flops
    const int last = static_cast<int>(m.layers.size()) - 1;
    const hw::ir2::Graph& g = compiled.graphs[last];
    auto index_reg = [&](const faults::HwFault& h) {
      const hw::ir2::Use& u = g.nodes[h.node].operands[0];
      return h.layer == last && g.nodes[u.node].op == hw::ir2::Op::kCmpSel && u.result == 1;
    };
    bool has_index = false;
    for (const faults::HwFault& h : f.hw) has_index |= index_reg(h);
    for (const auto& site : ev.sites().register_bits) {
      faults::HwFault h;
      h.kind = faults::HwFault::Kind::kStuckRegister;
      h.layer = site.layer, h.node = site.node, h.bit = 0, h.one = true;
      if (has_index || site.bit != 0 || !index_reg(h)) continue;
      bool listed = false;
      for (const faults::HwFault& o2 : f.hw) listed |= o2.layer == h.layer && o2.node == h.node && o2.bit == 0;
      if (!listed) f.hw.push_back(h), has_index = true;
    }
    ASSERT_TRUE(has_index);
  }
  const fs::path work = fs::path(HW_BINARY_DIR) / "test_out" / "faults_cosim" / c.name;
  fs::remove_all(work);
  const faults::RtlCheckResult r = faults::CheckInRtl(ev, f, compiled, o, work.string());
  EXPECT_EQ(r.failed, 0) << faults::FormatFaultList(f, m, compiled.graphs);
  EXPECT_EQ(r.passed, 400);
  EXPECT_GT(r.differ_from_clean, 0);
}

// A register whose source has other readers, every bit stuck at 1: only the register's readers may see it (an
// interpreter that forced the bits on the source would fail). Built, not drawn, so the case is always there.
TEST(FaultsCosimRegister, StuckRegisterIsSeenOnlyThroughIt) {
  model::RandomModelSpec spec;
  spec.min_layers = spec.max_layers = 1;
  spec.min_width = 8, spec.max_width = 12;
  spec.min_weight_bits = 5, spec.max_weight_bits = 8;
  spec.allow_argmax = false;
  for (uint64_t seed = 5;; ++seed) {
    ASSERT_LT(seed, 60u) << "no model with a register whose source has other readers";
    const model::Model m = model::RandomModel(spec, seed);
    driver::GenerateOptions o;
    o.adders_per_stage = 1;
    o.threads = 1;
    const driver::CompiledDesign compiled = driver::Compile(m, o);
    const hw::ir2::Graph& g = compiled.graphs[0];
    std::vector<int> readers(g.nodes.size(), 0);
    for (const hw::ir2::Node& n : g.nodes)
      for (const hw::ir2::Use& u : n.operands) ++readers[u.node];
    int reg = -1;
    for (size_t id = 0; id < g.nodes.size() && reg < 0; ++id) {
      const hw::ir2::Node& n = g.nodes[id];
      if (n.op == hw::ir2::Op::kReg && g.nodes[n.operands[0].node].op != hw::ir2::Op::kConst && readers[n.operands[0].node] >= 2)
        reg = static_cast<int>(id);
    }
    if (reg < 0) continue;
    faults::FaultSet f;
    for (int b = 0; b < faults::OpWidth(g, reg); ++b) {
      faults::HwFault h;
      h.kind = faults::HwFault::Kind::kStuckRegister;
      h.layer = 0, h.node = reg, h.bit = b, h.one = true;
      f.hw.push_back(h);
    }
    const faults::Evaluator ev(m, compiled.graphs, cosim::RandomInputs(m, 300, 7), {});
    if (ev.Evaluate(f).changed == 0) continue;
    const fs::path work = fs::path(HW_BINARY_DIR) / "test_out" / "faults_cosim" / "register";
    fs::remove_all(work);
    const faults::RtlCheckResult r = faults::CheckInRtl(ev, f, compiled, o, work.string());
    EXPECT_EQ(r.failed, 0) << faults::FormatFaultList(f, m, compiled.graphs);
    EXPECT_GT(r.differ_from_clean, 0);
    return;
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, FaultsCosim,
                         ::testing::Values(Case{"adder_stuck_k1", faults::Level::kAdder, "stuck", 6, 1, false},
                                           Case{"adder_many_k1", faults::Level::kAdder, "stuck", 40, 1, false},
                                           Case{"adder_drop_k2", faults::Level::kAdder, "drop", 3, 2, false},
                                           Case{"register_k1", faults::Level::kRegister, "stuck", 8, 1, false},
                                           Case{"register_argmax_k1", faults::Level::kRegister, "stuck", 30, 1, true},
                                           Case{"weight_k3", faults::Level::kWeight, "stuck", 4, 3, false}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace hw
