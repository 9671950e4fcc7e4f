#include "passes/ir2_passes.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "common/diag.h"
#include "common/file_util.h"
#include "ir2/op_table.h"
#include "ir2/text.h"
#include "passes/ir2_linear_form.h"
#include "passes/ir2_retime.h"
#include "passes/ir2_clamp_early.h"
#include "passes/ir2_trailing_zeros.h"
#include "passes/ir2_offset_encode.h"
#include "passes/ir2_split_requant.h"
#include "passes/ir2_sink.h"

namespace hw::passes::ir2 {

using hw::ir2::Graph;
using hw::ir2::Slot;
using hw::ir2::Info;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::Range;
using hw::ir2::Use;
using hw::ir2::VerifyLevel;

namespace {

class RangeAnalysis : public Pass {
 public:
  std::string name() const override { return "range-analysis"; }
  VerifyLevel level() const override { return VerifyLevel::kRanges; }
  bool Run(Graph& g) override {
    bool changed = false;
    LinearRanges sums(g);  // adds: exact ranges of linear forms (ir2_linear_form.h)
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      Node& n = g.nodes[k];
      std::vector<Range> r(hw::ir2::Results(g, n));
      for (int i = 0; i < static_cast<int>(r.size()); ++i) r[i] = Info(n.op).range(g, n, i);
      if (n.op == Op::kAdd) r[0] = sums.AddRange(static_cast<int>(k), r[0]);
      changed |= r != n.range;
      n.range = std::move(r);
    }
    return changed;
  }
};

// Levels and stages (docs/architecture.md, "IR v2: timing"): a stage holds at most K levels; an op whose cost
// exceeds K occupies a stage alone. Ports, constants and the stream id are in stage 0; outputs leave through a
// register (stage = operands' stage + 1); writes happen in the stage of their operands.
class Schedule : public Pass {
 public:
  explicit Schedule(const PassOptions& o) : k_(o.adders_per_stage), timing_(o.Timing()) {}
  std::string name() const override { return "schedule"; }
  VerifyLevel level() const override { return VerifyLevel::kRanges; }
  bool Run(Graph& g) override {
    const std::vector<Slot> before = g.schedule;
    const int latency_before = g.latency;
    g.schedule.assign(g.nodes.size(), Slot{});
    if (timing_.levels()) RunLevels(g);
    else RunClocked(g);
    return g.schedule != before || g.latency != latency_before;
  }

