#include "ir2/op_table.h"

#include <algorithm>
#include <limits>

#include "common/diag.h"

namespace hw::ir2 {

namespace {

const Range& R(const Graph& g, const Use& u) { return g.nodes[u.node].range[u.result]; }
Range Hull(const Range& a, const Range& b) { return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)}; }
int64_t Sat(__int128 v) {
  // Ranges beyond +-2^62 are clamped here and rejected by the verifier.
  const __int128 lim = __int128{1} << 62;
  return static_cast<int64_t>(std::clamp(v, -lim, lim));
}
int BitLen(int64_t v) { return v <= 0 ? 0 : 64 - __builtin_clzll(static_cast<uint64_t>(v)); }
int64_t ShrValue(int64_t a, int64_t b) { return b >= 63 ? (a < 0 ? -1 : 0) : a >> b; }
int64_t Requant(const Node& n, int64_t a) { return std::clamp((a + n.add) >> n.shift, n.lo, n.hi); }
int64_t Shifted(const Use& u, int64_t v) {
  const int64_t s = v * (int64_t{1} << u.shift);
  return u.neg ? -s : s;
}
int SymbolIndex(const EvalContext& c) { return (*c.symbol_index)[c.node]; }
// Flat address of a memory access: per-stream memories take (stream, address) operands.
int64_t FlatAddress(const MemDecl& m, const std::vector<int64_t>& v) {
  return m.per_stream ? v[0] * m.depth + v[1] : v[0];
}
int PortIndex(const EvalContext& c) { return (*c.port_index)[c.node]; }

Range NoRange(const Graph&, const Node&, int) { return {}; }

