// Clock targets (ir2/timing.h): the fpga delay model's adder figures, schedules that keep every stage within
// the clock, retiming and split-requant under a clock, and the error for a clock shorter than one op.
#include "ir2/timing.h"

#include <gtest/gtest.h>

#include "common/diag.h"
#include "cosim/cosim.h"
#include "ir2/interpreter.h"
#include "ir2/op_table.h"
#include "model/random_model.h"
#include "passes/ir2_passes.h"
#include "passes/lower_layer_ir2.h"
#include "reference/reference.h"

namespace hw::ir2 {
namespace {

TEST(Timing, FpgaAdderFollowsTheCarryChain) {
  // LUT 0.642 + CARRY4: S->O[3] 0.582 for one; S->CO[3] 0.508, CI->CO[3] 0.114 each further, CI->O[3] 0.313
  EXPECT_NEAR(FpgaAdderNs(4), 0.642 + 0.582, 1e-9);
  EXPECT_NEAR(FpgaAdderNs(8), 0.642 + 0.508 + 0.313, 1e-9);
  EXPECT_NEAR(FpgaAdderNs(16), 0.642 + 0.508 + 2 * 0.114 + 0.313, 1e-9);
  EXPECT_LT(FpgaAdderNs(12), FpgaAdderNs(13));
  TimingModel levels;
  levels.adders_per_stage = 3;
  EXPECT_EQ(levels.Budget(), 3);
}

TEST(Timing, AsicAddersFollowTheTextbookPaths) {
  // t_pg 1 + t_AO 2 per carry step + t_xor 2 (FO4): ripple N - 1 steps, parallel prefix ceil(log2 N)
  EXPECT_DOUBLE_EQ(AsicAdderFo4(16, true), 1 + 15 * 2 + 2);
  EXPECT_DOUBLE_EQ(AsicAdderFo4(16, false), 1 + 4 * 2 + 2);
  EXPECT_DOUBLE_EQ(AsicAdderFo4(17, false), 1 + 5 * 2 + 2);
  EXPECT_DOUBLE_EQ(AsicAdderFo4(1, false), AsicAdderFo4(1, true));
  for (int w = 1; w <= 64; ++w) EXPECT_LE(AsicAdderFo4(w, false), AsicAdderFo4(w, true)) << w;
  for (int w = 4; w <= 64; ++w) EXPECT_LT(AsicAdderFo4(w, false), AsicAdderFo4(w, true)) << w;
  TimingModel asic;
  asic.target = TimingModel::Target::kAsic;
  asic.clock_ns = 1;
  asic.asic.fo4_ps = 20;
  EXPECT_NEAR(asic.RegisterOverheadNs(), 3 * 0.020, 1e-12);  // clock-to-Q 2 FO4 + setup 1 FO4
  EXPECT_NEAR(asic.Budget(), 1 - 0.060, 1e-12);
  Graph g;  // one 12-bit add: its delay scales with the FO4 figure
  g.name = "g";
  Node x;
  x.op = Op::kInput;
  x.range = {Range{-2048, 2047}};
  g.nodes.push_back(x);
  Node a;
  a.op = Op::kAdd;
  a.operands = {Use{0}, Use{0}};
  a.range = {Range{-2048, 2047}};
  EXPECT_NEAR(asic.Delay(g, a), AsicAdderFo4(12, false) * 0.020, 1e-12);
  asic.asic.ripple = true;
  EXPECT_NEAR(asic.Delay(g, a), AsicAdderFo4(12, true) * 0.020, 1e-12);
}

// Every op ends within the stage budget, after the same-stage operands it reads.
void ExpectWithinClock(const Graph& g, const TimingModel& t) {
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    if (n.op == Op::kConst || n.op == Op::kOutput || n.op == Op::kReg) continue;
    const hw::ir2::Slot& at = g.schedule[v];
    EXPECT_LE(at.arrival, t.Budget() + 1e-9) << g.name << " %" << v;
    for (const Use& u : n.operands) {
      if (g.nodes[u.node].op == Op::kConst) continue;
      const hw::ir2::Slot& pt = g.schedule[u.node];
      EXPECT_LE(pt.stage, at.stage);
      if (pt.stage == at.stage) EXPECT_GE(at.arrival + 1e-9, pt.arrival + t.Delay(g, n)) << g.name << " %" << v;
    }
  }
}

TEST(Timing, ClockedLayersStayWithinTheClockAndComputeTheSame) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const model::Model m = model::RandomModel(model::RandomModelSpec{}, seed);
    const reference::Batch x = cosim::RandomInputs(m, 30, seed);
    const reference::Trace tr = reference::Run(m, x);
    // fpga at 5, 7, 10 ns; then asic (FO4 = 25 ps, prefix adders) at 0.8, 1.2, 2 ns
    int previous_latency = 1 << 30;
    for (double clock : {5.0, 7.0, 10.0, 0.8, 1.2, 2.0}) {
      passes::ir2::PassOptions o;
      o.clock_ns = clock;
      o.asic = clock < 5;
      if (clock == 0.8) previous_latency = 1 << 30;
      int latency = 0;
      for (int i = 0; i < static_cast<int>(m.layers.size()); ++i) {
        Graph g = passes::LowerLayerToIr2(m, i, passes::ArithChoice{});
        // the schedule, retime and sink, without registers, to look at stages and arrivals
        passes::ir2::PassManager({"range-analysis", "split-requant", "schedule", "retime", "sink"}, o).Run(g);
        ExpectWithinClock(g, o.Timing());
        passes::ir2::PassManager({"materialize-registers"}, o).Run(g);
        latency += g.latency;
        Interpreter in(g);
        const reference::Batch& layer_in = i == 0 ? x : tr.layers[i - 1];
        for (Eigen::Index r = 0; r < x.rows(); ++r) {
          const std::vector<int64_t> y = in.Step(std::vector<int64_t>(layer_in.row(r).data(), layer_in.row(r).data() + layer_in.cols()));
          for (size_t k = 0; k < y.size(); ++k) ASSERT_EQ(y[k], tr.layers[i](r, static_cast<Eigen::Index>(k))) << m.name << " " << clock;
        }
      }
      EXPECT_LE(latency, previous_latency) << m.name << ": a longer clock never needs more stages";
      previous_latency = latency;
    }
  }
}