 private:
  void RunLevels(Graph& g) {
    std::vector<Slot>& at = g.schedule;
    auto avail = [&](int p) { return g.nodes[p].op == Op::kReg ? std::max(0, (at[p].stage - 1) * k_) : at[p].level; };
    int latency = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      const int cost = Cost(g, n);
      int level = 0, stage = 0, max_stage = 0;
      for (const Use& u : n.operands) {
        if (g.nodes[u.node].op == Op::kConst) continue;
        level = std::max(level, avail(u.node));
        max_stage = std::max(max_stage, at[u.node].stage);
      }
      if (n.op == Op::kReg) {
        stage = max_stage + 1;
        level = (stage - 1) * k_;
      } else if (n.op == Op::kOutput) {
        stage = max_stage + 1;
        latency = std::max(latency, stage);
      } else if (n.op == Op::kInput && g.inputs_registered) {
        stage = 1;  // the value comes out of a register outside the graph: like a reg node of stage 1
      } else if (cost == 0) {
        stage = max_stage;
      } else {
        // An op of several levels (a multiplier: 2) never straddles a register: if its first and last level would
        // fall in two stages it starts at the next stage's first level; one costlier than K starts at a stage
        // boundary and occupies its stage alone.
        const int first_stage = level / k_ + 1, last_stage = (level + cost + k_ - 1) / k_;
        if (cost > 1 && cost <= k_ && first_stage != last_stage) level = (last_stage - 1) * k_;
        else if (cost > k_) level = (level + k_ - 1) / k_ * k_;
        level += cost;
        stage = std::max(max_stage, (level + k_ - 1) / k_);
      }
      at[i].level = level;
      at[i].stage = stage;
    }
    PlaceStateAccesses(g);
    // Every output leaves in the same clock: the last one's.
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].op == Op::kOutput) at[i].stage = latency;
    if (g.inputs_registered) --latency;  // stage 1 is where the inputs arrive
    g.latency = latency;
  }

  // As soon as possible under a delay model: an op joins the latest stage among its operands and starts when
  // its operands of that stage have arrived; if it would end after the stage's budget it starts a new stage
  // (its operands then come from registers). State and memory accesses then move as in the level schedule.
  void RunClocked(Graph& g) {
    std::vector<Slot>& at = g.schedule;
    const double budget = timing_.Budget();
    int latency = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      int stage = 0;
      for (const Use& u : n.operands)
        if (g.nodes[u.node].op != Op::kConst) stage = std::max(stage, at[u.node].stage);
      double start = 0;
      for (const Use& u : n.operands)
        if (g.nodes[u.node].op != Op::kConst && at[u.node].stage == stage) start = std::max(start, at[u.node].arrival);
      const double d = timing_.Delay(g, n);
      if (n.op == Op::kInput && g.inputs_registered) {
        stage = 1, start = 0;
      } else if (n.op == Op::kOutput) {
        stage += 1, start = 0;
        latency = std::max(latency, stage);
      } else if (d > budget + 1e-9) {
        throw Error(Location{g.name, fmt::format("%{} ({})", i, Info(n.op).name), "--clock-ns"},
                    fmt::format("this op takes {:.3f} ns, more than a whole stage ({:.3f} ns of the {:.3f} ns clock)", d, budget, timing_.clock_ns));
      } else if (start + d > budget + 1e-9) {
        stage += 1, start = 0;
      }
      at[i] = Slot{stage, stage, start + d};
    }
    PlaceStateAccesses(g);
    if (g.inputs_registered) --latency;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].op == Op::kOutput) at[i].stage = latency + (g.inputs_registered ? 1 : 0);
    g.latency = latency;
  }

  // Reads move late and writes land no earlier than the reads of their symbol (both schedules).
  void PlaceStateAccesses(Graph& g) {
    std::vector<Slot>& at = g.schedule;
    // Reads of states and memories move as late as possible: to the stage before their earliest reader (their
    // readers' levels do not change). Their address (the stream id) is narrow and their data wide, so this
    // trades long delay lines of data for short ones of the address: fewer flip-flops.
    {
      std::vector<int> earliest(g.nodes.size(), INT32_MAX);
      for (size_t i = 0; i < g.nodes.size(); ++i)
        for (const Use& u : g.nodes[i].operands) earliest[u.node] = std::min(earliest[u.node], at[i].stage);
      for (size_t i = 0; i < g.nodes.size(); ++i) {
        const Node& n = g.nodes[i];
        if ((n.op != Op::kStateRead && n.op != Op::kMemRead) || earliest[i] == INT32_MAX) continue;
        const int stage = std::max(at[i].stage, earliest[i] - 1);
        if (stage == at[i].stage) continue;
        at[i].stage = stage;
        if (timing_.levels()) {
          at[i].level = std::max(at[i].level, (stage - 1) * k_ + Cost(g, n));
        } else {  // it starts its new stage
          at[i].level = stage;
          at[i].arrival = timing_.Delay(g, n);
        }
      }
    }
    // A write lands no earlier than the stage where the same state or memory is read, so that a token never
    // reads its own write (docs/architecture.md, "IR v2: timing").
    std::unordered_map<std::string, int> read_stage;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].op == Op::kStateRead || g.nodes[i].op == Op::kMemRead) {
        auto [it, fresh] = read_stage.emplace(g.nodes[i].symbol, at[i].stage);
        if (!fresh) it->second = std::max(it->second, at[i].stage);
      }
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      if (n.op != Op::kStateNext && n.op != Op::kMemWrite) continue;
      const auto it = read_stage.find(n.symbol);
      if (it != read_stage.end() && it->second > at[i].stage) {
        at[i].stage = it->second;
        if (!timing_.levels()) at[i].level = it->second, at[i].arrival = 0;
      }
    }
  }

  int k_;
  hw::ir2::TimingModel timing_;
};

class MaterializeRegisters : public Pass {
 public:
  std::string name() const override { return "materialize-registers"; }
  VerifyLevel level() const override { return VerifyLevel::kScheduled; }
  bool Run(Graph& g) override {
    std::vector<Node> out;
    std::vector<Slot> out_at;
    std::vector<int> map(g.nodes.size(), -1);
    std::map<std::pair<int, int>, std::vector<int>> chains;  // (new node, result) -> reg ids by depth-1
    bool changed = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node n = g.nodes[i];
      const Slot at = g.schedule[i];
      const int want = n.op == Op::kReg ? at.stage - 1 : at.stage;
      for (Use& u : n.operands) {
        u.node = map[u.node];
        if (out[u.node].op == Op::kConst) continue;
        const int depth = want - out_at[u.node].stage;
        HW_CHECK(depth >= 0, fmt::format("materialize-registers: %{} reads a value from a later stage", i));
        if (depth == 0) continue;
        std::vector<int>& chain = chains[{u.node, u.result}];
        while (static_cast<int>(chain.size()) < depth) {
          Node r;
          r.op = Op::kReg;
          const int src = chain.empty() ? u.node : chain.back();
          r.operands = {Use{src, chain.empty() ? u.result : 0}};
          r.range = {out[u.node].range[u.result]};
          r.group = out[u.node].group;  // a delay line belongs to the op whose value it carries
          out_at.push_back(Slot{out_at[u.node].stage + static_cast<int>(chain.size()) + 1, 0, 0});
          out.push_back(std::move(r));
          chain.push_back(static_cast<int>(out.size()) - 1);
          changed = true;
        }
        u.node = chain[depth - 1];
        u.result = 0;
      }
      out.push_back(std::move(n));
      out_at.push_back(at);
      map[i] = static_cast<int>(out.size()) - 1;
    }
    g.nodes = std::move(out);
    g.schedule = std::move(out_at);
    return changed;
  }
};

