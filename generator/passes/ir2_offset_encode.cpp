#include "passes/ir2_offset_encode.h"

#include <fmt/format.h>

#include <map>

#include "common/diag.h"
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
constexpr I128 kLimit = I128{1} << 60;  // offsets and ranges stay well inside the IR's +-2^62

// How a value of the old graph is held in the new one: new value = p * old value + off.
struct Enc {
  int node = -1;
  int p = 1;
  I128 off = 0;
  bool exact() const { return p == 1 && off == 0; }
};

// A requant with a rounding adder of its own takes any offset (and sign) of its operand into its constant.
bool AbsorbingRequant(const Node& r) { return r.op == Op::kRequant && (r.add != 0 || r.operands[0].neg); }

int BitWidth(int64_t v) { return v <= 0 ? 1 : 64 - __builtin_clzll(static_cast<uint64_t>(v)); }

class OffsetEncode : public Pass {
 public:
  explicit OffsetEncode(bool on) : on_(on) {}
  std::string name() const override { return "offset-encode"; }
  VerifyLevel level() const override { return VerifyLevel::kRanges; }
  bool Applies(const Graph& g) const override { return on_ && g.states.empty() && g.memories.empty() && !g.scheduled(); }

  bool Run(Graph& g) override {
    g_ = &g;
    const int n = static_cast<int>(g.nodes.size());
    readers_.assign(n, {});
    for (int i = 0; i < n; ++i)
      for (const Use& u : g.nodes[i].operands) readers_[u.node].push_back(i);
    keep_exact_.assign(n, 0);
    force_frozen_.assign(n, 0);
    // An offset too large for a requant's constant (or for any encoding of a sum) makes that value exact, and
    // the encoding is done again (each round fixes one more value; rare: wide, deeply shifted sums).
    for (bool done = false; !done;) {
      FindRoots();
      out_.clear();
      inverted_.clear();
      enc_.assign(n, Enc{});
      fresh_const_.assign(n, {-1, 1});
      done = true;
      for (int i = 0; i < n && done; ++i) {
        if (IsAdd(i) && !frozen_[i]) done = Encode(i);
        else done = Copy(i);
      }
    }
    RemoveDeadConstants();
    const bool changed = out_ != g.nodes;
    if (changed) g.nodes = std::move(out_);
    return changed;
  }

 private:
  bool IsAdd(int i) const { return g_->nodes[i].op == Op::kAdd; }
  bool Absorbs(int r) const { return AbsorbingRequant(g_->nodes[r]) && !keep_exact_[g_->nodes[r].operands[0].node]; }
  // Operand index of a constant read at shift 0 by add i, or -1.
  int ConstOperand(int i) const {
    const auto& ops = g_->nodes[i].operands;
    for (size_t j = 0; j < ops.size(); ++j)
      if (g_->nodes[ops[j].node].op == Op::kConst && ops[j].shift == 0) return static_cast<int>(j);
    return -1;
  }

  // Roots: adds a non-add reads (other than a requant with its own rounding adder); they are made exact again by
  // a constant of their own or of a child add only they read (the fixer). Roots without one are frozen (computed
  // as before), and so is everything they read.
  void FindRoots() {
    const int n = static_cast<int>(g_->nodes.size());
    root_.assign(n, 0);
    frozen_.assign(n, 0);
    fixer_.assign(n, -1);
    for (int i = 0; i < n; ++i)
      if (IsAdd(i)) {
        root_[i] = keep_exact_[i];
        for (int r : readers_[i]) root_[i] |= !IsAdd(r) && !Absorbs(r);
      }
    for (int i = 0; i < n; ++i) {
      if (!root_[i]) continue;
      if (ConstOperand(i) >= 0) {
        fixer_[i] = i;
        continue;
      }
      for (const Use& u : g_->nodes[i].operands)
        if (IsAdd(u.node) && u.shift == 0 && readers_[u.node].size() == 1 && !root_[u.node] && ConstOperand(u.node) >= 0) {
          fixer_[i] = u.node;
          break;
        }
      frozen_[i] = fixer_[i] < 0;
    }
    for (int i = 0; i < n; ++i) frozen_[i] |= force_frozen_[i];
    for (int i = n - 1; i >= 0; --i)
      if (frozen_[i])
        for (const Use& u : g_->nodes[i].operands)
          if (IsAdd(u.node)) frozen_[u.node] = 1;
    is_fixer_.assign(n, 0);
    for (int i = 0; i < n; ++i)
      if (fixer_[i] >= 0) is_fixer_[fixer_[i]] = 1;
  }

