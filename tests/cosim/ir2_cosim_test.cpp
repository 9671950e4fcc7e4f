// IR v2 designs written in IR text (tests/data/ir2), lowered, emitted, built with Verilator and run against
// the IR interpreter: 12,000 token slots each (about 10 % bubbles), random clock-enable stalls, K = 1 and 2.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <random>

#include "common/file_util.h"
#include "cosim/cosim.h"
#include "cosim/ir2_cosim.h"
#include "emit/ir2_verilog.h"
#include "ir2/text.h"
#include "passes/ir2_passes.h"

namespace hw::cosim {
namespace {

struct Param {
  const char* design;
  int k;
};

// Keeps ctest's test names free of gtest's byte dump of the parameter.
void PrintTo(const Param& p, std::ostream* os) { *os << p.design << " K=" << p.k; }

class Ir2Cosim : public ::testing::TestWithParam<Param> {};

TEST_P(Ir2Cosim, MatchesTheInterpreterWithStalls) {
  const Param p = GetParam();
  const std::string text = ReadFileOrThrow(std::string(HW_TEST_DATA) + "/ir2/" + p.design + ".ir", "ir");
  hw::ir2::Graph g = hw::ir2::Parse(text, p.design);
  passes::ir2::PassManager pm(passes::ir2::DefaultPipeline(), {p.k});
  pm.Run(g);
  std::mt19937_64 rng(1234 + p.k);
  std::vector<Ir2Token> tokens(12000);
  long valid = 0;
  for (Ir2Token& t : tokens) {
    t.valid = rng() % 10 != 0;
    valid += t.valid;
    for (int i : g.Inputs()) {
      const auto ty = g.nodes[i].type;
      const int pick = static_cast<int>(rng() % 8);
      t.inputs.push_back(pick == 0 ? ty.min() : pick == 1 ? ty.max()
                                              : std::uniform_int_distribution<int64_t>(ty.min(), ty.max())(rng));
    }
  }
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "ir2_cosim" / (std::string(p.design) + "_k" + std::to_string(p.k));
  const Ir2CosimResult r = CosimIr2(g, tokens, dir.string(), /*stall_seed=*/77);
  EXPECT_EQ(r.failed, 0) << r.log;
  EXPECT_EQ(r.passed, valid) << r.log;
  EXPECT_NE(r.log.find("stalled"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Designs, Ir2Cosim,
                         ::testing::Values(Param{"lut", 1}, Param{"mul", 1}, Param{"memory", 1}, Param{"accumulator", 1},
                                           Param{"residual", 1}, Param{"accumulator", 3}, Param{"residual", 2}, Param{"memory", 2}, Param{"bits", 1}, Param{"bits", 3},
                                           Param{"kvcache", 1}, Param{"kvcache", 2}, Param{"kvrows", 1}, Param{"kvrows", 3}, Param{"scaled", 1}, Param{"scaled", 2}),
                         [](const auto& info) { return std::string(info.param.design) + "_k" + std::to_string(info.param.k); });

}  // namespace
}  // namespace hw::cosim

// The language-model kernels lowered to IR v2 (passes/lower_lm), in Verilator against the interpreter: a
// random model's RMSNorm, attention probabilities under a causal mask and the sampled/greedy token choice.
#include "model/lm_model_io.h"
#include "model/random_lm.h"
#include "passes/lower_lm.h"

namespace hw::cosim {
namespace {

// A random language model (model::RandomLmSpec defaults: d 16, context 8, one block) from `seed`.
model::LmModel RandomModel(uint64_t seed) {
  const model::RandomLmFiles f = model::RandomLm(model::RandomLmSpec{}, seed);
  return model::ParseLmModel(f.manifest, "lm.json", model::SerializeSafetensors(f.tensors), "lm.safetensors");
}
// The same model lowered whole with 4 adder levels per stage.
hw::ir2::Graph LowerK4(const model::LmModel& m) {
  passes::lm::LmLowerOptions o;
  o.adders_per_stage = 4;
  return passes::lm::LowerLmModel(m, o);
}

TEST(Ir2CosimLm, KernelsMatchTheInterpreter) {
  const model::LmModel m = RandomModel(11);
  auto op = [&](const std::string& n) -> const model::LmOp& {
    for (const auto& o : m.ops)
      if (o.name == n) return o;
    throw std::runtime_error(n);
  };
  hw::ir2::Graph g;
  g.name = "lm_kernels";
  g.streams = 1;
  passes::lm::Builder b(g);
  passes::lm::UseVec x, scores, logits, valid;
  for (int i = 0; i < 16; ++i) x.push_back(b.Input("x" + std::to_string(i), 8, true));
  for (int j = 0; j < 8; ++j) scores.push_back(b.Input("s" + std::to_string(j), 16, true));
  const auto pos = b.Input("pos", 3, false);
  for (int j = 0; j < m.vocab_size(); ++j) logits.push_back(b.Input("l" + std::to_string(j), 12, true));
  const auto rng = b.Input("rng", 32, false);
  for (int j = 0; j < 8; ++j) valid.push_back(b.Cmp(b.Const(j), pos, "le"));
  const auto y = passes::lm::LowerRmsNorm(b, op("b0_norm1"), x);
  const auto p = passes::lm::LowerProbabilities(b, op("b0_attn"), scores, valid);
  for (size_t i = 0; i < y.size(); ++i) b.Output("y" + std::to_string(i), y[i]);
  for (size_t j = 0; j < p.size(); ++j) b.Output("p" + std::to_string(j), p[j]);
  const auto r = passes::lm::LowerXorshift32(b, rng);
  b.Output("greedy", passes::lm::LowerArgmax(b, logits));
  b.Output("sampled", passes::lm::LowerSampled(b, m.sample(), logits, r));
  b.Output("next_rng", r);
  passes::ir2::PassManager pm(passes::ir2::DefaultPipeline(), {2});
  pm.Run(g);
  std::mt19937_64 gen(5);
  std::vector<Ir2Token> tokens(4000);
  long valid_tokens = 0;
  for (Ir2Token& t : tokens) {
    t.valid = gen() % 10 != 0;
    valid_tokens += t.valid;
    const int amp = gen() % 2 ? 127 : 6;
    for (int i = 0; i < 16; ++i) t.inputs.push_back(std::uniform_int_distribution<int>(-amp, std::min(amp, 127))(gen));
    for (int j = 0; j < 8; ++j) t.inputs.push_back(std::uniform_int_distribution<int>(-3000, 3000)(gen));
    t.inputs.push_back(gen() % 8);
    for (int j = 0; j < m.vocab_size(); ++j) t.inputs.push_back(std::uniform_int_distribution<int>(-2048, 2047)(gen));
    t.inputs.push_back(static_cast<int64_t>(gen() & 0xFFFFFFFFu));
  }
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "ir2_cosim" / "lm_kernels";
  const Ir2CosimResult res = CosimIr2(g, tokens, dir.string(), 99);
  EXPECT_EQ(res.failed, 0) << res.log;
  EXPECT_EQ(res.passed, valid_tokens) << res.log;
}

}  // namespace
}  // namespace hw::cosim

// The whole random language model (d 16, 1 block, 2 heads, context 8) printed into RTL: S interleaved streams
// with staggered prompts, bubbles and random ce stalls; every output of every slot (tokens, positions, taps)
// equals the IR interpreter, whose tokens equal the C++ reference (unit test LowerLmModel).
#include "cosim/lm_cosim.h"
#include <cstdlib>
#include <sys/wait.h>
#include "reference/lm_reference.h"

namespace hw::cosim {
namespace {

// The whole model under a schedule, greedy and sampled: the interpreter equals the reference, the RTL equals the
// interpreter slot by slot.
void CosimWholeModel(const model::LmModel& m, const hw::ir2::Graph& g, const std::string& tag) {
  std::mt19937_64 rng(8);
  std::vector<LmStreamPlan> plans;
  std::vector<std::vector<int>> prompts;
  for (int s = 0; s < g.streams; ++s) {
    std::vector<int> p(1 + s % 5);
    for (int& t : p) t = static_cast<int>(rng() % m.vocab_size());
    plans.push_back({p, s % 4});
    prompts.push_back(p);
  }
  for (bool greedy : {true, false}) {
    const LmSchedule sched = MakeLmSchedule(g, m, plans, 4242, greedy, 8, 9);
    const LmRun run = RunLmInterpreter(g, plans, sched);
    const auto ref = reference::Generate(m, prompts, m.context + 1, greedy ? std::nullopt : std::optional<uint64_t>(4242));
    for (size_t s = 0; s < plans.size(); ++s) ASSERT_EQ(run.generated[s], ref[s].generated) << "stream " << s;
    const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "ir2_cosim" / (tag + (greedy ? "_greedy" : "_sampled"));
    const Ir2CosimResult res = CosimIr2(g, sched.slots, dir.string(), greedy ? 3 : 4);
    EXPECT_EQ(res.failed, 0) << res.log;
    long valid = 0;
    for (const auto& t : sched.slots) valid += t.valid;
    EXPECT_EQ(res.passed, valid) << res.log;
    std::printf("%s %s: %d streams, latency %d, %zu slots, %ld active tokens; verilator build %.1f s\n", tag.c_str(), greedy ? "greedy" : "sampled",
                g.streams, g.latency, sched.slots.size(), run.active_tokens, res.build_seconds);
  }
}

TEST(Ir2CosimLm, WholeModelGreedyAndSampled) {
  const model::LmModel m = RandomModel(31);
  CosimWholeModel(m, LowerK4(m), "lm");
}

// Through the command line: `generate --clock-ns T --target asic` records the clock target in interface.json, and
// `sim` lowers the same design again from it (it refuses RTL that differs), builds it and checks every token.
TEST(Ir2CosimLm, ClockedDesignThroughTheCommandLine) {
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "lm_cli_clocked";
  std::filesystem::remove_all(dir);
  model::WriteRandomLm(model::RandomLmSpec{}, 4, dir.string());
  const std::string m = (dir / "model.json").string(), rtl = (dir / "rtl").string();
  const std::string hw = std::string(HW_BINARY_DIR) + "/hardwire ";
  ASSERT_EQ(std::system((hw + "generate " + m + " -o " + rtl + " --clock-ns 3 --target asic --fo4-ps 30 > /dev/null").c_str()), 0);
  const std::string iface = ReadFileOrThrow(rtl + "/interface.json", "interface");
  EXPECT_NE(iface.find("\"fo4_ps\": 30"), std::string::npos) << iface;
  const std::string log = (dir / "sim.log").string();
  const int status = std::system((hw + "sim " + m + " --rtl " + rtl + " --build-dir " + (dir / "simdir").string() +
                                  " --prompt ab --prompt ca --greedy > " + log + " 2>&1").c_str());
  const std::string out = ReadFileOrThrow(log, "sim log");
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find(" passed, 0 failed (tokens"), std::string::npos) << out;
  EXPECT_EQ(out.find("0 passed, 0 failed (tokens"), std::string::npos) << out;
}

// The same model scheduled by a clock target under the asic delay model (multipliers, tables and the K/V reads
// placed by delay, sink moving ops within the clock).
TEST(Ir2CosimLm, WholeModelUnderAClockTarget) {
  const model::LmModel m = RandomModel(31);
  passes::lm::LmLowerOptions o;
  o.clock_ns = 1.5;
  o.asic = true;
  CosimWholeModel(m, passes::lm::LowerLmModel(m, o), "lm_asic_1500ps");
}

}  // namespace
}  // namespace hw::cosim

// yosys reads the language model's Verilog and infers every K/V row array as a memory: one $mem_v2 per (K or V,
// position) with words of d x 8 bits and one word per stream (issue 11: "infers the KV arrays as memories").

namespace hw::cosim {
namespace {

TEST(Ir2CosimLm, YosysInfersTheKvRowsAsMemories) {
  const model::RandomLmSpec spec;
  const hw::ir2::Graph g = LowerK4(RandomModel(3));
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "lm_yosys";
  std::filesystem::create_directories(dir);
  const auto v = dir / (g.name + ".v");
  WriteFileOrThrow(v.string(), emit::EmitIr2Verilog(g));
  const int word = spec.d * 8;  // K and V values are 8-bit in the random LM
  std::string out;
  const int rc = RunCommand(fmt::format("cd {} && yosys -q -p 'read_verilog {}; hierarchy -check -top {}; proc; opt_clean; memory -nomap; "
                                        "tee -o kv.txt select -list t:$mem_v2 r:WIDTH={} %i r:SIZE={} %i; tee -o all.txt stat' 2>&1",
                                        ShellQuote(dir.string()), ShellQuote(v.string()), g.name, word, g.streams),
                            &out, false);
  ASSERT_EQ(rc, 0) << out;
  const std::string kv = ReadFileOrThrow((dir / "kv.txt").string(), "yosys");
  int rows = 0;
  for (size_t p = kv.find("st_"); p != std::string::npos; p = kv.find("st_", p + 1)) ++rows;
  EXPECT_EQ(rows, 2 * spec.blocks * spec.context) << kv;  // a K and a V memory per block and position
  EXPECT_NE(ReadFileOrThrow((dir / "all.txt").string(), "yosys").find("$mem_v2"), std::string::npos);
}

}  // namespace
}  // namespace hw::cosim

// A stream that has filled its context raises `done` and stays silent until it is given a new prompt; the new
// prompt restarts it at position 0 with a freshly seeded random state, while the other streams go on. Two
// sessions per stream, back to back, with bubbles and clock-enable stalls: every token of both sessions equals
// the reference, and the RTL equals the interpreter on every output of every slot.
namespace hw::cosim {
namespace {

TEST(Ir2CosimLm, ANewPromptAfterDoneRestartsTheStream) {
  const model::LmModel m = RandomModel(41);
  const hw::ir2::Graph g = LowerK4(m);
  std::mt19937_64 rng(17);
  std::vector<LmStreamPlan> first, second;
  std::vector<std::vector<int>> p1, p2;
  for (int s = 0; s < g.streams; ++s) {
    for (auto* p : {&p1, &p2}) {
      p->emplace_back(1 + rng() % 3);
      for (int& t : p->back()) t = static_cast<int>(rng() % m.vocab_size());
    }
    first.push_back({p1.back(), s % 3});
    second.push_back({p2.back(), static_cast<int>(rng() % 2)});
  }
  const uint32_t seed = 99;
  LmSchedule sched = MakeLmSchedule(g, m, first, seed, /*greedy=*/false, 5, 1);
  ASSERT_EQ(sched.slots.size() % static_cast<size_t>(g.streams), 0u);  // whole rounds: the second session starts at slot 0
  const LmSchedule again = MakeLmSchedule(g, m, second, seed, false, 5, 2);
  sched.slots.insert(sched.slots.end(), again.slots.begin(), again.slots.end());
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "ir2_cosim" / "lm_reprompt";
  const Ir2CosimResult res = CosimIr2(g, sched.slots, dir.string(), /*stall_seed=*/5, /*dump=*/true);
  ASSERT_EQ(res.failed, 0) << res.log;

  const auto ref1 = reference::Generate(m, p1, m.context + 1, seed), ref2 = reference::Generate(m, p2, m.context + 1, seed);
  const auto outs = g.Outputs();
  auto port = [&](const std::string& name) {
    for (size_t k = 0; k < outs.size(); ++k)
      if (g.nodes[outs[k]].symbol == name) return k;
    throw std::runtime_error(name);
  };
  const size_t o_token = port("token"), o_valid = port("token_valid"), o_stream = port("stream"), o_pos = port("position"), o_done = port("done");
  std::vector<std::array<std::vector<int>, 2>> got(g.streams);
  std::vector<int> session(g.streams, 0);
  for (const std::vector<int64_t>& y : res.outputs) {
    if (!y[o_valid]) continue;
    const int s = static_cast<int>(y[o_stream]), pos = static_cast<int>(y[o_pos]);
    ASSERT_LT(session[s], 2) << "stream " << s << " produced a token after its second session was done";
    const auto& prompt = session[s] == 0 ? p1[s] : p2[s];
    if (pos + 1 >= static_cast<int>(prompt.size())) got[s][session[s]].push_back(static_cast<int>(y[o_token]));
    if (y[o_done]) ++session[s];
  }
  for (int s = 0; s < g.streams; ++s) {
    EXPECT_EQ(session[s], 2) << "stream " << s;
    EXPECT_EQ(got[s][0], ref1[s].generated) << "stream " << s << ", first session";
    EXPECT_EQ(got[s][1], ref2[s].generated) << "stream " << s << ", second session";
  }
}

}  // namespace
}  // namespace hw::cosim
