// The whole language model lowered to IR v2 and run by the IR interpreter over interleaved streams: every
// stream's tokens equal the C++ reference's (greedy and sampled), with prompts starting at different times and
// bubbles in the slot sequence; the residual-stream taps equal the reference's.
#include <gtest/gtest.h>

#include <random>

#include "cosim/lm_cosim.h"
#include "ir2/op_table.h"
#include "ir2/timing.h"
#include "ir2/verify.h"
#include "model/lm_model_io.h"
#include "model/random_lm.h"
#include "passes/ir2_passes.h"
#include "passes/lower_lm.h"
#include "reference/lm_reference.h"

namespace hw::cosim {
namespace {

model::LmModel Model(uint64_t seed, model::RandomLmSpec spec = {}) {
  const model::RandomLmFiles f = model::RandomLm(spec, seed);
  return model::ParseLmModel(f.manifest, "lm.json", model::SerializeSafetensors(f.tensors), "lm.safetensors");
}

// The lowered graph, run by the interpreter over interleaved streams, generates what the reference generates.
void ExpectInterpreterEqualsReference(const model::LmModel& m, const hw::ir2::Graph& g) {
  ASSERT_GE(g.streams, 2);
  for (const auto& l : hw::ir2::FeedbackLoops(g)) EXPECT_LE(l.clocks(), g.streams) << l.symbol;
  std::mt19937_64 rng(3);
  std::vector<LmStreamPlan> plans;
  std::vector<std::vector<int>> prompts;
  for (int s = 0; s < std::min(g.streams, 6); ++s) {
    std::vector<int> p(1 + s % 4);
    for (int& t : p) t = static_cast<int>(rng() % m.vocab_size());
    plans.push_back({p, s % 3});
    prompts.push_back(p);
  }
  for (bool greedy : {true, false}) {
    const LmSchedule sched = MakeLmSchedule(g, m, plans, 777, greedy, 10, 5);
    const LmRun run = RunLmInterpreter(g, plans, sched);
    const auto ref = reference::Generate(m, prompts, m.context + 1, greedy ? std::nullopt : std::optional<uint64_t>(777));
    for (size_t s = 0; s < plans.size(); ++s) EXPECT_EQ(run.generated[s], ref[s].generated) << (greedy ? "greedy" : "sampled") << " stream " << s;
    // Taps: the sum of each residual value at every position equals the reference's.
    for (size_t s = 0; s < plans.size(); ++s) {
      reference::LmStream st(m);
      std::vector<int> fed = prompts[s];
      fed.insert(fed.end(), ref[s].generated.begin(), ref[s].generated.end());
      for (int pos = 0; pos < m.context; ++pos) {
        st.Step(fed[pos]);
        const auto bounds = m.BlockBoundaries();
        for (size_t k = 0; k < bounds.size(); ++k) {
          int64_t sum = 0;
          for (int64_t v : st.value(bounds[k])) sum += v;
          EXPECT_EQ(run.taps[s][pos][k], sum) << "stream " << s << " position " << pos << " tap " << run.tap_names[k];
        }
      }
    }
  }
}

TEST(LowerLmModel, InterpreterEqualsTheReferenceStreamByStream) {
  const model::LmModel m = Model(21);
  passes::lm::LmLowerOptions o;
  o.adders_per_stage = 4;
  ExpectInterpreterEqualsReference(m, passes::lm::LowerLmModel(m, o));
}

// Under a clock target (fpga and asic delay models) every stage's logic fits the clock, the feedback loops fit
// the stream count, and the tokens are the reference's.
TEST(LowerLmModel, ClockTargetsFitAndComputeTheSame) {
  const model::LmModel m = Model(21);
  for (const auto& [clock, asic] : {std::pair{12.0, false}, std::pair{18.0, false}, std::pair{1.5, true}, std::pair{3.0, true}}) {
    passes::lm::LmLowerOptions o;
    o.clock_ns = clock;
    o.asic = asic;
    const hw::ir2::Graph g = passes::lm::LowerLmModel(m, o);
    passes::ir2::PassOptions po;
    po.clock_ns = clock;
    po.asic = asic;
    const hw::ir2::TimingModel t = po.Timing();
    const std::vector<double> stages = hw::ir2::StageLogicDelays(g, t);
    ASSERT_FALSE(stages.empty());
    for (size_t s = 0; s < stages.size(); ++s) EXPECT_LE(stages[s], t.Budget() + 1e-9) << clock << " ns, stage " << s;
    for (const auto& l : hw::ir2::FeedbackLoops(g)) EXPECT_LE(l.clocks(), g.streams) << l.symbol;
    ExpectInterpreterEqualsReference(m, g);
  }
}

// K counts the most levels between two registers: an op of several levels (a multiplier) never straddles a stage
// boundary, so every op's levels lie inside its own stage (one costlier than K fills a stage alone).
TEST(LowerLmModel, NoStageHoldsMoreThanKLevels) {
  const model::LmModel m = Model(21);
  for (int k : {1, 2, 3, 4}) {
    passes::lm::LmLowerOptions o;
    o.adders_per_stage = k;
    const hw::ir2::Graph g = passes::lm::LowerLmModel(m, o);
    int multi_level = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const int cost = hw::ir2::Cost(g, g.nodes[i]);
      if (cost == 0 || g.nodes[i].op == hw::ir2::Op::kReg) continue;
      multi_level += cost > 1;
      const hw::ir2::Slot& at = g.schedule[i];
      EXPECT_LE(at.level, at.stage * k) << "K = " << k << " %" << i << " " << hw::ir2::Info(g.nodes[i].op).name;
      if (cost <= k) EXPECT_GE(at.level - cost, (at.stage - 1) * k) << "K = " << k << " %" << i << " " << hw::ir2::Info(g.nodes[i].op).name;
    }
    EXPECT_GT(multi_level, 0) << "the model has multipliers";
  }
}

}  // namespace
}  // namespace hw::cosim