  int Push(Node&& x) {
    out_.push_back(std::move(x));
    return static_cast<int>(out_.size()) - 1;
  }
  int MakeConst(int64_t v, int group) {
    Node c;
    c.op = Op::kConst;
    c.value = v;
    c.range = {{v, v}};
    c.group = group;
    return Push(std::move(c));
  }
  // The bit-inverted copy of new node k (k >= 0): xor k, 2^w - 1 = 2^w - 1 - k over its w bits. One per node.
  int Inverted(int k, int group) {
    if (const auto it = inverted_.find(k); it != inverted_.end()) return it->second;
    const Range r = out_[k].range[0];
    const int64_t mask = (int64_t{1} << BitWidth(r.hi)) - 1;
    const int c = MakeConst(mask, group);
    Node x;
    x.op = Op::kXor;
    x.operands = {Use{k}, Use{c}};
    x.range = {{mask - r.hi, mask - r.lo}};
    x.group = group;
    return inverted_[k] = Push(std::move(x));
  }

  // Everything but a free add: its operands are exact, except a requant's, which takes their offset. False (and
  // the operand marked to stay exact) if that offset does not fit the requant's constant.
  bool Copy(int i) {
    Node x = g_->nodes[i];
    for (Use& u : x.operands) {
      const Enc& e = enc_[u.node];
      if (!e.exact()) {
        HW_CHECK(Absorbs(i), fmt::format("offset-encode: %{} reads an offset value", i));
        const int sigma = u.neg ? -1 : 1;
        const I128 add = u.shift >= 62 ? kLimit : I128{x.add} - I128{sigma * e.p} * (e.off * (I128{1} << u.shift));
        if (add <= -kLimit || add >= kLimit) {
          keep_exact_[g_->nodes[i].operands[0].node] = 1;
          return false;
        }
        x.add = static_cast<int64_t>(add);
        u.neg = sigma * e.p < 0;
      }
      u.node = e.node;
    }
    enc_[i] = Enc{Push(std::move(x)), 1, 0};
    return true;
  }

  bool Encode(int i) {
    const Node& old = g_->nodes[i];
    const Range tr = old.range[0];  // the exact range of the value
    const auto& ops = old.operands;
    auto is_const = [&](size_t j) { return g_->nodes[ops[j].node].op == Op::kConst; };
    auto can_invert = [&](size_t j) {
      const Range r = out_[enc_[ops[j].node].node].range[0];
      return r.lo >= 0 && r.hi >= 1 && r.hi < (int64_t{1} << 58);
    };
    auto mask = [&](size_t j) { return (I128{1} << BitWidth(out_[enc_[ops[j].node].node].range[0].hi)) - 1; };
    // Options: polarity p (store v or -v) and whether negated terms are inverted bits instead of subtracted.
    struct Option {
      int p;
      bool invert;
      I128 off;
      Range range;
      int width;
    };
    Option best{0, false, 0, {}, 1 << 30};
    for (int p : {1, -1})
      for (bool invert : {false, true}) {
        if (root_[i] && (p != 1 || invert)) continue;  // a root is made exact: plain subtraction, no polarity
        I128 off = 0;
        for (size_t j = 0; j < ops.size(); ++j) {
          if (is_const(j)) continue;
          const Enc& e = enc_[ops[j].node];
          const I128 k = I128{1} << ops[j].shift;
          const int q = p * (ops[j].neg ? -1 : 1) * e.p;
          if (q > 0) off += e.off * k;
          else if (invert && can_invert(j)) off += (mask(j) - e.off) * k;
          else off -= e.off * k;
        }
        if (off <= -kLimit || off >= kLimit) continue;
        const I128 lo = root_[i] ? tr.lo : (p > 0 ? I128{tr.lo} : -I128{tr.hi}) + off;
        const I128 hi = root_[i] ? tr.hi : (p > 0 ? I128{tr.hi} : -I128{tr.lo}) + off;
        if (lo <= -kLimit || hi >= kLimit) continue;
        const Range r{static_cast<int64_t>(lo), static_cast<int64_t>(hi)};
        const int w = hw::ir2::TypeOf(r).width;
        // the narrowest; at equal width an unsigned one, so that readers can invert it in turn
        if (w < best.width || (w == best.width && r.lo >= 0 && best.range.lo < 0)) best = Option{p, invert, off, r, w};
      }
    if (best.p == 0) {  // every encoding leaves the IR's limits: the sum is made exact, or computed as before
      (root_[i] ? force_frozen_ : keep_exact_)[i] = 1;
      return false;
    }
    Node x = old;
    x.operands.clear();
    int const_node = -1, const_sign = 1;
    for (size_t j = 0; j < ops.size(); ++j) {
      const Use& u = ops[j];
      const int sigma = u.neg ? -1 : 1;
      if (is_const(j)) {
        // a constant keeps its value (times the polarity); a fixer's is a fresh node, to be adjusted below
        const int c = is_fixer_[i] && u.shift == 0 && const_node < 0 ? MakeConst(g_->nodes[u.node].value, old.group) : enc_[u.node].node;
        if (out_[c].op == Op::kConst && c != enc_[u.node].node) const_node = c, const_sign = best.p * sigma;
        x.operands.push_back(Use{c, 0, u.shift, best.p * sigma < 0});
        continue;
      }
      const Enc& e = enc_[u.node];
      const int q = best.p * sigma * e.p;
      if (q > 0) x.operands.push_back(Use{e.node, 0, u.shift, false});
      else if (best.invert && can_invert(j)) x.operands.push_back(Use{Inverted(e.node, old.group), 0, u.shift, false});
      else x.operands.push_back(Use{e.node, 0, u.shift, true});
    }
    if (x.operands.size() == 2 && x.operands[0].neg && !x.operands[1].neg) std::swap(x.operands[0], x.operands[1]);  // "a - b"
    x.range = {best.range};
    enc_[i] = Enc{Push(std::move(x)), best.p, best.off};
    fresh_const_[i] = {const_node, const_sign};
    if (root_[i] && best.off != 0) return TakeOutOffset(i);
    return true;
  }

