#include "passes/ir2_clamp_early.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>
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

// The number of bits of 2^k - 1.
int TypeOfBits(int64_t all_ones) { return hw::ir2::TypeOf(Range{0, all_ones}).width; }

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
      int64_t base = 0;               // a window's L (0: bounds 0 / -2^k / 2^m - 1)
      int const_add = -1, const_slot = 0;  // the tree's constant that takes L back (a window only) ...
      int64_t const_value = 0;        // ... and its new value
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
      // The tree's root as a function of its leaves' values (A, its NOT, a constant): the adds are in node order.
      auto root = [&](const std::function<I128(int)>& leaf) {
        std::map<int, I128> v;
        for (int n : t.adds) {
          I128 s = 0;
          for (const Use& u : g.nodes[n].operands) {
            const bool inner = g.nodes[u.node].op == Op::kAdd && v.count(u.node);
            s += (u.neg ? -1 : 1) * ((inner ? v.at(u.node) : leaf(u.node)) * (I128{1} << u.shift));
          }
          v[n] = s;
        }
        return v.at(rq.operands[0].node);
      };
      auto old_leaf = [&](int64_t a) {
        return [&, a](int n) { return n == t.a ? I128{a} : n == t.x ? mask - a : I128{g.nodes[n].value}; };
      };
      // y as a function of A's stored value (monotone: the tree is affine in A, the requant monotone)
      auto y = [&](int64_t a) {
        const Use& u = rq.operands[0];
        const I128 p = (u.neg ? -1 : 1) * (root(old_leaf(a)) * (I128{1} << u.shift));
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
      Change ch{t.a, t.x, blo, bhi, t.adds};
      int width = hw::ir2::TypeOf(sr).width;
      // Or a window: [L, L + 2^k - 1] with L a multiple of 2^k around [a0, a1], stored minus L (its low k bits),
      // when a constant of the tree can take L back: the tree then reads A - L, and its constant grows by what
      // that takes away. Offset binary (offset-encode) puts many intervals away from 0, where 0 / -2^k / 2^m - 1
      // bounds cannot narrow A.
      int k = 0;
      while (k < 62 && (a0 >> k) != (a1 >> k)) ++k;  // none when a0 < 0 <= a1
      const int64_t base = (a0 >> k) * (int64_t{1} << k);
      const Range wr{std::max(ar.lo, base) - base, std::min(ar.hi, base + (int64_t{1} << k) - 1) - base};
      if ((a0 >> k) == (a1 >> k) && k < 62 && base != 0 && hw::ir2::TypeOf(wr).width < width) {
        // the tree with A - L for A (and the NOT of A - L at k bits for A's NOT): f(v) with its constant at v
        for (int n : t.adds)
          for (size_t j = 0; j < g.nodes[n].operands.size() && ch.const_add < 0; ++j)
            if (g.nodes[g.nodes[n].operands[j].node].op == Op::kConst) ch.const_add = n, ch.const_slot = static_cast<int>(j);
        // f(v) below varies every use of that constant node: it must be used once in the tree
        int uses = 0;
        if (ch.const_add >= 0)
          for (int n : t.adds)
            for (const Use& u : g.nodes[n].operands) uses += u.node == g.nodes[ch.const_add].operands[ch.const_slot].node;
        if (ch.const_add >= 0 && uses == 1) {
          const int c = g.nodes[ch.const_add].operands[ch.const_slot].node;
          const I128 kmask = (I128{1} << k) - 1;
          auto f = [&](I128 v) {
            return root([&](int n) {
              if (n == t.a) return I128{0};
              if (n == t.x) return kmask;
              return n == c ? v : I128{g.nodes[n].value};
            });
          };
          const I128 v = g.nodes[c].value, slope = f(v + 1) - f(v), want = root(old_leaf(base));
          if (slope != 0 && (want - f(v)) % slope == 0) {
            const I128 nv = v + (want - f(v)) / slope;
            if (nv >= std::numeric_limits<int64_t>::min() / 4 && nv <= std::numeric_limits<int64_t>::max() / 4) {
              ch.lo = 0, ch.hi = (int64_t{1} << k) - 1, ch.base = base, ch.const_value = static_cast<int64_t>(nv);
              width = hw::ir2::TypeOf(wr).width;
            }
          }
        }
        if (ch.base == 0) ch.const_add = -1;
      }
      if (width >= hw::ir2::TypeOf(ar).width) continue;
      taken.insert(t.a);
      changes.push_back(std::move(ch));
    }
    if (changes.empty()) return false;
    // Rebuild: the saturation right after A, its NOT right after A's NOT; the tree reads them instead.
    std::map<int, int> after;  // old node -> index into changes (A) or ~index - 1 (X)
    for (size_t k = 0; k < changes.size(); ++k) {
      after[changes[k].a] = static_cast<int>(k);
      if (changes[k].x >= 0) after[changes[k].x] = -static_cast<int>(k) - 1;
    }
    std::vector<int> map(g.nodes.size());
    std::vector<int> sat(changes.size()), sat_not(changes.size(), -1), fixed(changes.size(), -1);
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
        s.add = -ch.base;
        s.lo = ch.lo, s.hi = ch.hi;
        s.group = g.nodes[i].group;
        s.comment = ch.base == 0
                        ? "The saturation of this neuron's output, applied to its accumulator before the multiply (clamp-early)."
                        : fmt::format("The saturation of this neuron's output, applied to its accumulator before the multiply (clamp-early): "
                                      "the window [{}, {}] minus {}, its low {} bits; the multiply's constant takes the {} back.",
                                      ch.base, ch.base + ch.hi, ch.base, TypeOfBits(ch.hi), ch.base);
        sat[it->second] = static_cast<int>(out.size());
        out.push_back(std::move(s));
        if (ch.base != 0) {
          Node c;
          c.op = Op::kConst;
          c.value = ch.const_value;
          c.group = g.nodes[i].group;
          fixed[it->second] = static_cast<int>(out.size());
          out.push_back(std::move(c));
        }
      } else {
        const int k = -it->second - 1;
        const Change& ch = changes[k];
        int mask = map[g.nodes[i].operands[1].node];
        if (ch.base != 0) {  // the NOT of A - L: its k bits inverted
          Node c;
          c.op = Op::kConst;
          c.value = ch.hi;
          c.group = g.nodes[i].group;
          mask = static_cast<int>(out.size());
          out.push_back(std::move(c));
        }
        Node x = g.nodes[i];
        x.operands = {Use{sat[k]}, Use{mask}};
        x.comment.clear();
        sat_not[k] = static_cast<int>(out.size());
        out.push_back(std::move(x));
      }
    }
    for (size_t k = 0; k < changes.size(); ++k) {
      for (int n : changes[k].adds)
        for (Use& u : out[map[n]].operands) {
          if (u.node == map[changes[k].a]) u.node = sat[k];
          else if (changes[k].x >= 0 && u.node == map[changes[k].x]) u.node = sat_not[k];
        }
      if (changes[k].base != 0) out[map[changes[k].const_add]].operands[changes[k].const_slot].node = fixed[k];
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
