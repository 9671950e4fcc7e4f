#include "passes/ir2_trailing_zeros.h"

#include <algorithm>

#include "ir2/op_table.h"

namespace hw::passes::ir2 {

using hw::ir2::Graph;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::Use;
using hw::ir2::VerifyLevel;

namespace {

constexpr int kAll = 63;  // the constant 0: every bit is zero

int Ctz(int64_t v) { return v == 0 ? kAll : __builtin_ctzll(static_cast<uint64_t>(v)); }

class TrailingZeros : public Pass {
 public:
  std::string name() const override { return "trailing-zeros"; }
  VerifyLevel level() const override { return VerifyLevel::kRanges; }
  bool Applies(const Graph& g) const override { return g.states.empty() && g.memories.empty() && !g.scheduled(); }

  bool Run(Graph& g) override {
    const size_t n = g.nodes.size();
    std::vector<std::vector<int>> readers(n);
    for (size_t i = 0; i < n; ++i)
      for (const Use& u : g.nodes[i].operands) readers[u.node].push_back(static_cast<int>(i));
    // Known trailing zeros of each node's (first) result.
    std::vector<int> tz(n, 0);
    auto of = [&](const Use& u) { return u.result == 0 ? std::min(kAll, tz[u.node] + u.shift) : 0; };
    for (size_t i = 0; i < n; ++i) {
      const Node& x = g.nodes[i];
      if (x.op == Op::kConst) tz[i] = Ctz(x.value);
      else if (x.op == Op::kAdd) {
        int t = kAll;
        for (const Use& u : x.operands) t = std::min(t, of(u));
        tz[i] = t;
      } else if (x.op == Op::kRequant && !x.range.empty()) {
        const hw::ir2::RequantClamp c = hw::ir2::ClampOf(g, x);
        if (!c.lo && !c.hi) tz[i] = std::max(0, std::min(of(x.operands[0]), Ctz(x.add)) - x.shift);
      }
    }
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      Node& r = g.nodes[i];
      if (r.op != Op::kRequant || r.range.empty() || r.operands[0].neg) continue;
      const int t = std::min(tz[i], 62 - r.shift);
      if (t <= 0 || t >= kAll || readers[i].empty()) continue;
      const hw::ir2::RequantClamp c = hw::ir2::ClampOf(g, r);
      if (c.lo || c.hi) continue;
      const bool shiftable = std::all_of(readers[i].begin(), readers[i].end(), [&](int k) {
        if (!hw::ir2::Info(g.nodes[k].op).scaled_operands) return false;
        for (const Use& u : g.nodes[k].operands)
          if (u.node == static_cast<int>(i) && u.shift + t > 62) return false;
        return true;
      });
      if (!shiftable) continue;
      // (x + add) >> (S + t) is exact: the sum ends in S + t zeros. The clamp never triggers before and after.
      r.shift += t;
      r.lo >>= t, r.hi >>= t;
      r.comment += std::string(r.comment.empty() ? "" : " ") +
                   "Its value ends in " + std::to_string(t) + " zero bits: computed without them (shift " +
                   std::to_string(r.shift) + "), its readers shift it back.";
      for (int k : readers[i])
        for (Use& u : g.nodes[k].operands)
          if (u.node == static_cast<int>(i)) u.shift += t;
      changed = true;
    }
    if (changed) MakePass("range-analysis", {})->Run(g);
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeTrailingZerosPass(const PassOptions&) { return std::make_unique<TrailingZeros>(); }

}  // namespace hw::passes::ir2
