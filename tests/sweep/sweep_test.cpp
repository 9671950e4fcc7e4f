// The full random-model sweep (label "sweep"; docs/hardening.md): 200 seeded models covering 1..16-bit
// signed/unsigned, binary and ternary weights, fan-in up to 4096, all-zero rows, columns and layers, most
// negative weights and inputs, M and S at their limits, 1..32-bit outputs — each co-simulated in Verilator
// against the reference with zero mismatches allowed, scheduled by K and by a 6 ns clock target. Run:
// ctest --test-dir build -L sweep -j2
#include <gtest/gtest.h>

#include "sweep_run.h"

namespace hw {
namespace {

constexpr uint64_t kBaseSeed = 1000;
constexpr int kModels = 200;

class Sweep : public ::testing::TestWithParam<std::tuple<int, double>> {};

TEST_P(Sweep, RtlMatchesReferenceBitForBit) {
  const sweep::SweepResult r =
      sweep::RunSweepModel(std::get<0>(GetParam()), kBaseSeed, std::filesystem::path(HW_BINARY_DIR) / "test_out" / "sweep", 400, false,
                           std::get<1>(GetParam()));
  EXPECT_EQ(r.failed, 0) << r.name << " (" << r.category << "):\n" << r.log;
  EXPECT_GT(r.passed, 0) << r.name << "\n" << r.log;
  EXPECT_EQ(r.exit_code, 0) << r.name << "\n" << r.log;
}

INSTANTIATE_TEST_SUITE_P(Models, Sweep, ::testing::Combine(::testing::Range(0, kModels), ::testing::Values(0.0, 6.0)));

}  // namespace
}  // namespace hw
