#include "passes/ir2_sink.h"

#include <algorithm>
#include <climits>
#include <map>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "ir2/op_table.h"

namespace hw::passes::ir2 {

using hw::ir2::Graph;
using hw::ir2::Info;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::TypeOf;
using hw::ir2::Use;
using hw::ir2::VerifyLevel;

namespace {

// The stage in which reader `c` needs its operands (a register reads the stage before its own).
int Want(const Graph& g, int c) { return g.nodes[c].op == Op::kReg ? g.schedule[c].stage - 1 : g.schedule[c].stage; }

bool IsRead(Op op) { return op == Op::kStateRead || op == Op::kMemRead; }
bool IsWrite(Op op) { return op == Op::kStateNext || op == Op::kMemWrite; }

struct Reader {
  int node;    // the reading op
  int result;  // which result of the read op it uses
};

class Sink : public Pass {
 public:
  explicit Sink(const PassOptions& o) : k_(o.adders_per_stage), timing_(o.Timing()) {}
  std::string name() const override { return "sink"; }
  VerifyLevel level() const override { return VerifyLevel::kRanges; }

  bool Run(Graph& g) override {
    for (const Node& n : g.nodes)
      if (n.op == Op::kReg) return false;  // registers already explicit: stages are fixed
    const size_t n_nodes = g.nodes.size();
    readers_.assign(n_nodes, {});
    for (int i = 0; i < static_cast<int>(n_nodes); ++i)
      for (const Use& u : g.nodes[i].operands) readers_[u.node].push_back({i, u.result});
    std::unordered_map<std::string, std::vector<int>> reads, writes;
    for (int i = 0; i < static_cast<int>(n_nodes); ++i) {
      if (IsRead(g.nodes[i].op)) reads[g.nodes[i].symbol].push_back(i);
      if (IsWrite(g.nodes[i].op)) writes[g.nodes[i].symbol].push_back(i);
    }

    InitLifetimes(g);
    const int64_t before = DelayLineBits(g);
    const std::vector<hw::ir2::Slot> saved = g.schedule;  // to restore

    bool moved = false;
    for (int i = static_cast<int>(n_nodes) - 1; i >= 0; --i) {
      const Node& n = g.nodes[i];
      if (!Movable(n) || readers_[i].empty()) continue;
      const int s = g.schedule[i].stage;
      const int cost = Cost(g, n);
      int t_max = INT_MAX;
      for (const Reader& r : readers_[i]) {
        const Node& c = g.nodes[r.node];
        const hw::ir2::Slot& at = g.schedule[r.node];
        int lim = Want(g, r.node);
        if (c.op == Op::kOutput) lim = at.stage - 1;  // outputs leave through a register
        else if (c.op != Op::kReg && !IsWrite(c.op) && !FitsBefore(g, i, r.node)) lim = at.stage - 1;
        t_max = std::min(t_max, lim);
      }
      if (t_max <= s) continue;

      const std::vector<int>* sym_reads = IsRead(n.op) ? &reads[n.symbol] : nullptr;
      const std::vector<int>* sym_writes = IsRead(n.op) ? &writes[n.symbol] : nullptr;
      int best_t = s;
      double best_gain = 1e-9;
      for (int t = s + 1; t <= t_max; ++t) {
        if (sym_reads && !LoopFits(g, *sym_reads, *sym_writes, i, t)) continue;
        double gain = OwnWidth(g, i) * double(t - s);
        for (const Use& u : n.operands) gain -= OperandCost(g, i, u, s, t);
        if (sym_writes)
          for (int w : *sym_writes)
            if (g.schedule[w].stage < t)
              for (const Use& u : g.nodes[w].operands) gain -= OperandCost(g, w, u, g.schedule[w].stage, t);
        if (gain > best_gain) {
          best_gain = gain;
          best_t = t;
        }
      }
      if (best_t == s) continue;
      g.schedule[i].stage = best_t;
      if (timing_.levels()) {
        g.schedule[i].level = (best_t - 1) * k_ + cost;
      } else {  // it starts its new stage
        g.schedule[i].level = best_t;
        g.schedule[i].arrival = timing_.Delay(g, n);
      }
      Moved(g, i, s);
      if (sym_writes)
        for (int w : *sym_writes)
          if (g.schedule[w].stage < best_t) {
            const int from = g.schedule[w].stage;
            g.schedule[w].stage = best_t;
            Moved(g, w, from);
          }
      moved = true;
    }
    if (!moved) return false;
    if (DelayLineBits(g) >= before) {
      g.schedule = saved;
      return false;
    }
    return true;
  }

 private:
  bool Movable(const Node& n) const {
    const auto& info = Info(n.op);
    if (info.side_effect || (timing_.levels() && info.cost > k_)) return false;  // a level schedule: see Schedule
    return n.op != Op::kInput && n.op != Op::kConst && n.op != Op::kStreamId && n.op != Op::kReg;
  }

  // Bits of the results of node `i` that have readers.
  double OwnWidth(const Graph& g, int i) const {
    std::vector<bool> used(g.nodes[i].range.size(), false);
    for (const Reader& r : readers_[i]) used[r.result] = true;
    double w = 0;
    for (size_t r = 0; r < used.size(); ++r)
      if (used[r]) w += TypeOf(g.nodes[i].range[r]).width;
    return w;
  }