TEST(Timing, AClockShorterThanAnOpIsAnError) {
  const model::Model m = model::RandomModel(model::RandomModelSpec{}, 3);
  Graph g = passes::LowerLayerToIr2(m, 0, passes::ArithChoice{});
  passes::ir2::PassOptions o;
  o.clock_ns = 0.9;  // less than a LUT and a carry chain
  try {
    passes::ir2::PassManager(passes::ir2::DefaultPipeline(), o).Run(g);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than a whole stage"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--clock-ns"), std::string::npos) << e.what();
  }
}

TEST(Timing, SlowRequantsAreSplitOnlyUnderAClock) {
  // a multiplier 2^30 is a shift, so the requant keeps its rounding adder (a multiplier of several digits takes
  // the constant into its adder tree instead), in front of the clamp
  model::Model m = model::RandomModel(model::RandomModelSpec{}, 5);
  auto& d = std::get<model::DenseLayer>(m.layers[0].op);
  std::fill(d.multiplier.begin(), d.multiplier.end(), int64_t{1} << 30);
  std::fill(d.shift.begin(), d.shift.end(), 36);
  auto requants = [&](const passes::ir2::PassOptions& o) {
    Graph g = passes::LowerLayerToIr2(m, 0, passes::ArithChoice{});
    passes::ir2::PassManager({"range-analysis", "split-requant"}, o).Run(g);
    int n = 0, with_constant = 0;
    for (const Node& v : g.nodes) n += v.op == Op::kRequant, with_constant += v.op == Op::kRequant && v.add != 0;
    return std::pair{n, with_constant};
  };
  passes::ir2::PassOptions levels, clocked;
  clocked.clock_ns = 3;
  EXPECT_GT(requants(levels).second, 0);
  EXPECT_EQ(requants(clocked).first, requants(levels).first);
  EXPECT_EQ(requants(clocked).second, 0);
}

}  // namespace
}  // namespace hw::ir2