  // Root i holds v + off: change the constant of its fixer (itself or a child) by what makes off 0. False (and the
  // root marked to stay exact with its operands) if the constant would leave the IR's limits.
  bool TakeOutOffset(int i) {
    Enc& e = enc_[i];
    const int f = fixer_[i];
    const auto [c, tau] = fresh_const_[f];
    HW_CHECK(c >= 0, fmt::format("offset-encode: root %{} has no constant to adjust", i));
    int q = 1;  // the sign with which the fixer's value enters the root
    if (f != i) {
      for (const Use& u : out_[e.node].operands)
        if (u.node == enc_[f].node) q = u.neg ? -1 : 1;
    }
    const I128 delta = -e.off * q * tau;  // change of the constant's value
    const I128 v = I128{out_[c].value} + delta;
    const Range cr = out_[enc_[f].node].range[0];
    if (v <= -kLimit || v >= kLimit || (f != i && (I128{cr.lo} + tau * delta <= -kLimit || I128{cr.hi} + tau * delta >= kLimit))) {
      force_frozen_[i] = 1;
      return false;
    }
    out_[c].value = static_cast<int64_t>(v);
    out_[c].range = {{out_[c].value, out_[c].value}};
    if (f != i) {  // the child's value moves by tau * delta
      Enc& ef = enc_[f];
      ef.off += tau * delta;
      Range& r = out_[ef.node].range[0];
      r = Range{static_cast<int64_t>(I128{r.lo} + tau * delta), static_cast<int64_t>(I128{r.hi} + tau * delta)};
    }
    e.off = 0;
    out_[e.node].range = {g_->nodes[i].range[0]};
    return true;
  }

  void RemoveDeadConstants() {
    std::vector<int> uses(out_.size(), 0);
    for (const Node& x : out_)
      for (const Use& u : x.operands) ++uses[u.node];
    std::vector<int> map(out_.size(), -1);
    std::vector<Node> kept;
    for (size_t k = 0; k < out_.size(); ++k) {
      if (out_[k].op == Op::kConst && uses[k] == 0) continue;
      Node x = std::move(out_[k]);
      for (Use& u : x.operands) u.node = map[u.node];
      map[k] = static_cast<int>(kept.size());
      kept.push_back(std::move(x));
    }
    out_ = std::move(kept);
  }

  bool on_;
  const Graph* g_ = nullptr;
  std::vector<std::vector<int>> readers_;
  std::vector<char> root_, frozen_, is_fixer_;
  std::vector<char> keep_exact_, force_frozen_;  // found in earlier rounds: must be exact / computed as before
  std::vector<int> fixer_;
  std::vector<Node> out_;
  std::vector<Enc> enc_;
  std::vector<std::pair<int, int>> fresh_const_;  // per old add: its adjustable constant (new node, sign in the sum)
  std::map<int, int> inverted_;
};

}  // namespace

std::unique_ptr<Pass> MakeOffsetEncodePass(const PassOptions& o) { return std::make_unique<OffsetEncode>(o.offset_binary); }

}  // namespace hw::passes::ir2