void ThrowIfInvalid(const Graph& g, VerifyLevel level, const std::string& when, bool user_error) {
  const std::vector<std::string> errs = hw::ir2::Verify(g, level);
  if (errs.empty()) return;
  if (user_error) {
    std::vector<std::string> msgs;
    for (const std::string& e : errs) msgs.push_back(fmt::format("[E-IR-VERIFY] graph '{}': {}", g.name, e));
    throw Error(msgs);
  }
  throw InternalError(fmt::format("IR verifier after {}: {}", when, errs.front()));
}

}  // namespace

hw::ir2::TimingModel PassOptions::Timing() const {
  hw::ir2::TimingModel t;
  t.adders_per_stage = adders_per_stage;
  if (clock_ns > 0) {
    t.target = asic ? hw::ir2::TimingModel::Target::kAsic : hw::ir2::TimingModel::Target::kFpga;
    t.clock_ns = clock_ns;
    t.asic = asic_library;
  }
  return t;
}

std::vector<std::string> DefaultPipeline() { return {"range-analysis", "offset-encode", "clamp-early", "trailing-zeros", "split-requant", "schedule", "retime", "sink", "materialize-registers"}; }
std::vector<std::string> RegisteredPasses() { return DefaultPipeline(); }

std::unique_ptr<Pass> MakePass(const std::string& name, const PassOptions& o) {
  if (name == "range-analysis") return std::make_unique<RangeAnalysis>();
  if (name == "schedule") return std::make_unique<Schedule>(o);
  if (name == "split-requant") return MakeSplitRequantPass(o);
  if (name == "offset-encode") return MakeOffsetEncodePass(o);
  if (name == "clamp-early") return MakeClampEarlyPass(o);
  if (name == "trailing-zeros") return MakeTrailingZerosPass(o);
  if (name == "retime") return MakeRetimePass(o);
  if (name == "sink") return MakeSinkPass(o);
  if (name == "materialize-registers") return std::make_unique<MaterializeRegisters>();
  std::string known;
  for (const std::string& n : RegisteredPasses()) known += (known.empty() ? "" : ", ") + n;
  throw Error(std::vector<std::string>{fmt::format("[E-IR-PASS] unknown pass '{}' (known: {})", name, known)});
}

PassManager::PassManager(std::vector<std::string> pipeline, PassOptions options, std::string dump_dir,
                         std::vector<std::string> dump_after)
    : dump_dir_(std::move(dump_dir)), dump_after_(std::move(dump_after)) {
  for (const std::string& p : pipeline) passes_.push_back(MakePass(p, options));
  for (const std::string& d : dump_after_) MakePass(d, options);  // unknown names are errors here too
}

void PassManager::Run(Graph& g) {
  ThrowIfInvalid(g, VerifyLevel::kStructure, "parsing", /*user_error=*/true);
  int step = 0;
  auto dump = [&](const std::string& tag) {
    if (dump_dir_.empty()) return;
    if (tag != "input" && !dump_after_.empty() && std::find(dump_after_.begin(), dump_after_.end(), tag) == dump_after_.end()) return;
    std::filesystem::create_directories(dump_dir_);
    WriteFileOrThrow(fmt::format("{}/{:02d}-{}.ir", dump_dir_, step, tag), hw::ir2::Dump(g, true));
  };
  dump("input");
  for (const auto& p : passes_) {
    ++step;
    if (!p->Applies(g)) {
      records_.push_back({p->name(), false, 0});
      continue;
    }
    const Graph before = g;  // the audit of a pass that reports no change
    const auto t0 = std::chrono::steady_clock::now();
    const bool changed = p->Run(g);
    records_.push_back({p->name(), changed, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
    // Timing and range problems in user-written IR (a loop longer than the stream count, a write that does
    // not fit) are the user's; structural breakage is the pass's.
    const std::vector<std::string> errs = hw::ir2::Verify(g, hw::ir2::VerifyLevel::kStructure);
    if (!errs.empty()) throw InternalError(fmt::format("IR verifier after {}: {}", p->name(), errs.front()));
    ThrowIfInvalid(g, p->level(), p->name(), /*user_error=*/true);
    if (!changed && !(g == before))
      throw InternalError(fmt::format("pass {} reported no change but changed the graph", p->name()));
    dump(p->name());
  }
}

}  // namespace hw::passes::ir2
