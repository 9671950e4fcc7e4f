// Faults in the language model (generator/faults/lm_study.h) on small random models: the fault-free bit-level
// run of the lowered graph equals the C++ reference exactly (logits, greedy tokens, generated tokens); a stuck
// K/V cell changes its own stream and no other; a stuck table entry changes what reads it; draws are
// deterministic and exact; the LM fault list is parsed and its bad lines are refused with file, line and field.
// Verilator agrees with these faults in tests/cosim/faults_lm_cosim_test.cpp.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "common/diag.h"
#include "faults/lm_study.h"
#include "model/lm_model_io.h"
#include "model/random_lm.h"
#include "passes/lower_lm.h"

namespace hw {
namespace {

model::LmModel RandomLm(uint64_t seed) {
  const model::RandomLmFiles f = model::RandomLm(model::RandomLmSpec{}, seed);
  return model::ParseLmModel(f.manifest, "lm.json", model::SerializeSafetensors(f.tensors), "lm.safetensors");
}

hw::ir2::Graph Lower(const model::LmModel& m, int k) {
  passes::lm::LmLowerOptions o;
  o.adders_per_stage = k;
  return passes::lm::LowerLmModel(m, o);
}

std::vector<std::vector<int>> Windows(const model::LmModel& m, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int>> w(n);
  for (auto& v : w)
    for (int t = 0; t <= m.context; ++t) v.push_back(static_cast<int>(rng() % m.vocab_size()));
  return w;
}

std::string Message(const Error& e) {
  std::string s;
  for (const std::string& m : e.messages()) s += m + "\n";
  return s;
}

TEST(FaultLm, FaultFreeGraphRunEqualsTheReference) {
  for (uint64_t seed : {1, 2, 3}) {
    const model::LmModel m = RandomLm(seed);
    const hw::ir2::Graph g = Lower(m, 1 + static_cast<int>(seed % 3));
    const int w = std::min(g.streams, 4);
    const faults::LmEvaluator ev(m, g, Windows(m, w, seed), 3);
    const faults::LmEvaluator::Run hw_run = ev.RunHardware({});
    const faults::LmEvaluator::Run ref = ev.RunReference(m);
    EXPECT_EQ(hw_run.logits, ref.logits) << "seed " << seed;
    EXPECT_EQ(hw_run.greedy, ref.greedy) << "seed " << seed;
    EXPECT_EQ(hw_run.generated, ref.generated) << "seed " << seed;
    ASSERT_EQ(ref.generated[0].size(), static_cast<size_t>(m.context - 3 + 1));
    EXPECT_EQ(ev.clean().changed, 0.0);
  }
}

TEST(FaultLm, StuckKvCellChangesItsOwnStreamOnly) {
  const model::LmModel m = RandomLm(4);
  const hw::ir2::Graph g = Lower(m, 2);
  ASSERT_GE(g.streams, 3);
  const faults::LmEvaluator ev(m, g, Windows(m, 3, 9), 3);
  // Every bit of every lane of stream 1's K row of position 0 in the first attention op, stuck at 1.
  int state = -1;
  for (size_t s = 0; s < g.states.size(); ++s)
    if (g.states[s].name.size() > 3 && g.states[s].name.substr(g.states[s].name.size() - 3) == "_k0") state = static_cast<int>(s);
  ASSERT_GE(state, 0);
  std::vector<faults::HwFault> f;
  for (int lane = 0; lane < g.states[state].lanes; ++lane)
    for (int b = 0; b < g.states[state].type.width; ++b) {
      faults::HwFault h;
      h.kind = faults::HwFault::Kind::kStuckState, h.layer = 0, h.node = state, h.stream = 1, h.lane = lane, h.bit = b, h.one = true;
      f.push_back(h);
    }
  const auto clean = ev.RunHardware({});
  const auto bad = ev.RunHardware(f);
  EXPECT_EQ(bad.logits[0], clean.logits[0]);
  EXPECT_EQ(bad.logits[2], clean.logits[2]);
  EXPECT_EQ(bad.logits[1][0], clean.logits[1][0]);  // position 0 reads its own k, not the stored row
  EXPECT_NE(bad.logits[1], clean.logits[1]);
}

TEST(FaultLm, StuckTableEntryChangesTheTokensThatReadIt) {
  const model::LmModel m = RandomLm(5);
  const hw::ir2::Graph g = Lower(m, 1);
  const auto windows = Windows(m, 2, 3);
  const faults::LmEvaluator ev(m, g, windows, 3);
  // The token embedding's column 0: flip the top bit of the entry of window 0's first token.
  int lut = -1;
  for (size_t id = 0; id < g.nodes.size() && lut < 0; ++id)
    if (g.nodes[id].op == hw::ir2::Op::kLut && g.nodes[id].group >= 0 && g.groups[g.nodes[id].group] == "tok_emb") lut = static_cast<int>(id);
  ASSERT_GE(lut, 0);
  const int entry = windows[0][0];
  const int w = faults::OpWidth(g, lut);
  faults::HwFault h;
  h.kind = faults::HwFault::Kind::kStuckTable, h.layer = 0, h.node = lut, h.entry = entry, h.bit = w - 1;
  h.one = ((static_cast<uint64_t>(g.nodes[lut].table[entry]) >> (w - 1)) & 1) == 0;  // the value it does not have
  const auto clean = ev.RunHardware({});
  const auto bad = ev.RunHardware({h});
  EXPECT_NE(bad.logits[0][0], clean.logits[0][0]);
}

TEST(FaultLm, DrawsAreDeterministicAndExact) {
  const model::LmModel m = RandomLm(6);
  const hw::ir2::Graph g = Lower(m, 2);
  const faults::LmEvaluator ev(m, g, Windows(m, 2, 1), 3);
  for (faults::Level level : {faults::Level::kAdder, faults::Level::kRegister, faults::Level::kMemory, faults::Level::kTable}) {
    const faults::FaultSet a = faults::SampleLm(ev, level, "", 0, 7, 11), b = faults::SampleLm(ev, level, "", 0, 7, 11);
    EXPECT_EQ(faults::FormatLmHwFaults(a.hw, ev.graphs()), faults::FormatLmHwFaults(b.hw, ev.graphs()));
    EXPECT_EQ(a.hw.size(), 7u) << faults::ToString(level);
    faults::CheckHwFaults(a.hw, ev.graphs(), "draw");  // distinct, valid sites
    // The list round-trips through the parser.
    const faults::FaultSet back = faults::ParseLmFaultList(faults::FormatLmHwFaults(a.hw, ev.graphs()), "l.txt", ev.graphs());
    EXPECT_EQ(faults::FormatLmHwFaults(back.hw, ev.graphs()), faults::FormatLmHwFaults(a.hw, ev.graphs()));
    EXPECT_EQ(faults::SampleLm(ev, level, "", 0.0, -1, 3).size(), 0u);
  }
  const faults::FaultSet w = faults::SampleLm(ev, faults::Level::kWeight, "", 1.0, -1, 2);
  EXPECT_EQ(w.weights.size(), ev.sites().weights.size());
  // Confined to a unit: every fault lies in it.
  const std::string unit = "block 0 MLP";
  const faults::FaultSet c = faults::SampleLm(ev, faults::Level::kAdder, unit, 0, 20, 5);
  std::set<int> nodes;
  for (const auto& b : ev.sites().adder_bits)
    if (ev.sites().units[b.unit] == unit) nodes.insert(b.node);
  for (const faults::HwFault& h : c.hw) EXPECT_TRUE(nodes.count(h.node)) << h.node;
  EXPECT_THROW(faults::SampleLm(ev, faults::Level::kAdder, "", 1.5, -1, 1), Error);
  EXPECT_THROW(faults::SampleLm(ev, faults::Level::kAdder, "no such unit", 0.1, -1, 1), Error);
}

TEST(FaultLm, BadListLinesNameFileLineAndField) {
  const model::LmModel m = RandomLm(7);
  const hw::ir2::Graph g = Lower(m, 2);
  const faults::Graphs d{g};
  int lut = -1;
  for (size_t id = 0; id < g.nodes.size() && lut < 0; ++id)
    if (g.nodes[id].op == hw::ir2::Op::kLut) lut = static_cast<int>(id);
  ASSERT_GE(lut, 0);
  const std::string L = g.name, st = g.states.back().name;
  struct Case {
    std::string line, expect;
  };
  const std::vector<Case> cases = {
      {"memory " + L + " nosuch 0 0 0 1", "l.txt:1: field 'state': no per-stream state 'nosuch'"},
      {"memory " + L + " " + st + " " + std::to_string(g.streams) + " 0 0 1", "l.txt:1: field 'stream': stream " + std::to_string(g.streams) + " out of range"},
      {"memory " + L + " " + st + " 0 9999 0 1", "l.txt:1: field 'lane': lane 9999 out of range"},
      {"memory " + L + " " + st + " 0 0 99 1", "l.txt:1: field 'bit': bit 99 out of range"},
      {"table " + L + " n" + std::to_string(lut) + " 99999 0 1", "l.txt:1: field 'entry': entry 99999 out of range"},
      {"table " + L + " n0 0 0 1", "l.txt:1: field 'node': 'n0' is not a lookup table"},
      {"weight " + L + " 0 0 zero", "l.txt:1: field 'level': weight faults of a language model are drawn at random"},
      {"adder nosuch n1 stuck 0 1", "l.txt:1: field 'layer': no layer 'nosuch'"},
  };
  for (const Case& k : cases) {
    try {
      faults::ParseLmFaultList(k.line + "\n", "l.txt", d);
      ADD_FAILURE() << "accepted: " << k.line;
    } catch (const Error& e) {
      EXPECT_NE(Message(e).find(k.expect), std::string::npos) << k.line << "\n -> " << Message(e);
    }
  }
}

}  // namespace
}  // namespace hw
