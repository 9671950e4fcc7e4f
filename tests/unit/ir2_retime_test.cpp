// The retime pass (passes/ir2_retime.h): the exact minimum of delay-line flip-flop bits over all stage
// placements with at most K levels per stage and the schedule's latency, checked against brute force on small
// graphs; never worse than the schedule, never longer, and it leaves stateful graphs alone.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "common/file_util.h"
#include "ir2/op_table.h"
#include "ir2/text.h"
#include "ir2/verify.h"
#include "model/random_model.h"
#include "passes/ir2_passes.h"
#include "passes/ir2_retime.h"
#include "passes/ir2_sink.h"
#include "passes/lower_layer_ir2.h"

namespace hw::passes::ir2 {
namespace {

using hw::ir2::Graph;
using hw::ir2::Info;
using hw::ir2::Node;
using hw::ir2::Op;

Graph Scheduled(Graph g, int k) {
  for (const char* p : {"range-analysis", "schedule"}) MakePass(p, {k})->Run(g);
  return g;
}

// Whether every op of `g` has at most K levels of logic inside its stage and reads only earlier or equal
// stages (outputs: earlier), with the fixed ends where they were.
bool MeetsK(const Graph& g, int k) {
  std::vector<int> local(g.nodes.size(), 0);
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    int d = 0;
    for (const hw::ir2::Use& u : n.operands) {
      const Node& p = g.nodes[u.node];
      if (p.op == Op::kConst) continue;
      const int ps = g.schedule[u.node].stage, ns = g.schedule[v].stage;
      if (ps > ns || (n.op == Op::kOutput && ps == ns)) return false;
      if (ps == ns) d = std::max(d, local[u.node]);
    }
    local[v] = d + hw::ir2::Cost(g, n);
    if (local[v] > k) return false;
  }
  return true;
}

// The smallest DelayLineBits over every placement of the movable ops within [1, last], by enumeration (ops no
// output reads may also go past `last`, up to the latest stage the schedule used).
int64_t BruteForce(Graph g, int k) {
  int first = 1 << 30, last = 0;
  std::vector<int> movable;
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Op op = g.nodes[v].op;
    if (op == Op::kInput) first = std::min(first, g.schedule[v].stage);
    if (op == Op::kOutput) last = std::max(last, g.schedule[v].stage);
    if (op != Op::kInput && op != Op::kOutput && op != Op::kConst) movable.push_back(static_cast<int>(v));
  }
  int top = last;
  for (const hw::ir2::Slot& at : g.schedule) top = std::max(top, at.stage);
  std::vector<int> scheduled;  // an op of no cost the schedule left in stage 0 may stay there
  for (int v : movable) scheduled.push_back(g.schedule[v].stage);
  int64_t best = INT64_MAX;
  std::function<void(size_t)> place = [&](size_t i) {
    if (i == movable.size()) {
      if (MeetsK(g, k)) best = std::min(best, DelayLineBits(g));
      return;
    }
    for (int s = std::min(std::max(first, 1), scheduled[i]); s <= top; ++s) {  // no logic joins stage 0
      g.schedule[movable[i]].stage = s;
      place(i + 1);
    }
  };
  place(0);
  return best;
}

// Random small adder DAGs: a few inputs of random widths, adds of two earlier values with random shifts, a
// requant or two, two outputs.
Graph RandomDag(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string t = "graph r streams=1\n";
  const int inputs = 2 + static_cast<int>(rng() % 2);
  int id = 0;
  for (int i = 0; i < inputs; ++i) t += fmt::format("%{} = input x{} s{}\n", id++, i, 2 + rng() % 12);
  const int ops = 4 + static_cast<int>(rng() % 3);
  for (int i = 0; i < ops; ++i) {
    const int a = static_cast<int>(rng() % id), b = static_cast<int>(rng() % id);
    if (rng() % 4 == 0) t += fmt::format("%{} = requant %{} add=1 shift={} clamp=[-100, 100]\n", id++, a, 1 + rng() % 3);
    else t += fmt::format("%{} = add %{}, {}%{}<<{}\n", id++, a, rng() % 2 ? "-" : "", b, rng() % 6);
  }
  t += fmt::format("%{} = output y, %{}\n", id, id - 1);
  t += fmt::format("%{} = output z, %{}\n", id + 1, inputs + static_cast<int>(rng() % ops));
  return hw::ir2::Parse(t, "random.ir");
}

TEST(Ir2Retime, FindsTheBruteForceMinimum) {
  int improved = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed)
    for (int k = 1; k <= 2; ++k) {
      Graph g = Scheduled(RandomDag(seed), k);
      const int64_t before = DelayLineBits(g);
      const int latency = g.latency;
      const int64_t best = BruteForce(g, k);
      const bool changed = MakeRetimePass({k})->Run(g);
      SCOPED_TRACE(fmt::format("seed {} K {}\n{}", seed, k, hw::ir2::Dump(g, true)));
      EXPECT_TRUE(MeetsK(g, k));
      EXPECT_EQ(g.latency, latency);
      EXPECT_EQ(DelayLineBits(g), best);
      EXPECT_EQ(changed, best < before);
      improved += changed;
    }
  EXPECT_GT(improved, 5);  // the schedule (as soon as possible) is often not the cheapest
}

TEST(Ir2Retime, DenseLayersGetNoMoreFlipFlopsAndKeepTheirLatency) {
  long before_total = 0, after_total = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const model::Model m = model::RandomModel(model::RandomModelSpec{}, seed);
    for (int k = 1; k <= 3; ++k) {
      Graph g = Scheduled(LowerLayerToIr2(m, 0, ArithChoice{}), k);
      const int64_t before = DelayLineBits(g);
      const int latency = g.latency;
      MakeRetimePass({k})->Run(g);
      EXPECT_TRUE(MeetsK(g, k)) << seed << " K " << k;
      EXPECT_EQ(g.latency, latency);
      EXPECT_LE(DelayLineBits(g), before);
      EXPECT_TRUE(hw::ir2::Verify(g, hw::ir2::VerifyLevel::kRanges).empty());
      before_total += before, after_total += DelayLineBits(g);
    }
  }
  EXPECT_LT(after_total, before_total);
}

TEST(Ir2Retime, LeavesStatefulGraphsAlone) {
  Graph g = Scheduled(hw::ir2::Parse(ReadFileOrThrow(std::string(HW_TEST_DATA) + "/ir2/accumulator.ir", "ir"), "accumulator.ir"), 1);
  const std::string before = hw::ir2::Dump(g, true);
  EXPECT_FALSE(MakeRetimePass({1})->Run(g));
  EXPECT_EQ(hw::ir2::Dump(g, true), before);
}

TEST(Ir2Retime, IsAPassOfTheDefaultPipeline) {
  const auto p = DefaultPipeline();
  EXPECT_NE(std::find(p.begin(), p.end(), "retime"), p.end());
  EXPECT_EQ(MakePass("retime", {2})->name(), "retime");
}

}  // namespace
}  // namespace hw::passes::ir2