const std::vector<OpInfo> kOps = {
    {Op::kInput, "input", 0, 0, 1, SymbolKind::kPort, 0, false,
     [](const Graph&, const Node& n, int) { return Range{n.type.min(), n.type.max()}; },
     [](const EvalContext& c, const Node&, const std::vector<int64_t>&, int64_t* r) {
       r[0] = (*c.inputs)[PortIndex(c)];
     }},
    {Op::kConst, "const", 0, 0, 1, SymbolKind::kNone, 0, false,
     [](const Graph&, const Node& n, int) { return Range{n.value, n.value}; },
     [](const EvalContext&, const Node& n, const std::vector<int64_t>&, int64_t* r) { r[0] = n.value; }},
    {Op::kAdd, "add", 1, -1, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) {
       __int128 lo = 0, hi = 0;
       for (const Use& u : n.operands) {
         const Range& x = R(g, u);
         const __int128 a = static_cast<__int128>(x.lo) << u.shift, b = static_cast<__int128>(x.hi) << u.shift;
         lo += u.neg ? -b : a;
         hi += u.neg ? -a : b;
       }
       return Range{Sat(lo), Sat(hi)};
     },
     [](const EvalContext&, const Node& n, const std::vector<int64_t>& v, int64_t* r) {
       int64_t s = 0;
       for (size_t i = 0; i < v.size(); ++i) s += Shifted(n.operands[i], v[i]);
       r[0] = s;
     },
     true},
    {Op::kMul, "mul", 2, 2, 1, SymbolKind::kNone, 2, false,
     [](const Graph& g, const Node& n, int) {
       const Range &a = R(g, n.operands[0]), &b = R(g, n.operands[1]);
       if (n.operands[0] == n.operands[1]) {  // a square is never negative
         const __int128 l = __int128{a.lo} * a.lo, h = __int128{a.hi} * a.hi;
         return Range{a.lo <= 0 && a.hi >= 0 ? 0 : Sat(std::min(l, h)), Sat(std::max(l, h))};
       }
       const __int128 p[4] = {__int128{a.lo} * b.lo, __int128{a.lo} * b.hi, __int128{a.hi} * b.lo, __int128{a.hi} * b.hi};
       return Range{Sat(*std::min_element(p, p + 4)), Sat(*std::max_element(p, p + 4))};
     },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = v[0] * v[1]; }},
    {Op::kRequant, "requant", 1, 1, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) {
       // monotonic in its operand: the ends of the operand's (shifted, maybe negated) range
       const Range a = OperandRange(g, n.operands[0]);
       return Range{Requant(n, a.lo), Requant(n, a.hi)};
     },
     [](const EvalContext&, const Node& n, const std::vector<int64_t>& v, int64_t* r) { r[0] = Requant(n, Shifted(n.operands[0], v[0])); },
     true},
    {Op::kMax, "max", 2, 2, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) {
       const Range &a = R(g, n.operands[0]), &b = R(g, n.operands[1]);
       return Range{std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
     },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = std::max(v[0], v[1]); }},
    {Op::kCmpSel, "cmpsel", 4, 4, 2, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int res) {
       if (res == 0) {
         const Range &a = R(g, n.operands[0]), &b = R(g, n.operands[2]);
         return Range{std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
       }
       return Hull(R(g, n.operands[1]), R(g, n.operands[3]));
     },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) {
       const bool b = v[2] > v[0];
       r[0] = b ? v[2] : v[0];
       r[1] = b ? v[3] : v[1];
     }},
    {Op::kSelect, "select", 3, 3, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) { return Hull(R(g, n.operands[1]), R(g, n.operands[2])); },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = v[0] != 0 ? v[1] : v[2]; }},
    {Op::kLut, "lut", 1, 1, 1, SymbolKind::kNone, 1, false,
     [](const Graph&, const Node& n, int) {
       return Range{*std::min_element(n.table.begin(), n.table.end()), *std::max_element(n.table.begin(), n.table.end())};
     },
     [](const EvalContext&, const Node& n, const std::vector<int64_t>& v, int64_t* r) { r[0] = n.table.at(v[0] - n.offset); }},
    {Op::kStreamId, "stream_id", 0, 0, 1, SymbolKind::kNone, 0, false,
     [](const Graph& g, const Node&, int) { return Range{0, g.streams - 1}; },
     [](const EvalContext& c, const Node&, const std::vector<int64_t>&, int64_t* r) { r[0] = c.stream; }},
    {Op::kStateRead, "state_read", 1, 1, 1, SymbolKind::kState, 1, false,
     [](const Graph& g, const Node& n, int) {
       const StateDecl* s = g.FindState(n.symbol);
       return Range{s->type.min(), s->type.max()};
     },
     [](const EvalContext& c, const Node&, const std::vector<int64_t>& v, int64_t* r) {
       const int lanes = c.graph->states[SymbolIndex(c)].lanes;
       for (int l = 0; l < lanes; ++l) r[l] = (*c.states)[SymbolIndex(c)][v[0] * lanes + l];
     }},
    {Op::kStateNext, "state_next", 2, -1, 0, SymbolKind::kState, 0, true, NoRange,
     [](const EvalContext& c, const Node&, const std::vector<int64_t>& v, int64_t*) {
       const int lanes = c.graph->states[SymbolIndex(c)].lanes;
       if (static_cast<int>(v.size()) == lanes + 2 && v[lanes + 1] == 0) return;
       for (int l = 0; l < lanes; ++l) c.writes->push_back({true, SymbolIndex(c), v[0] * lanes + l, v[1 + l]});
     }},
    {Op::kMemRead, "mem_read", 1, 2, 1, SymbolKind::kMemory, 1, false,
     [](const Graph& g, const Node& n, int) {
       const MemDecl* m = g.FindMemory(n.symbol);
       if (!m->init.empty() && m->per_stream == false) {
         bool written = false;
         for (const Node& o : g.nodes) written |= o.op == Op::kMemWrite && o.symbol == n.symbol;
         if (!written) return Range{*std::min_element(m->init.begin(), m->init.end()), *std::max_element(m->init.begin(), m->init.end())};
       }
       return Range{m->type.min(), m->type.max()};
     },
     [](const EvalContext& c, const Node&, const std::vector<int64_t>& v, int64_t* r) {
       const int mi = SymbolIndex(c);
       r[0] = (*c.memories)[mi].at(FlatAddress(c.graph->memories[mi], v));
     }},
    {Op::kMemWrite, "mem_write", 2, 4, 0, SymbolKind::kMemory, 0, true, NoRange,
     [](const EvalContext& c, const Node&, const std::vector<int64_t>& v, int64_t*) {
       const int mi = SymbolIndex(c);
       const MemDecl& m = c.graph->memories[mi];
       const size_t addr_ops = m.per_stream ? 2 : 1;
       if (v.size() == addr_ops + 2 && v.back() == 0) return;
       c.writes->push_back({false, mi, FlatAddress(m, v), v[addr_ops]});
     }},
    {Op::kReg, "reg", 1, 1, 1, SymbolKind::kNone, 0, false,
     [](const Graph& g, const Node& n, int) { return R(g, n.operands[0]); },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = v[0]; }},
    {Op::kCmp, "cmp", 2, 2, 1, SymbolKind::kNone, 1, false,
     [](const Graph&, const Node&, int) { return Range{0, 1}; },
     [](const EvalContext&, const Node& n, const std::vector<int64_t>& v, int64_t* r) { r[0] = ComparePredicate(n.pred, v[0], v[1]); }},
    {Op::kShl, "shl", 2, 2, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) {
       const Range &a = R(g, n.operands[0]), &b = R(g, n.operands[1]);
       const int64_t bl = std::clamp<int64_t>(b.lo, 0, 62), bh = std::clamp<int64_t>(b.hi, 0, 62);
       const __int128 c[4] = {__int128{a.lo} << bl, __int128{a.lo} << bh, __int128{a.hi} << bl, __int128{a.hi} << bh};
       return Range{Sat(*std::min_element(c, c + 4)), Sat(*std::max_element(c, c + 4))};
     },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = v[0] * (int64_t{1} << v[1]); }},
    {Op::kShr, "shr", 2, 2, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) {
       const Range &a = R(g, n.operands[0]), &b = R(g, n.operands[1]);
       const int64_t bl = std::max<int64_t>(b.lo, 0), bh = std::max<int64_t>(b.hi, 0);
       return Range{std::min(ShrValue(a.lo, bl), ShrValue(a.lo, bh)), std::max(ShrValue(a.hi, bl), ShrValue(a.hi, bh))};
     },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = ShrValue(v[0], v[1]); }},
    {Op::kBitlen, "bitlen", 1, 1, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) {
       const Range& a = R(g, n.operands[0]);
       return Range{BitLen(a.lo), BitLen(a.hi)};
     },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = BitLen(v[0]); }},
    {Op::kAnd, "and", 2, 2, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) { return Range{0, std::min(R(g, n.operands[0]).hi, R(g, n.operands[1]).hi)}; },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = v[0] & v[1]; }},
    {Op::kXor, "xor", 2, 2, 1, SymbolKind::kNone, 1, false,
     [](const Graph& g, const Node& n, int) {
       const int b = BitLen(std::max(R(g, n.operands[0]).hi, R(g, n.operands[1]).hi));
       return Range{0, b >= 63 ? (int64_t{1} << 62) : (int64_t{1} << b) - 1};
     },
     [](const EvalContext&, const Node&, const std::vector<int64_t>& v, int64_t* r) { r[0] = v[0] ^ v[1]; }},
    {Op::kOutput, "output", 1, 1, 0, SymbolKind::kPort, 0, true, NoRange,
     [](const EvalContext& c, const Node& n, const std::vector<int64_t>& v, int64_t*) {
       (*c.outputs)[PortIndex(c)] = Shifted(n.operands[0], v[0]);
     },
     true},
};

}  // namespace

