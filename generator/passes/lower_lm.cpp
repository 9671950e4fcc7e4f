#include "passes/lower_lm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "arith/adder_graph.h"
#include "arith/csd.h"
#include "common/diag.h"
#include "ir2/verify.h"
#include "passes/ir2_passes.h"

namespace hw::passes::lm {

using hw::ir2::Node;
using hw::ir2::Op;
using model::LmOp;

namespace {
constexpr int64_t kMask32 = 0xFFFFFFFFll;
bool Plain(const Use& u) { return u.shift == 0 && !u.neg; }
}  // namespace

int Builder::Push(Node n) {
  n.group = group_;
  return g_.Add(std::move(n));
}
Use Builder::Node1(Node n) { return Use{Push(std::move(n)), 0, 0, false}; }

void Builder::SetGroup(const std::string& name) {
  const auto it = std::find(g_.groups.begin(), g_.groups.end(), name);
  group_ = static_cast<int>(it - g_.groups.begin());
  if (it == g_.groups.end()) g_.groups.push_back(name);
}

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
  Push(std::move(n));
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
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      // the positive operand first, so that the Verilog reads "a - b" rather than "-b + a"
      const bool swap = level[i].neg && !level[i + 1].neg;
      next.push_back(Add({level[i + swap], level[i + !swap]}));
    }
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
  n.operands = {a};  // a shifted or negated operand goes into the requant's own adder
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
  Push(std::move(n));
}

void Builder::StateNextRow(const std::string& state, Use sid, const UseVec& values, Use enable) {
  Node n;
  n.op = Op::kStateNext;
  n.symbol = state;
  n.operands = {sid};
  n.operands.insert(n.operands.end(), values.begin(), values.end());
  n.operands.push_back(enable);
  Push(std::move(n));
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
  Push(std::move(n));
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
      const int id = b.Push(std::move(n));
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
  // The last prefix sum is the total, which exceeds the threshold (r < 2^32, and the total is at least 1: the
  // loader requires exp2[0] >= 1 and the largest logit contributes exp2[0]); its comparison is always false and
  // is left out, so the token's range is [0, V-1] (it fits the fed-back token's state).
  UseVec below;
  for (size_t j = 0; j + 1 < c.size(); ++j) below.push_back(b.Cmp(c[j], threshold, "le"));
  return below.empty() ? b.Const(0) : b.Sum(below);
}

Use LowerXorshift32(Builder& b, Use x) {
  const Use mask = b.Const(kMask32);
  const Use x1 = b.Xor(x, b.And(b.Add({b.Shifted(x, 13)}), mask));
  const Use x2 = b.Xor(x1, b.Shr(x1, b.Const(17)));
  return b.Xor(x2, b.And(b.Add({b.Shifted(x2, 5)}), mask));
}

}  // namespace hw::passes::lm

