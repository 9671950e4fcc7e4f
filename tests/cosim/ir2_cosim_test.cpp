// IR v2 designs written in IR text (tests/data/ir2), lowered, emitted, built with Verilator and run against
// the IR interpreter: 12,000 token slots each (about 10 % bubbles), random clock-enable stalls, K = 1 and 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "common/file_util.h"
#include "cosim/ir2_cosim.h"
#include "ir2/text.h"
#include "passes/ir2_passes.h"

namespace hw::cosim {
namespace {

struct Param {
  const char* design;
  int k;
};

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
                                           Param{"residual", 1}, Param{"accumulator", 3}, Param{"residual", 2}, Param{"memory", 2}, Param{"bits", 1}, Param{"bits", 3}),
                         [](const auto& info) { return std::string(info.param.design) + "_k" + std::to_string(info.param.k); });

}  // namespace
}  // namespace hw::cosim