const std::vector<OpInfo>& AllOps() { return kOps; }

int Results(const Graph& g, const Node& n) {
  if (n.op == Op::kStateRead)
    if (const StateDecl* s = g.FindState(n.symbol)) return s->lanes;
  return Info(n.op).results;
}

const OpInfo& Info(Op op) {
  const OpInfo& i = kOps[static_cast<size_t>(op)];
  HW_CHECK(i.op == op, "op table out of order");
  return i;
}

const OpInfo* FindOp(const std::string& name) {
  for (const OpInfo& i : kOps)
    if (name == i.name) return &i;
  return nullptr;
}

int64_t Type::min() const { return is_signed ? -(int64_t{1} << (width - 1)) : 0; }
int64_t Type::max() const {
  if (width >= 64) return std::numeric_limits<int64_t>::max();
  return is_signed ? (int64_t{1} << (width - 1)) - 1 : (int64_t{1} << width) - 1;
}

Type TypeOf(const Range& r) {
  Type t;
  t.is_signed = r.lo < 0;
  t.width = 1;
  while (t.width < 64 && (r.lo < t.min() || r.hi > t.max())) ++t.width;
  return t;
}

const StateDecl* Graph::FindState(const std::string& n) const {
  if (state_index_.size() != states.size()) {
    state_index_.clear();
    for (size_t i = 0; i < states.size(); ++i) state_index_.emplace(states[i].name, static_cast<int>(i));
  }
  const auto it = state_index_.find(n);
  return it == state_index_.end() || states[it->second].name != n ? nullptr : &states[it->second];
}
const MemDecl* Graph::FindMemory(const std::string& n) const {
  for (const MemDecl& m : memories)
    if (m.name == n) return &m;
  return nullptr;
}
std::vector<int> Graph::Inputs() const {
  std::vector<int> v;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].op == Op::kInput) v.push_back(static_cast<int>(i));
  return v;
}
std::vector<int> Graph::Outputs() const {
  std::vector<int> v;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].op == Op::kOutput) v.push_back(static_cast<int>(i));
  return v;
}

