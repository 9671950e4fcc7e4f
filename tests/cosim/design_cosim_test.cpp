// An IR v2 design of several modules (a fork into two modules joined by a third), emitted as a top plus one
// module per graph, built with Verilator and fed one vector per clock with random clock-enable stalls: the RTL
// equals the design interpreter on every vector.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "cosim/cosim.h"
#include "driver/generate.h"
#include "emit/ir2_top.h"
#include "../unit/ir2_design_fixture.h"

namespace hw::ir2 {
namespace {

namespace fs = std::filesystem;

TEST(Ir2DesignCosim, ForkAndJoinOfModulesEqualsTheInterpreter) {
  const Design d = Fork();
  const fs::path dir = fs::path(HW_BINARY_DIR) / "test_out" / "design_cosim" / "rtl";
  fs::remove_all(dir.parent_path());
  driver::WriteOutputDir(emit::EmitDesign(d, driver::DefaultTemplateDir(), "fork/join design (test)"), dir.string());
  std::string lint;
  cosim::RunCommand("cd '" + dir.string() + "' && verilator --lint-only -Wall -F fork_top.f --top-module fork_top", &lint, false);
  EXPECT_EQ(lint, "");

  const long n = 10000;
  reference::Batch x(n, 1), expected(n, 1);
  std::mt19937_64 rng(7);
  DesignInterpreter in(d);
  for (long r = 0; r < n; ++r) {
    x(r, 0) = r < 2 ? (r == 0 ? -128 : 127) : static_cast<int64_t>(rng() % 256) - 128;
    expected(r, 0) = in.Step({x(r, 0)}).at(0);
  }
  cosim::BuildOptions bo;
  bo.rtl_dir = dir.string();
  const cosim::BuildResult b = cosim::BuildSimulator(bo);
  cosim::RunOptions ro;
  ro.echo = false;
  ro.stall_seed = 11;
  const cosim::RunResult r = cosim::RunSimulation(b, dir.string(), x, expected, ro);
  EXPECT_EQ(r.failed, 0) << r.log;
  EXPECT_EQ(r.passed, n) << r.log;
  EXPECT_EQ(r.exit_code, 0);
  // and the values are what the arithmetic says: 3 x - 4
  for (long i = 0; i < n; ++i) ASSERT_EQ(expected(i, 0), 3 * x(i, 0) - 4);
}

}  // namespace
}  // namespace hw::ir2
