#include "passes/ir2_clamp_early.h"

#include <algorithm>
#include <map>
#include <set>

#include "ir2/op_table.h"

namespace hw::passes::ir2 {

using hw::ir2::Graph;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::Range;
using hw::ir2::Use;
using hw::ir2::VerifyLevel;

namespace {

using I128 = __int128;

// The multiply tree under one requant: its adds (each read only inside the tree), and the one value A its leaves
// read (directly, or bit-inverted through X).
struct Tree {
  std::vector<int> adds;
  int a = -1, x = -1;  // A, and its NOT (xor A, 2^w - 1) if the tree reads one
};

class ClampEarly : public Pass {
 public:
  std::string name() const override { return "clamp-early"; }
  VerifyLevel level() const override { return VerifyLevel::kRanges; }
  bool Applies(const Graph& g) const override { return g.states.empty() && g.memories.empty() && !g.scheduled(); }

  bool Run(Graph& g) override {
    g_ = &g;
    readers_.assign(g.nodes.size(), {});
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const Use& u : g.nodes[i].operands) readers_[u.node].push_back(static_cast<int>(i));
    struct Change {
      int a, x;
      int64_t lo, hi;
      std::vector<int> adds;
    };
    std::vector<Change> changes;
    std::set<int> taken;  // each A is clamped for one requant at most
    for (size_t r = 0; r < g.nodes.size(); ++r) {
      const Node& rq = g.nodes[r];
      if (rq.op != Op::kRequant || rq.range.empty()) continue;
      const hw::ir2::RequantClamp c = hw::ir2::ClampOf(g, rq);
      if (!c.lo && !c.hi) continue;
      Tree t;
      if (!FindTree(rq.operands[0].node, &t) || t.a < 0 || taken.count(t.a)) continue;
      const Range ar = g.nodes[t.a].range[0];
      const I128 mask = t.x < 0 ? 0 : I128{g.nodes[g.nodes[t.x].operands[1].node].value};
      // y as a function of A's stored value (monotone: the tree is affine in A, the requant monotone)
      auto y = [&](int64_t a) {
        std::map<int, I128> v;
        for (int n : t.adds) {  // operands before readers: the adds are in node order
          I128 s = 0;
          for (const Use& u : g.nodes[n].operands) {
            const I128 x = u.node == t.a ? I128{a} : u.node == t.x ? mask - a : g.nodes[u.node].op == Op::kConst ? I128{g.nodes[u.node].value} : v.at(u.node);
            s += (u.neg ? -1 : 1) * (x * (I128{1} << u.shift));
          }
          v[n] = s;
        }
        const Use& u = rq.operands[0];
        const I128 p = (u.neg ? -1 : 1) * (v.at(u.node) * (I128{1} << u.shift));
        return std::clamp<I128>((p + rq.add) >> rq.shift, rq.lo, rq.hi);
      };
      const I128 y_lo = y(ar.lo), y_hi = y(ar.hi);
      // a0: the last A giving what A's least value gives; a1: the first giving what its greatest gives
      int64_t lo = ar.lo, hi = ar.hi;
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo + 1) / 2;
        if (y(mid) == y_lo) lo = mid;
        else hi = mid - 1;
      }
      const int64_t a0 = lo;
      lo = ar.lo, hi = ar.hi;
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (y(mid) == y_hi) hi = mid;
        else lo = mid + 1;
      }
      const int64_t a1 = lo;
      if (a0 >= a1) continue;
      // the saturation's bounds: 0 or -2^k at or below a0, 2^m - 1 at or above a1
      int64_t blo = 0, bhi = 0;
      if (a0 < 0) {
        blo = -1;
        while (blo > a0) blo *= 2;
      }
      while (bhi < a1) bhi = bhi * 2 + 1;
      const Range sr{std::max(ar.lo, blo), std::min(ar.hi, bhi)};
      if (hw::ir2::TypeOf(sr).width >= hw::ir2::TypeOf(ar).width) continue;
      taken.insert(t.a);
      changes.push_back({t.a, t.x, blo, bhi, t.adds});
    }
    if (changes.empty()) return false;
    // Rebuild: the saturation right after A, its NOT right after A's NOT; the tree reads them instead.
    std::map<int, int> after;  // old node -> index into changes (A) or ~index - 1 (X)
    for (size_t k = 0; k < changes.size(); ++k) {
      after[changes[k].a] = static_cast<int>(k);
      if (changes[k].x >= 0) after[changes[k].x] = -static_cast<int>(k) - 1;
    }
    std::vector<int> map(g.nodes.size());
    std::vector<int> sat(changes.size()), sat_not(changes.size(), -1);
    std::vector<Node> out;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node n = g.nodes[i];
      for (Use& u : n.operands) u.node = map[u.node];
      map[i] = static_cast<int>(out.size());
      out.push_back(std::move(n));
      const auto it = after.find(static_cast<int>(i));
      if (it == after.end()) continue;
      if (it->second >= 0) {
        const Change& ch = changes[it->second];
        Node s;
        s.op = Op::kRequant;
        s.operands = {Use{map[i]}};
        s.lo = ch.lo, s.hi = ch.hi;
        s.group = g.nodes[i].group;
        s.comment = "The saturation of this neuron's output, applied to its accumulator before the multiply (clamp-early).";
        sat[it->second] = static_cast<int>(out.size());
        out.push_back(std::move(s));
      } else {
        const int k = -it->second - 1;
        Node x = g.nodes[i];
        x.operands = {Use{sat[k]}, Use{map[g.nodes[i].operands[1].node]}};
        x.comment.clear();
        sat_not[k] = static_cast<int>(out.size());
        out.push_back(std::move(x));
      }
    }
    for (size_t k = 0; k < changes.size(); ++k)
      for (int n : changes[k].adds)
        for (Use& u : out[map[n]].operands) {
          if (u.node == map[changes[k].a]) u.node = sat[k];
          else if (changes[k].x >= 0 && u.node == map[changes[k].x]) u.node = sat_not[k];
        }
    g.nodes = std::move(out);
    MakePass("range-analysis", {})->Run(g);
    return true;
  }

 private:
  // The adds under `root` (the requant's operand) read only inside the tree, and its one value A (and A's NOT).
  // False if the leaves read anything else or a tree value is read outside.
  bool FindTree(int root, Tree* t) const {
    const Graph& g = *g_;
    // the root too is read by the requant alone (another reader would see the saturated value)
    if (g.nodes[root].op != Op::kAdd || readers_[root].size() != 1) return false;
    std::vector<int> stack = {root};
    std::set<int> adds;
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      if (!adds.insert(n).second) return false;
      for (const Use& u : g.nodes[n].operands) {
        const Node& o = g.nodes[u.node];
        if (o.op == Op::kConst) continue;
        if (o.op == Op::kAdd && readers_[u.node].size() == 1) {
          stack.push_back(u.node);
          continue;
        }
        int a = u.node, x = -1;
        if (hw::ir2::IsBitwiseNot(g, o)) x = u.node, a = o.operands[0].node;
        if (t->a >= 0 && t->a != a) return false;
        if (x >= 0 && t->x >= 0 && t->x != x) return false;
        t->a = a;
        if (x >= 0) t->x = x;
      }
    }
    if (t->a < 0 || g.nodes[t->a].range.empty()) return false;
    // A (and its NOT) are read by the tree only
    for (int r : readers_[t->a])
      if (!adds.count(r) && r != t->x) return false;
    if (t->x >= 0)
      for (int r : readers_[t->x])
        if (!adds.count(r)) return false;
    t->adds.assign(adds.begin(), adds.end());  // node order
    return true;
  }

  const Graph* g_ = nullptr;
  std::vector<std::vector<int>> readers_;
};

}  // namespace

std::unique_ptr<Pass> MakeClampEarlyPass(const PassOptions&) { return std::make_unique<ClampEarly>(); }

}  // namespace hw::passes::ir2