Range OperandRange(const Graph& g, const Use& u) {
  const Range& r = R(g, u);
  const __int128 a = static_cast<__int128>(r.lo) << u.shift, b = static_cast<__int128>(r.hi) << u.shift;
  return u.neg ? Range{Sat(-b), Sat(-a)} : Range{Sat(a), Sat(b)};
}

namespace {
// k if v = 2^k (v > 0), else -1.
int Log2Exact(int64_t v) { return v > 0 && (v & (v - 1)) == 0 ? 63 - __builtin_clzll(static_cast<uint64_t>(v)) : -1; }
}  // namespace

RequantClamp ClampOf(const Graph& g, const Node& n) {
  RequantClamp c;
  const Use& u = n.operands[0];
  c.rounding_adder = n.add != 0 || u.neg;
  const Range a = OperandRange(g, u);
  if (n.add != 0 && !u.neg && !u.shift && n.shift == 0 && n.lo == 0 && n.hi > 0 && n.hi < std::numeric_limits<int64_t>::max()) {
    const int k = Log2Exact(n.hi + 1);
    if (k >= 0 && n.add != std::numeric_limits<int64_t>::min() && (-n.add) % (int64_t{1} << k) == 0) {
      c.window = true, c.rounding_adder = false, c.window_bit = k, c.window_base = -n.add / (int64_t{1} << k);
      c.lo = a.lo + n.add < 0;
      c.hi = a.hi + n.add > n.hi;
      c.lo_bit = 0, c.hi_bit = k;
      return c;
    }
  }
  c.lo = ((a.lo + n.add) >> n.shift) < n.lo;
  c.hi = ((a.hi + n.add) >> n.shift) > n.hi;
  if (c.lo) {
    c.lo_bit = n.lo == 0 ? 0 : Log2Exact(-n.lo);
    c.bit_tests &= n.lo == 0 || c.lo_bit >= 0;
  }
  if (c.hi) {
    c.hi_bit = n.hi >= 0 && n.hi < std::numeric_limits<int64_t>::max() ? Log2Exact(n.hi + 1) : -1;
    c.bit_tests &= c.hi_bit >= 0;
  }
  return c;
}

bool IsBitwiseNot(const Graph& g, const Node& n) {
  if (n.op != Op::kXor || n.operands.size() != 2) return false;
  const Use &a = n.operands[0], &m = n.operands[1];
  const Node& c = g.nodes[m.node];
  if (a.shift || a.neg || m.shift || m.neg || c.op != Op::kConst || Log2Exact(c.value + 1) < 0) return false;
  if (g.nodes[a.node].range.empty()) return false;
  const Range& r = R(g, a);
  return r.lo >= 0 && r.hi <= c.value;
}

int Cost(const Graph& g, const Node& n) {
  if (n.op == Op::kXor && IsBitwiseNot(g, n)) return 0;
  if (n.op != Op::kRequant || n.range.empty()) return Info(n.op).cost;
  const RequantClamp c = ClampOf(g, n);
  return c.rounding_adder || !c.bit_tests ? 1 : 0;
}

bool ComparePredicate(int pred, int64_t a, int64_t b) {
  switch (pred) {
    case 0: return a < b;
    case 1: return a <= b;
    case 2: return a == b;
    case 3: return a != b;
    case 4: return a > b;
    default: return a >= b;
  }
}

}  // namespace hw::ir2
