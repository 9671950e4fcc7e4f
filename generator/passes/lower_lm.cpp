#include "passes/lower_lm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "arith/adder_graph.h"
#include "arith/csd.h"
#include "common/diag.h"

namespace hw::passes::lm {

using hw::ir2::Node;
using hw::ir2::Op;
using model::LmOp;

namespace {
constexpr int64_t kMask32 = 0xFFFFFFFFll;
bool Plain(const Use& u) { return u.shift == 0 && !u.neg; }
}  // namespace

Use Builder::Node1(Node n) { return Use{g_.Add(std::move(n)), 0, 0, false}; }

Use Builder::Input(const std::string& name, int bits, bool is_signed) {
  Node n;
  n.op = Op::kInput;
  n.symbol = name;
  n.type = {bits, is_signed};
  return Node1(std::move(n));
}

void Builder::Output(const std::string& name, Use u) {
  Node n;
  n.op = Op::kOutput;
  n.symbol = name;
  n.operands = {Plain(u) ? u : Add({u})};
  g_.Add(std::move(n));
}

Use Builder::Const(int64_t v) {
  for (const auto& [value, id] : consts_)
    if (value == v) return Use{id};
  Node n;
  n.op = Op::kConst;
  n.value = v;
  const Use u = Node1(std::move(n));
  consts_.push_back({v, u.node});
  return u;
}

Use Builder::Add(const UseVec& terms) {
  HW_CHECK(!terms.empty(), "empty add");
  Node n;
  n.op = Op::kAdd;
  n.operands = terms;
  return Node1(std::move(n));
}

Use Builder::Sum(const UseVec& terms) {
  if (terms.empty()) return Const(0);
  if (terms.size() == 1) return Plain(terms[0]) ? terms[0] : Add(terms);
  UseVec level = terms;
  while (level.size() > 1) {
    UseVec next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(Add({level[i], level[i + 1]}));
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  return Plain(level[0]) ? level[0] : Add(level);
}

#define HW_BINARY(NAME, OP)                     \
  Use Builder::NAME(Use a, Use b) {             \
    Node n;                                     \
    n.op = OP;                                  \
    n.operands = {a, b};                        \
    return Node1(std::move(n));                 \
  }
HW_BINARY(Mul, Op::kMul)
HW_BINARY(Max, Op::kMax)
HW_BINARY(Shl, Op::kShl)
HW_BINARY(Shr, Op::kShr)
HW_BINARY(And, Op::kAnd)
HW_BINARY(Xor, Op::kXor)
#undef HW_BINARY

Use Builder::ConstMul(Use a, int64_t m) {
  if (m == 0) return Const(0);
  UseVec terms;
  for (const arith::SignedDigit& d : arith::CsdDigits(m < 0 ? -m : m)) {
    Use t = a;
    t.shift += d.shift;
    t.neg = a.neg ^ d.neg ^ (m < 0);
    terms.push_back(t);
  }
  return Sum(terms);
}

Use Builder::Requant(Use a, int64_t add, int shift, int64_t lo, int64_t hi) {
  Node n;
  n.op = Op::kRequant;
  n.operands = {Plain(a) ? a : Add({a})};
  n.add = add;
  n.shift = shift;
  n.lo = lo;
  n.hi = hi;
  return Node1(std::move(n));
}

Use Builder::MaxTree(const UseVec& v) {
  HW_CHECK(!v.empty(), "empty max");
  UseVec level = v;
  while (level.size() > 1) {
    UseVec next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(Max(level[i], level[i + 1]));
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  return level[0];
}

Use Builder::Cmp(Use a, Use b, const char* pred) {
  Node n;
  n.op = Op::kCmp;
  n.operands = {a, b};
  for (int i = 0; i < 6; ++i)
    if (!std::strcmp(pred, hw::ir2::kPredicates[i])) n.pred = i;
  return Node1(std::move(n));
}

Use Builder::Select(Use c, Use a, Use b) {
  Node n;
  n.op = Op::kSelect;
  n.operands = {c, a, b};
  return Node1(std::move(n));
}

Use Builder::Lut(Use a, int64_t offset, const std::vector<int64_t>& table) {
  Node n;
  n.op = Op::kLut;
  n.operands = {a};
  n.offset = offset;
  n.table = table;
  return Node1(std::move(n));
}

Use Builder::Bitlen(Use a) {
  Node n;
  n.op = Op::kBitlen;
  n.operands = {a};
  return Node1(std::move(n));
}

Use Builder::StreamId() {
  for (size_t i = 0; i < g_.nodes.size(); ++i)
    if (g_.nodes[i].op == Op::kStreamId) return Use{static_cast<int>(i)};
  Node n;
  n.op = Op::kStreamId;
  return Node1(std::move(n));
}

Use Builder::StateRead(const std::string& state, Use sid) {
  Node n;
  n.op = Op::kStateRead;
  n.symbol = state;
  n.operands = {sid};
  return Node1(std::move(n));
}

void Builder::StateNext(const std::string& state, Use sid, Use value, Use enable) {
  Node n;
  n.op = Op::kStateNext;
  n.symbol = state;
  n.operands = {sid, value, enable};
  g_.Add(std::move(n));
}

Use Builder::MemRead(const std::string& mem, Use sid, Use addr) {
  Node n;
  n.op = Op::kMemRead;
  n.symbol = mem;
  n.operands = {sid, addr};
  return Node1(std::move(n));
}

void Builder::MemWrite(const std::string& mem, Use sid, Use addr, Use data, Use enable) {
  Node n;
  n.op = Op::kMemWrite;
  n.symbol = mem;
  n.operands = {sid, addr, data, enable};
  g_.Add(std::move(n));
}

Use ScaleRequant(Builder& b, Use acc, int64_t m, int64_t s, int64_t lo, int64_t hi) {
  const Use p = b.ConstMul(acc, m);
  return b.Requant(p, s > 0 ? int64_t{1} << (s - 1) : 0, static_cast<int>(s), lo, hi);
}

UseVec LowerEmbedding(Builder& b, const LmOp& op, Use index) {
  const Use idx = b.Clamp(index, 0, op.table_rows - 1);
  UseVec y;
  for (int e = 0; e < op.length; ++e) {
    std::vector<int64_t> column(op.table_rows);
    for (int r = 0; r < op.table_rows; ++r) column[r] = op.table[static_cast<size_t>(r) * op.length + e];
    y.push_back(b.Lut(idx, 0, column));
  }
  return y;
}

UseVec LowerAdd(Builder& b, const LmOp& op, const UseVec& x, const UseVec& y) {
  UseVec out;
  for (size_t i = 0; i < x.size(); ++i) out.push_back(b.Clamp(b.Add({x[i], y[i]}), op.lo, op.hi));
  return out;
}

UseVec LowerTable(Builder& b, const LmOp& op, const UseVec& x) {
  UseVec out;
  for (const Use& u : x) out.push_back(b.Lut(u, op.input_lo, op.table));
  return out;
}

UseVec LowerRmsNorm(Builder& b, const LmOp& op, const UseVec& x) {
  UseVec sq;
  for (const Use& u : x) sq.push_back(b.Mul(u, u));
  const Use ss = b.Sum(sq);
  // e = bitlen(ss) - 8, made even (bitlen 0, i.e. ss = 0, is treated as 1: the output is 0 either way)
  const Use bl = b.Max(b.Bitlen(ss), b.Const(1));
  const Use even = b.Add({bl, b.And(bl, b.Const(1))});
  const Use e = b.Add({even, b.Const(-8)});
  const Use right = b.Max(e, b.Const(0)), left = b.Max(b.Add({b.Neg(e)}), b.Const(0));
  const Use m = b.Clamp(b.Shr(b.Shl(ss, left), right), 64, 255);  // 64 <= m < 256 by construction
  const Use r = b.Lut(m, 64, op.table);
  const Use t = b.Add({b.Shr(e, b.Const(1)), b.Const(op.frac_bits)});
  const Use rounding = b.Shl(b.Const(1), b.Add({t, b.Const(-1)}));
  UseVec y;
  for (const Use& u : x) y.push_back(b.Clamp(b.Shr(b.Add({b.Mul(u, r), rounding}), t), op.lo, op.hi));
  return y;
}

UseVec LowerDense(Builder& b, const LmOp& op, const UseVec& x, const arith::CmvmOptions& cmvm) {
  arith::IntMatrix w{op.length, op.in_length, op.weight};
  const arith::AdderGraph g = arith::OptimizeCmvm(w, cmvm);
  std::vector<Use> node(g.num_nodes());
  for (int i = 0; i < g.num_inputs; ++i) node[i] = x[i];
  auto term = [&](const arith::Term& t) {
    Use u = node[t.node];
    u.shift += t.shift;
    u.neg ^= t.neg;
    return u;
  };
  for (size_t k = 0; k < g.adders.size(); ++k) node[g.num_inputs + k] = b.Add({term(g.adders[k].a), term(g.adders[k].b)});
  UseVec y;
  for (int o = 0; o < op.length; ++o) {
    const arith::Term& t = g.outputs[o];
    const int64_t m = op.requant.M(o), s = op.requant.S(o);
    if (t.is_zero()) {
      const int64_t r = s > 0 ? (int64_t{1} << (s - 1)) >> s : 0;
      y.push_back(b.Const(std::clamp(r, op.lo, op.hi)));
      continue;
    }
    // acc = +-(node << shift): fold the sign and shift into the constant multiplier
    const int64_t m_eff = (t.neg ? -m : m) * (int64_t{1} << t.shift);
    y.push_back(ScaleRequant(b, node[t.node], m_eff, s, op.lo, op.hi));
  }
  return y;
}

namespace {
// exp2w(u) = exp2[u mod 2^G] >> min(u >> G, 31).
Use Exp2Weight(Builder& b, const LmOp& op, Use u) {
  const Use frac = b.And(u, b.Const((int64_t{1} << op.exp_frac_bits) - 1));
  const Use whole = b.Clamp(b.Shr(u, b.Const(op.exp_frac_bits)), 0, 31);
  return b.Shr(b.Lut(frac, 0, op.table), whole);
}
constexpr int64_t kExponentMax = (int64_t{1} << 31) - 1;
}  // namespace

UseVec LowerProbabilities(Builder& b, const LmOp& op, const UseVec& scores, const UseVec& valid) {
  // Positions beyond the current one take score 0's value, which never changes the maximum (position 0 is
  // always valid); their weights are forced to 0 below.
  UseVec s;
  for (size_t j = 0; j < scores.size(); ++j) s.push_back(j == 0 ? scores[0] : b.Select(valid[j], scores[j], scores[0]));
  const Use mx = b.MaxTree(s);
  UseVec e;
  for (size_t j = 0; j < s.size(); ++j) {
    const Use u = ScaleRequant(b, b.Add({mx, b.Neg(s[j])}), op.score.M(0), op.score.S(0), 0, kExponentMax);
    const Use w = Exp2Weight(b, op, u);
    e.push_back(j == 0 ? w : b.Select(valid[j], w, b.Const(0)));
  }
  const Use total = b.Sum(e);
  const Use bl = b.Bitlen(total);
  const Use left = b.Max(b.Add({b.Const(9), b.Neg(bl)}), b.Const(0));
  const Use right = b.Max(b.Add({bl, b.Const(-9)}), b.Const(0));
  const Use mant = b.Clamp(b.Shr(b.Shl(total, left), right), 256, 511);
  const Use rc = b.Lut(mant, 256, op.reciprocal);
  const Use sh = b.Add({bl, b.Const(15 - op.prob_bits)});
  const Use rounding = b.Shl(b.Const(1), b.Add({sh, b.Const(-1)}));
  UseVec p;
  for (const Use& w : e) p.push_back(b.Shr(b.Add({b.Mul(w, rc), rounding}), sh));
  return p;
}

Use LowerArgmax(Builder& b, const UseVec& logits) {
  std::vector<std::pair<Use, Use>> level;  // (value, index); lower indices on the left, so ties keep them
  for (size_t j = 0; j < logits.size(); ++j) level.push_back({logits[j], b.Const(static_cast<int64_t>(j))});
  while (level.size() > 1) {
    std::vector<std::pair<Use, Use>> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      Node n;
      n.op = Op::kCmpSel;
      n.operands = {level[i].first, level[i].second, level[i + 1].first, level[i + 1].second};
      const int id = b.graph().Add(std::move(n));
      next.push_back({Use{id, 0}, Use{id, 1}});
    }
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  return level[0].second;
}

Use LowerSampled(Builder& b, const LmOp& sample, const UseVec& logits, Use r) {
  const Use mx = b.MaxTree(logits);
  UseVec e;
  for (const Use& l : logits)
    e.push_back(Exp2Weight(b, sample, ScaleRequant(b, b.Add({mx, b.Neg(l)}), sample.score.M(0), sample.score.S(0), 0, kExponentMax)));
  const Use total = b.Sum(e);
  const Use threshold = b.Shr(b.Mul(r, total), b.Const(32));
  // Prefix sums by recursive doubling (depth log2 V), then the token is the number of prefix sums that do
  // not exceed the threshold: the first j with e_0 + ... + e_j > threshold.
  UseVec c = e;
  for (size_t step = 1; step < c.size(); step *= 2) {
    UseVec next = c;
    for (size_t j = step; j < c.size(); ++j) next[j] = b.Add({c[j], c[j - step]});
    c = std::move(next);
  }
  UseVec below;
  for (const Use& cj : c) below.push_back(b.Cmp(cj, threshold, "le"));
  return b.Sum(below);
}

Use LowerXorshift32(Builder& b, Use x) {
  const Use mask = b.Const(kMask32);
  const Use x1 = b.Xor(x, b.And(b.Add({b.Shifted(x, 13)}), mask));
  const Use x2 = b.Xor(x1, b.Shr(x1, b.Const(17)));
  return b.Xor(x2, b.And(b.Add({b.Shifted(x2, 5)}), mask));
}

}  // namespace hw::passes::lm
