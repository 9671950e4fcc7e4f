#include "passes/ir2_retime.h"

#include <fmt/format.h>
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <algorithm>
#include <cstdint>
#include <queue>

#include "common/diag.h"
#include "ir2/op_table.h"
#include "passes/ir2_sink.h"

namespace hw::passes::ir2 {

using hw::ir2::Graph;
using hw::ir2::Info;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::VerifyLevel;

namespace {

bool Stateful(Op op) {
  return op == Op::kStateRead || op == Op::kStateNext || op == Op::kMemRead || op == Op::kMemWrite || op == Op::kStreamId ||
         op == Op::kReg;
}

// x_j - x_i >= b for variables i, j (indices into the solver's variables).
struct Difference {
  int i, j;
  int64_t b;
};

class Retime : public Pass {
 public:
  explicit Retime(const PassOptions& o) : timing_(o.Timing()), budget_(timing_.Budget()) {}
  std::string name() const override { return "retime"; }
  VerifyLevel level() const override { return VerifyLevel::kRanges; }

  bool Applies(const Graph& g) const override {
    return std::none_of(g.nodes.begin(), g.nodes.end(), [&](const Node& v) { return Stateful(v.op) || timing_.Delay(g, v) > budget_ + 1e-9; });
  }

  bool Run(Graph& g) override {
    if (!Applies(g)) return false;
    const int n = static_cast<int>(g.nodes.size());
    int first = INT32_MAX, last = -1;  // the fixed stages of the input and output ports
    for (int v = 0; v < n; ++v) {
      if (g.nodes[v].op == Op::kInput) first = std::min(first, g.schedule[v].stage);
      if (g.nodes[v].op == Op::kOutput) last = std::max(last, g.schedule[v].stage);
    }
    if (last < 0) return false;
    if (first == INT32_MAX) first = 0;
    auto live = [&](int i) { return g.nodes[i].op != Op::kConst; };

    // Variables: 0 is the reference "zero"; 1 + i the stage of node i; then one mirror per value with readers.
    std::vector<std::vector<int>> readers(n);
    for (int v = 0; v < n; ++v)
      for (const hw::ir2::Use& u : g.nodes[v].operands)
        if (live(u.node) && (readers[u.node].empty() || readers[u.node].back() != v)) readers[u.node].push_back(v);
    std::vector<int> mirror(n, -1);
    int vars = 1 + n;
    for (int u = 0; u < n; ++u)
      if (live(u) && !readers[u].empty()) mirror[u] = vars++;
    // Ops that no output depends on (hand-written IR may have them) get no upper bound: the schedule may have put
    // them after the outputs' stage.
    std::vector<char> feeds_output(n, 0);
    for (int v = n - 1; v >= 0; --v) {
      if (g.nodes[v].op == Op::kOutput) feeds_output[v] = 1;
      if (feeds_output[v])
        for (const hw::ir2::Use& u : g.nodes[v].operands) feeds_output[u.node] = 1;
    }
    std::vector<int64_t> weight(vars, 0);  // objective coefficients
    std::vector<Difference> cons;
    auto S = [](int i) { return 1 + i; };
    for (int v = 0; v < n; ++v) {
      if (!live(v)) continue;
      const Node& nv = g.nodes[v];
      if (nv.op == Op::kInput || nv.op == Op::kOutput) {  // fixed
        cons.push_back({0, S(v), g.schedule[v].stage});
        cons.push_back({S(v), 0, -g.schedule[v].stage});
      } else {
        // logic never joins stage 0: ports there are registered on entry (or, with inputs=registered, come
        // registered in stage 1), as the schedule has it (an op of no cost it left in stage 0 may stay there)
        cons.push_back({0, S(v), std::min(std::max(first, 1), g.schedule[v].stage)});
        if (feeds_output[v]) cons.push_back({S(v), 0, -last});  // s(v) <= last
      }
      for (const hw::ir2::Use& u : nv.operands)
        if (live(u.node)) cons.push_back({S(u.node), S(v), nv.op == Op::kOutput ? 1 : 0});
      if (mirror[v] >= 0) {
        const int64_t w = hw::ir2::TypeOf(nv.range[0]).width;
        weight[mirror[v]] += w;
        weight[S(v)] -= w;
        for (int r : readers[v]) cons.push_back({S(r), mirror[v], 0});
      }
    }
    // Paths of more than K levels need a register: walk back from every op while the path stays within K.
    std::vector<double> delay(n), dist(n, -1);
    for (int v = 0; v < n; ++v) delay[v] = timing_.Delay(g, g.nodes[v]);
    for (int v = 0; v < n; ++v) {
      const double cv = delay[v];
      if (cv == 0 || !live(v)) continue;
      std::priority_queue<int> todo;  // highest id first: every reader inside the cone is done before its operands
      std::vector<int> touched = {v};
      dist[v] = cv;
      todo.push(v);
      while (!todo.empty()) {
        const int y = todo.top();
        todo.pop();
        if (!todo.empty() && todo.top() == y) continue;
        for (const hw::ir2::Use& u : g.nodes[y].operands) {
          const int x = u.node;
          if (!live(x)) continue;
          const double cand = dist[y] + delay[x];
          if (cand > budget_ + 1e-9) {
            cons.push_back({S(x), S(v), 1});
            continue;
          }
          if (dist[x] < 0) touched.push_back(x);
          if (cand > dist[x]) {
            dist[x] = cand;
            todo.push(x);
          }
        }
      }
      for (int t : touched) dist[t] = -1;
    }

    // Each op's stage lies between its earliest and latest stage under these constraints (longest paths over
    // the op-to-op constraints, which all point from a lower node id to a higher one). An op whose window is a
    // single stage is a constant, not a variable: at K = 1 most ops are, and the flow problem shrinks to the
    // ops that can move.
    constexpr int64_t kFree = INT64_MAX / 4;
    std::vector<int64_t> lo(n, 0), hi(n, kFree);
    std::vector<std::vector<const Difference*>> into(n), out_of(n);
    for (const Difference& d : cons) {
      if (d.j >= 1 + n || d.i >= 1 + n) continue;  // mirror constraints bound no op
      if (d.i == 0) lo[d.j - 1] = std::max(lo[d.j - 1], d.b);
      else if (d.j == 0) hi[d.i - 1] = std::min(hi[d.i - 1], -d.b);
      else into[d.j - 1].push_back(&d), out_of[d.i - 1].push_back(&d);
    }
    for (int v = 0; v < n; ++v)
      for (const Difference* d : into[v]) lo[v] = std::max(lo[v], lo[d->i - 1] + d->b);
    for (int v = n - 1; v >= 0; --v)
      for (const Difference* d : out_of[v])
        if (hi[d->j - 1] < kFree) hi[v] = std::min(hi[v], hi[d->j - 1] - d->b);
    // Solver variables: 0 (the reference) and one per op that can move or mirror; a fixed op is the reference
    // plus its stage.
    std::vector<int> var(vars, 0);
    std::vector<int64_t> offset(vars, 0);
    int free_vars = 1;
    for (int i = 1; i < vars; ++i) {
      const int v = i - 1;
      if (i < 1 + n && live(v) && lo[v] > hi[v]) return false;  // no feasible placement at this latency (below)
      if (i < 1 + n && live(v) && lo[v] == hi[v]) offset[i] = lo[v];
      else var[i] = free_vars++;
    }
    // The linear program's dual: a minimum-cost flow. LEMON's potentials pi satisfy pi(b) <= pi(a) + cost(a->b)
    // for every arc and minimise sum supply(v) * pi(v); x_j - x_i >= b is pi(i) <= pi(j) - b: an arc j -> i of cost -b.
    lemon::SmartDigraph net;
    std::vector<lemon::SmartDigraph::Node> node(free_vars);
    for (int i = 0; i < free_vars; ++i) node[i] = net.addNode();
    lemon::SmartDigraph::ArcMap<int64_t> cost(net);
    for (const Difference& d : cons) {
      const int64_t b = d.b - offset[d.j] + offset[d.i];
      if (var[d.i] == var[d.j]) {
        if (var[d.i] == 0 && b > 0) return false;
        continue;
      }
      cost[net.addArc(node[var[d.j]], node[var[d.i]])] = -b;
    }
    lemon::SmartDigraph::NodeMap<int64_t> supply(net, 0);
    for (int i = 0; i < vars; ++i) supply[node[var[i]]] += weight[i];
    using Simplex = lemon::NetworkSimplex<lemon::SmartDigraph, int64_t, int64_t>;
    Simplex ns(net);
    ns.costMap(cost).supplyMap(supply);
    // The candidate-list pivot rule: 11 s instead of 15-33 s (block search, the default) on a 128 x 784 layer's
    // 200,000 variables and 800,000 constraints (bench/retime_bench --large).
    const bool optimal = ns.run(Simplex::CANDIDATE_LIST) == Simplex::OPTIMAL;
    // No feasible placement at this latency: the schedule counts an op of several levels (a multiplier) from its
    // operand's level, not from the start of its stage, so it can pack more than K levels into one stage, which
    // these constraints do not allow. The schedule then stays as it is.
    if (!optimal) return false;
    std::vector<int64_t> x(vars);
    for (int i = 0; i < vars; ++i) x[i] = ns.potential(node[var[i]]) - ns.potential(node[0]) + offset[i];
    for (const Difference& d : cons)
      HW_CHECK(x[d.j] - x[d.i] >= d.b, fmt::format("retime: graph '{}': the solution breaks a constraint", g.name));

    const int64_t before = DelayLineBits(g);
    const std::vector<hw::ir2::Slot> saved = g.schedule;
    bool moved = false;
    for (int v = 0; v < n; ++v)
      if (live(v)) {
        moved |= g.schedule[v].stage != x[S(v)];
        g.schedule[v].stage = static_cast<int>(x[S(v)]);
      }
    if (!moved) return false;
    const int64_t after = DelayLineBits(g);
    if (after >= before) {  // no better (the schedule was already optimal): keep it as it was
      g.schedule = saved;
      return false;
    }
    // Levels (and arrival times): the depth of an op inside its stage, on top of the stages before it.
    std::vector<double> local(n, 0);
    for (int v = 0; v < n; ++v) {
      const Node& nv = g.nodes[v];
      hw::ir2::Slot& at = g.schedule[v];
      if (!live(v) || nv.op == Op::kInput || nv.op == Op::kOutput) continue;
      double d = 0;
      for (const hw::ir2::Use& u : nv.operands)
        if (live(u.node) && g.schedule[u.node].stage == at.stage) d = std::max(d, local[u.node]);
      local[v] = d + delay[v];
      HW_CHECK(local[v] <= budget_ + 1e-9, fmt::format("retime: graph '{}': %{} ends {} into its stage, beyond its budget", g.name, v, local[v]));
      at.arrival = local[v];
      at.level = timing_.levels() ? (at.stage - 1) * timing_.adders_per_stage + static_cast<int>(local[v]) : at.stage;
    }
    return true;
  }

 private:
  hw::ir2::TimingModel timing_;
  double budget_;
};

}  // namespace

std::unique_ptr<Pass> MakeRetimePass(const PassOptions& o) { return std::make_unique<Retime>(o); }

}  // namespace hw::passes::ir2
