// The core promise, checked end to end on seeded random models: generated RTL, built with Verilator and fed
// one vector per clock, equals the reference forward pass bit for bit. Shapes, weight encodings (binary,
// ternary, 1..12-bit signed/unsigned), signed/unsigned inputs, biases, per-channel M and S, relu/none,
// 1..3 layers, K = 1, 2, 3 and both arithmetic modes vary with the seed; every third model's first layer uses
// threshold activations. Variant 2 schedules by K, variant 3 by a clock target (5, 7 or 9 ns, the fpga delay
// model) instead.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cosim/cosim.h"
#include "driver/generate.h"
#include "emit/ir2_top.h"
#include "model/model_io.h"
#include "model/random_model.h"
#include "reference/reference.h"

namespace hw {
namespace {

namespace fs = std::filesystem;

std::string Lint(const std::string& rtl, const std::string& top) {
  std::string out;
  cosim::RunCommand("cd '" + rtl + "' && verilator --lint-only -Wall -F " + top + ".f --top-module " + top, &out, false);
  return out;
}

class RandomModelCosim : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(RandomModelCosim, RtlMatchesReferenceBitForBit) {
  const auto [seed, variant] = GetParam();
  model::RandomModelSpec spec;
  model::Model generated = model::RandomModel(spec, seed);
  if (seed % 3 == 0) model::UseRandomThresholds(generated, 0, seed);
  const fs::path dir = fs::path(HW_BINARY_DIR) / "test_out" / "cosim" / fmt::format("{}_v{}", generated.name, variant);
  fs::remove_all(dir);
  model::WriteModel(generated, (dir / "model").string());
  const model::Model m = model::LoadModel((dir / "model" / "model.json").string());

  driver::GenerateOptions o;
  o.adders_per_stage = 1 + seed % 3;
  const int mode = (seed / 3) % 3;
  o.lower.arith.mode = mode == 0 ? passes::ArithMode::kCsd : passes::ArithMode::kCmvm;
  o.lower.arith.depth = mode == 2 ? arith::DepthMode::kMinimum : arith::DepthMode::kUnconstrained;
  if (variant == 3) o.clock_ns = 5 + 2 * (seed % 3);
  o.lower.arith.fewest_registers = variant == 5;  // --registers min: the graph with the fewest flip-flop bits
  if (variant == 4) {  // the asic delay model: parallel-prefix adders at 0.8-1.6 ns, ripple-carry ones at 3 ns
    o.asic = true;
    o.asic_library.ripple = seed % 2 == 0;
    o.clock_ns = o.asic_library.ripple ? 3 : 0.8 + 0.4 * (seed % 3);
  }
  const driver::CompiledDesign c = driver::Compile(m, o);
  const std::string rtl = (dir / "rtl").string();
  driver::WriteOutputDir(c.files, rtl);
  EXPECT_EQ(Lint(rtl, emit::TopName(c.design)), "") << "lint of " << rtl;

  const reference::Batch x = cosim::RandomInputs(m, 1500, seed);
  const reference::Trace t = reference::Run(m, x);
  cosim::BuildOptions bo;
  bo.rtl_dir = rtl;
  const cosim::BuildResult b = cosim::BuildSimulator(bo);
  cosim::RunOptions ro;
  ro.echo = false;
  ro.stall_seed = seed % 4 == 0 ? seed : -1;  // every fourth model also runs with random clock-enable stalls
  const cosim::RunResult r = cosim::RunSimulation(b, rtl, x, t.output(), ro);
  EXPECT_EQ(r.failed, 0) << r.log;
  EXPECT_EQ(r.passed, 1500) << r.log;
  EXPECT_EQ(r.exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomModelCosim, ::testing::Combine(::testing::Range(1, 37), ::testing::Values(2)));
INSTANTIATE_TEST_SUITE_P(Clocked, RandomModelCosim, ::testing::Combine(::testing::Range(1, 13), ::testing::Values(3)));
INSTANTIATE_TEST_SUITE_P(AsicClocked, RandomModelCosim, ::testing::Combine(::testing::Range(1, 5), ::testing::Values(4)));
INSTANTIATE_TEST_SUITE_P(FewestRegisters, RandomModelCosim, ::testing::Combine(::testing::Range(1, 10), ::testing::Values(5)));

}  // namespace
}  // namespace hw