  // The flip-flop bits that moving reader `i` from stage `s` to stage `t` adds to operand `u`'s delay line,
  // shared among the operand's other movable readers that are still earlier than `t`.
  double OperandCost(const Graph& g, int i, const Use& u, int s, int t) const {
    const Node& o = g.nodes[u.node];
    if (o.op == Op::kConst) return 0;
    if (life_[u.node][u.result].sole == i && Movable(o)) return 0;  // this result's only reader: it will follow
    const Lifetime& l = life_[u.node][u.result];
    const int last = std::max(g.schedule[u.node].stage, l.who1 == i ? l.max2 : l.max1);
    const int ext = std::max(last, t) - std::max(last, s);
    if (ext <= 0) return 0;
    int siblings = 0;  // movable readers earlier than t, this one included
    for (auto it = l.movable.begin(); it != l.movable.end() && it->first < t; ++it) siblings += it->second;
    return double(TypeOf(o.range[u.result]).width) * ext / std::max(siblings, 1);
  }

  // Who reads a value and until when: the two latest reading stages (reader `who1` needs the latest) and the
  // stages of its movable readers, kept current as readers move.
  struct Lifetime {
    int max1 = INT_MIN, who1 = -1, max2 = INT_MIN;
    int sole = -1;  // the only reader, or -2 when there are several
    std::map<int, int> movable;  // stage -> how many movable readers there
  };
  void InitLifetimes(const Graph& g) {
    life_.assign(g.nodes.size(), {});
    for (size_t i = 0; i < g.nodes.size(); ++i) life_[i].resize(g.nodes[i].range.size());
    for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
      const Node& c = g.nodes[i];
      std::vector<std::pair<int, int>> seen;  // (node, result) counted once per reader
      for (const Use& u : c.operands) {
        if (std::find(seen.begin(), seen.end(), std::make_pair(u.node, u.result)) != seen.end()) continue;
        seen.emplace_back(u.node, u.result);
        Lifetime& l = life_[u.node][u.result];
        l.sole = l.sole == -1 ? i : -2;
        Note(l, i, Want(g, i));
        if (Movable(c)) ++life_[u.node][u.result].movable[g.schedule[i].stage];
      }
    }
  }
  static void Note(Lifetime& l, int reader, int want) {
    if (reader == l.who1) {
      l.max1 = std::max(l.max1, want);
    } else if (want > l.max1) {
      l.max2 = l.max1;
      l.max1 = want;
      l.who1 = reader;
    } else {
      l.max2 = std::max(l.max2, want);
    }
  }
  // Node `i` moved from stage `from` to its current stage: update its operands' lifetimes.
  void Moved(const Graph& g, int i, int from) {
    const Node& c = g.nodes[i];
    std::vector<std::pair<int, int>> seen;
    for (const Use& u : c.operands) {
      if (std::find(seen.begin(), seen.end(), std::make_pair(u.node, u.result)) != seen.end()) continue;
      seen.emplace_back(u.node, u.result);
      Lifetime& l = life_[u.node][u.result];
      Note(l, i, Want(g, i));
      if (Movable(c)) {
        if (--l.movable[from] == 0) l.movable.erase(from);
        ++l.movable[g.schedule[i].stage];
      }
    }
  }

  // Whether read `i` of a state or memory may move to stage `t`: its writes follow it (no token sees its own
  // write) and the loop from the earliest read to the latest write must fit the stream count.
  bool LoopFits(const Graph& g, const std::vector<int>& reads, const std::vector<int>& writes, int i, int t) const {
    int r_min = t, w_max = t;
    for (int r : reads)
      if (r != i) r_min = std::min(r_min, g.schedule[r].stage);
    for (int w : writes) w_max = std::max(w_max, g.schedule[w].stage);
    return writes.empty() || w_max - r_min + 1 <= g.streams;
  }

  // Whether op i, moved into the stage of its reader c and started at the beginning of that stage, still ends
  // before c starts (c's levels or arrival then do not change).
  bool FitsBefore(const Graph& g, int i, int c) const {
    const hw::ir2::Slot& at = g.schedule[c];
    if (timing_.levels()) return (at.stage - 1) * k_ + Cost(g, g.nodes[i]) + Cost(g, g.nodes[c]) <= at.level;
    return timing_.Delay(g, g.nodes[i]) + timing_.Delay(g, g.nodes[c]) <= at.arrival + 1e-9;
  }

  int k_;
  hw::ir2::TimingModel timing_;
  std::vector<std::vector<Reader>> readers_;
  std::vector<std::vector<Lifetime>> life_;  // per node and result
};

}  // namespace

int64_t DelayLineBits(const Graph& g) {
  std::vector<std::vector<int>> last(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) last[i].assign(g.nodes[i].range.size(), INT_MIN);
  for (size_t c = 0; c < g.nodes.size(); ++c)
    for (const Use& u : g.nodes[c].operands) last[u.node][u.result] = std::max(last[u.node][u.result], Want(g, static_cast<int>(c)));
  int64_t bits = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op == Op::kConst) continue;
    for (size_t r = 0; r < last[i].size(); ++r)
      if (last[i][r] > g.schedule[i].stage) bits += int64_t{TypeOf(n.range[r]).width} * (last[i][r] - g.schedule[i].stage);
  }
  return bits;
}

std::unique_ptr<Pass> MakeSinkPass(const PassOptions& o) { return std::make_unique<Sink>(o); }

}  // namespace hw::passes::ir2
