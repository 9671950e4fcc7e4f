// Random small language models of different shapes (vocabulary, width, heads, context, FFN, blocks, weight
// bits) and pipeline depths, each lowered, built in Verilator and run with every stream slot in use, staggered
// prompts, bubbles and random clock-enable stalls, greedy and sampled: every token of every stream equals the
// C++ reference and every output of every slot equals the IR interpreter (the `sweep` label, not in CI).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "cosim/lm_cosim.h"
#include "model/lm_model_io.h"
#include "model/random_lm.h"
#include "passes/lower_lm.h"
#include "reference/lm_reference.h"

namespace hw::cosim {
namespace {

struct Variant {
  const char* name;
  model::RandomLmSpec spec;
  int k;
  bool greedy;
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

class LmSweep : public ::testing::TestWithParam<Variant> {};

TEST_P(LmSweep, EveryTokenEqualsTheReference) {
  const Variant& v = GetParam();
  const model::RandomLmFiles f = model::RandomLm(v.spec, 100 + v.k);
  const model::LmModel m = model::ParseLmModel(f.manifest, "lm.json", model::SerializeSafetensors(f.tensors), "lm.safetensors");
  passes::lm::LmLowerOptions o;
  o.adders_per_stage = v.k;
  const hw::ir2::Graph g = passes::lm::LowerLmModel(m, o);
  std::mt19937_64 rng(v.spec.d * 131 + v.spec.context);
  std::vector<LmStreamPlan> plans;
  for (int s = 0; s < g.streams; ++s) {
    std::vector<int> p(1 + rng() % std::min(4, m.context));
    for (int& t : p) t = static_cast<int>(rng() % m.vocab_size());
    plans.push_back({p, static_cast<int>(rng() % 5)});
  }
  const uint32_t seed = 77;
  const LmSchedule sched = MakeLmSchedule(g, m, plans, seed, v.greedy, /*bubble_percent=*/8, /*bubble_seed=*/5);
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "lm_sweep" / v.name;
  const Ir2CosimResult res = CosimIr2(g, sched.slots, dir.string(), /*stall_seed=*/11, /*dump=*/true);
  const LmCheck c = CheckLmAgainstReference(g, m, plans, res, v.greedy ? std::nullopt : std::optional<uint64_t>(seed));
  EXPECT_EQ(res.failed, 0) << res.log;
  EXPECT_EQ(c.tokens_failed, 0) << (c.mismatches.empty() ? "" : c.mismatches.front());
  EXPECT_GT(c.tokens_passed, 0);
  std::printf("%s: S %d, L %d, %ld tokens passed; build %.1f s\n", v.name, g.streams, g.latency, c.tokens_passed, res.build_seconds);
}

model::RandomLmSpec Spec(int vocab, int d, int heads, int context, int ffn, int blocks, int bits) {
  return model::RandomLmSpec{vocab, d, heads, context, ffn, blocks, bits};
}

INSTANTIATE_TEST_SUITE_P(Shapes, LmSweep,
                         ::testing::Values(Variant{"base_k1_greedy", Spec(12, 16, 2, 8, 32, 1, 4), 1, true},
                                           Variant{"base_k3_sampled", Spec(12, 16, 2, 8, 32, 1, 4), 3, false},
                                           Variant{"one_head_k2", Spec(10, 8, 1, 6, 16, 1, 4), 2, false},
                                           Variant{"four_heads_k4", Spec(20, 16, 4, 8, 24, 1, 3), 4, true},
                                           Variant{"two_blocks_k2", Spec(12, 8, 2, 5, 16, 2, 4), 2, false},
                                           Variant{"context16_k4", Spec(16, 8, 2, 16, 16, 1, 2), 4, false},
                                           Variant{"wide_vocab_k3", Spec(30, 12, 3, 4, 20, 1, 5), 3, true},
                                           Variant{"int8_weights_k2", Spec(12, 8, 2, 6, 16, 1, 8), 2, false}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace hw::cosim