namespace hw::passes::lm {

namespace {

int BitsFor(int64_t max) {
  int b = 1;
  while ((int64_t{1} << b) <= max) ++b;
  return b;
}

void BuildModel(Builder& b, const model::LmModel& m, const LmLowerOptions& o) {
  hw::ir2::Graph& g = b.graph();
  const int T = m.context, V = m.vocab_size();
  const int tok_bits = BitsFor(V - 1), pos_bits = BitsFor(T);
  g.states.push_back({"pos", {pos_bits, false}, 0});
  g.states.push_back({"live", {1, false}, 0});
  g.states.push_back({"last", {tok_bits, false}, 0});
  g.states.push_back({"rng", {32, false}, 1});
  b.SetGroup("control");  // the stream scheduler: prompt port, per-stream position, live flag, random state
  const Use prompt_valid = b.Input("prompt_valid", 1, false);
  const Use prompt_first = b.Input("prompt_first", 1, false);
  const Use prompt_token = b.Input("prompt_token", tok_bits, false);
  const Use seed = b.Input("seed", 32, false);
  const Use greedy = b.Input("greedy", 1, false);
  const Use sid = b.StreamId();
  const Use pos_r = b.StateRead("pos", sid), live_r = b.StateRead("live", sid);
  const Use last_r = b.StateRead("last", sid), rng_r = b.StateRead("rng", sid);
  const Use first = b.And(prompt_valid, prompt_first);
  const Use p = b.Select(first, b.Const(0), b.Clamp(pos_r, 0, T));  // pos never exceeds T
  const Use live = b.Select(first, b.Const(1), live_r);
  const Use active = b.And(live, b.Cmp(p, b.Const(T), "lt"));
  const Use token = b.Select(prompt_valid, prompt_token, last_r);
  // Seeding (docs/semantics.md, "sample"): seed XOR ((stream + 1) * 0x9E3779B9 mod 2^32), never 0.
  std::vector<int64_t> mixes(g.streams);  // one constant per stream slot: a table, not a multiplier
  for (int s = 0; s < g.streams; ++s) mixes[s] = static_cast<int64_t>(static_cast<uint32_t>(s + 1) * 0x9E3779B9u);
  const Use mix = b.Lut(sid, 0, mixes);
  const Use s0 = b.Xor(seed, mix);
  const Use seeded = b.Select(b.Cmp(s0, b.Const(0), "eq"), b.Const(0x6D2B79F5ll), s0);
  const Use r = LowerXorshift32(b, b.Select(first, seeded, rng_r));

  std::vector<UseVec> val(m.values.size());
  val[0] = {token};
  val[1] = {p};
  UseVec next_token;
  int vid = 2;
  for (size_t oi = 0; oi < m.ops.size(); ++oi) {
    const LmOp& op = m.ops[oi];
    b.SetGroup(op.name);
    auto in = [&](int k) -> const UseVec& { return val[op.inputs[k]]; };
    switch (op.kind) {
      case model::LmOpKind::kEmbedding: val[vid++] = LowerEmbedding(b, op, in(0)[0]); break;
      case model::LmOpKind::kAdd: val[vid++] = LowerAdd(b, op, in(0), in(1)); break;
      case model::LmOpKind::kRmsNorm: val[vid++] = LowerRmsNorm(b, op, in(0)); break;
      case model::LmOpKind::kDense: val[vid++] = LowerDense(b, op, in(0), o.cmvm); break;
      case model::LmOpKind::kTable: val[vid++] = LowerTable(b, op, in(0)); break;
      case model::LmOpKind::kAttention: {
        const UseVec &q = in(0), &k = in(1), &v = in(2);
        const int len = op.length, hd = len / op.heads;
        const hw::ir2::Type kt = hw::ir2::TypeOf({m.values[op.inputs[1]].lo, m.values[op.inputs[1]].hi});
        const hw::ir2::Type vt = hw::ir2::TypeOf({m.values[op.inputs[2]].lo, m.values[op.inputs[2]].hi});
        // The K and V rows of every position, per stream; the current position reads this token's own k, v.
        std::vector<UseVec> kk(T), vv(T);
        UseVec valid(T), here(T);
        for (int j = 0; j < T; ++j) {
          valid[j] = b.Cmp(b.Const(j), p, "le");
          here[j] = b.Cmp(p, b.Const(j), "eq");
          const Use write = b.And(active, here[j]);
          // One memory word per stream for the K row and one for the V row of position j: written at position j
          // before any read uses it (so not cleared by reset), read whole at every later position.
          const std::string ks = fmt::format("{}_k{}", op.name, j), vs = fmt::format("{}_v{}", op.name, j);
          g.states.push_back({ks, kt, 0, /*reset=*/false, /*lanes=*/len});
          g.states.push_back({vs, vt, 0, /*reset=*/false, /*lanes=*/len});
          const Use krow = b.StateRead(ks, sid), vrow = b.StateRead(vs, sid);
          for (int e = 0; e < len; ++e) {
            kk[j].push_back(b.Select(here[j], k[e], Use{krow.node, e}));
            vv[j].push_back(b.Select(here[j], v[e], Use{vrow.node, e}));
          }
          b.StateNextRow(ks, sid, k, write);
          b.StateNextRow(vs, sid, v, write);
        }
        UseVec y(len);
        for (int h = 0; h < op.heads; ++h) {
          UseVec scores(T);
          for (int j = 0; j < T; ++j) {
            UseVec prods;
            for (int d = 0; d < hd; ++d) prods.push_back(b.Mul(q[h * hd + d], kk[j][h * hd + d]));
            scores[j] = b.Sum(prods);
          }
          const UseVec pr = LowerProbabilities(b, op, scores, valid);
          for (int d = 0; d < hd; ++d) {
            UseVec terms;
            for (int j = 0; j < T; ++j) terms.push_back(b.Mul(pr[j], vv[j][h * hd + d]));
            y[h * hd + d] = ScaleRequant(b, b.Sum(terms), op.requant.M(0), op.requant.S(0), op.lo, op.hi);
          }
        }
        val[vid++] = y;
        break;
      }
      case model::LmOpKind::kSample: {
        const UseVec& logits = in(0);
        next_token = {b.Select(greedy, LowerArgmax(b, logits), LowerSampled(b, op, logits, r))};
        break;
      }
    }
  }
  b.SetGroup("control");
  const Use p1 = b.Add({p, b.Const(1)});
  b.StateNext("pos", sid, p1, active);
  b.StateNext("live", sid, b.Cmp(p1, b.Const(T), "lt"), active);
  b.StateNext("last", sid, next_token[0], active);
  b.StateNext("rng", sid, r, active);
  b.Output("token", next_token[0]);
  b.Output("token_valid", active);
  b.Output("stream", sid);
  b.Output("position", b.Clamp(p, 0, T - 1));
  b.Output("done", b.And(active, b.Cmp(p1, b.Const(T), "eq")));
  for (int v : m.BlockBoundaries()) b.Output("tap_" + m.values[v].name, b.Sum(val[v]));
}

hw::ir2::Graph Build(const model::LmModel& m, const LmLowerOptions& o, int streams) {
  hw::ir2::Graph g;
  g.name = m.name;
  g.streams = streams;
  Builder b(g);
  BuildModel(b, m, o);
  return g;
}

}  // namespace

passes::ir2::PassOptions PassOptionsOf(const LmLowerOptions& o) {
  passes::ir2::PassOptions p;
  p.adders_per_stage = o.adders_per_stage;
  p.clock_ns = o.clock_ns;
  p.asic = o.asic;
  p.asic_library = o.asic_library;
  return p;
}

hw::ir2::Graph LowerLmModel(const model::LmModel& m, const LmLowerOptions& o) {
  // The stream count must cover the longest feedback loop (the chosen token is fed back to the same stream's
  // next slot). Schedule once to measure it; the schedule does not depend on S. The sink pass's moves
  // are bounded by S, so the measuring run leaves S unbounded; the real run's moves then stay within the S found.
  int streams = std::max(o.streams, 1);
  const passes::ir2::PassOptions timing = PassOptionsOf(o);
  if (o.streams == 0) {
    hw::ir2::Graph probe = Build(m, o, 1 << 20);  // no loop bound while measuring
    for (const char* p : {"range-analysis", "split-requant", "schedule", "sink"}) {
      const std::unique_ptr<passes::ir2::Pass> pass = passes::ir2::MakePass(p, timing);
      if (pass->Applies(probe)) pass->Run(probe);
    }
    for (const hw::ir2::FeedbackLoop& l : hw::ir2::FeedbackLoops(probe)) streams = std::max(streams, l.clocks());
  }
  hw::ir2::Graph g = Build(m, o, streams);
  passes::ir2::PassManager pm(passes::ir2::DefaultPipeline(), timing);
  pm.Run(g);
  return g;
}

}  // namespace hw::passes::lm
