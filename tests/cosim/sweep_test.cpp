// CI-sized slice of the random-model sweep (tests/sweep/, label "sweep"): its first 20 models — every sweep
// category twice, including a fan-in-4096 layer (model 4) — co-simulated with zero mismatches allowed, scheduled
// by K and by a 6 ns clock target.
#include <gtest/gtest.h>

#include "../sweep/sweep_run.h"

namespace hw {
namespace {

class SweepSlice : public ::testing::TestWithParam<std::tuple<int, double>> {};

TEST_P(SweepSlice, RtlMatchesReferenceBitForBit) {
  const sweep::SweepResult r =
      sweep::RunSweepModel(std::get<0>(GetParam()), 1000, std::filesystem::path(HW_BINARY_DIR) / "test_out" / "sweep_slice", 400, false,
                           std::get<1>(GetParam()));
  EXPECT_EQ(r.failed, 0) << r.name << " (" << r.category << "):\n" << r.log;
  EXPECT_GT(r.passed, 0) << r.name << "\n" << r.log;
  EXPECT_EQ(r.exit_code, 0) << r.name << "\n" << r.log;
}

INSTANTIATE_TEST_SUITE_P(Models, SweepSlice, ::testing::Combine(::testing::Range(0, 20), ::testing::Values(0.0, 6.0)));

}  // namespace
}  // namespace hw
