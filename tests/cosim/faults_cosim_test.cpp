// The fault model is true to the hardware: faults injected into the generated RTL (faults/rtl_inject.h) give,
// in Verilator, exactly the outputs the faulty interpreter predicts — for stuck adder bits, dropped operands,
// stuck register bits (value and compare-select index lines) and faulty weights, at several K. Each case also
// checks that its faults change some outputs, so a vacuous injection cannot pass.
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
#include "schedule/pipeline.h"

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
  const driver::CompiledIrV1 compiled = driver::CompileIrV1(m, o);
  const faults::Evaluator ev(m, compiled.design, cosim::RandomInputs(m, 400, 5), {});
  faults::SampleSpec s;
  s.level = c.level;
  s.count = c.count;
  s.adder_kind = c.adder_kind;
  // The first seed whose faults change some output (most do).
  faults::FaultSet f;
  for (uint64_t seed = 1; seed < 50; ++seed) {
    f = faults::Sample(s, ev.sites(), m, compiled.design, seed);
    if (ev.Evaluate(f).changed > 0) break;
  }
  ASSERT_GT(f.size(), 0u);
  if (c.argmax) {  // make sure a compare-select index line is among the stuck flip-flops
    bool has_index = false;
    for (const faults::HwFault& h : f.hw) has_index |= h.index_line;
    for (const auto& site : ev.sites().register_bits)
      if (!has_index && site.index_line && site.rank == 1) {
        faults::HwFault h;
        h.kind = faults::HwFault::Kind::kStuckRegister;
        h.layer = site.layer, h.node = site.node, h.rank = site.rank, h.bit = site.bit, h.index_line = true, h.one = true;
        f.hw.push_back(h);
        has_index = true;
      }
    ASSERT_TRUE(has_index);
  }
  const fs::path work = fs::path(HW_BINARY_DIR) / "test_out" / "faults_cosim" / c.name;
  fs::remove_all(work);
  const faults::RtlCheckResult r = faults::CheckInRtl(ev, f, o, work.string());
  EXPECT_EQ(r.failed, 0) << faults::FormatFaultList(f, m, compiled.design);
  EXPECT_EQ(r.passed, 400);
  EXPECT_GT(r.differ_from_clean, 0);
}

// A delay line read at two taps t1 < t2 with every bit of rank t1 + 1 stuck at 1: the reader at t2 must see the
// forced value and the reader at t1 must not. (Random draws rarely separate the two, so this case is built.)
TEST(FaultsCosimTaps, StuckRankIsSeenOnlyByLaterTaps) {
  model::RandomModelSpec spec;
  spec.min_layers = spec.max_layers = 1;
  spec.min_width = 8, spec.max_width = 12;
  spec.min_weight_bits = 5, spec.max_weight_bits = 8;
  spec.allow_argmax = false;
  for (uint64_t seed = 5;; ++seed) {
    const model::Model m = model::RandomModel(spec, seed);
    driver::GenerateOptions o;
    o.adders_per_stage = 1;
    o.threads = 1;
    const driver::CompiledIrV1 compiled = driver::CompileIrV1(m, o);
    const ir::Module& mod = compiled.design.layers[0];
    std::vector<std::set<int>> taps(mod.nodes.size());
    for (const ir::Node& n : mod.nodes)
      for (const ir::Operand& op : n.ops) taps[op.node].insert(schedule::DelayFor(mod, op.node, n.stage));
    int node = -1, t1 = 0;
    for (size_t id = 0; id < mod.nodes.size() && node < 0; ++id)
      if (mod.nodes[id].kind != ir::NodeKind::kConst && taps[id].size() >= 2) node = static_cast<int>(id), t1 = *taps[id].begin();
    if (node < 0) {
      ASSERT_LT(seed, 40u) << "no model with a delay line read at two taps";
      continue;
    }
    faults::FaultSet f;
    for (int b = 0; b < mod.nodes[node].width; ++b) {
      faults::HwFault h;
      h.kind = faults::HwFault::Kind::kStuckRegister;
      h.layer = 0, h.node = node, h.rank = t1 + 1, h.bit = b, h.one = true;
      f.hw.push_back(h);
    }
    const faults::Evaluator ev(m, compiled.design, cosim::RandomInputs(m, 300, 7), {});
    if (ev.Evaluate(f).changed == 0) continue;
    const fs::path work = fs::path(HW_BINARY_DIR) / "test_out" / "faults_cosim" / "taps";
    fs::remove_all(work);
    const faults::RtlCheckResult r = faults::CheckInRtl(ev, f, o, work.string());
    EXPECT_EQ(r.failed, 0) << faults::FormatFaultList(f, m, compiled.design);
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
