#include "faults/interpreter.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/diag.h"
#include "ir2/op_table.h"

namespace hw::faults {

using hw::ir2::Op;

namespace {

uint64_t Mask(int width) { return width >= 64 ? ~0ull : (1ull << width) - 1; }

constexpr int kBlock = 128;  // vectors evaluated together, node by node

// Port position of `symbol` = <prefix><index> (x3 -> 3), or -1.
int PortIndex(const std::string& symbol, char prefix) {
  if (symbol.size() < 2 || symbol[0] != prefix || symbol.find_first_not_of("0123456789", 1) != std::string::npos) return -1;
  return std::stoi(symbol.substr(1));
}

bool Compare(int pred, int64_t a, int64_t b) {
  switch (pred) {
    case 0: return a < b;
    case 1: return a <= b;
    case 2: return a == b;
    case 3: return a != b;
    case 4: return a > b;
    default: return a >= b;
  }
}

}  // namespace

Interpreter::Interpreter(const model::Model& m, const Graphs& d, const std::vector<HwFault>& faults) {
  CheckHwFaults(faults, d, "fault set");
  HW_CHECK(d.size() == m.layers.size(), "one graph per model layer");
  first_faulty_ = static_cast<int>(d.size());
  for (const HwFault& f : faults) first_faulty_ = std::min(first_faulty_, f.layer);
  layers_.resize(d.size());
  for (size_t li = 0; li < d.size(); ++li) {
    const hw::ir2::Graph& g = d[li];
    Layer& L = layers_[li];
    const model::IntType out = m.OutputType(static_cast<int>(li));
    L.out_bits = out.bits;
    L.out_signed = out.is_signed;
    L.out_slot.assign(m.OutputLength(static_cast<int>(li)), -1);
    L.nodes.resize(g.nodes.size());
    std::vector<int> slot_of(g.nodes.size());
    for (size_t id = 0; id < g.nodes.size(); ++id) {
      slot_of[id] = L.slots;
      L.slots += hw::ir2::Results(g, g.nodes[id]);
    }
    for (size_t id = 0; id < g.nodes.size(); ++id) {
      const hw::ir2::Node& n = g.nodes[id];
      const int I = static_cast<int>(id);
      Node& N = L.nodes[id];
      N.op = n.op;
      N.slot = slot_of[id];
      if (!n.range.empty()) {
        const hw::ir2::Type t = hw::ir2::TypeOf(n.range[0]);
        N.width = t.width, N.is_signed = t.is_signed;
        HW_CHECK(N.width <= 64, fmt::format("op %{} of '{}' wider than 64 bits", id, g.name));
      }
      if (n.range.size() > 1) {
        const hw::ir2::Type t = hw::ir2::TypeOf(n.range[1]);
        N.width1 = t.width, N.signed1 = t.is_signed;
      }
      for (const hw::ir2::Use& u : n.operands)
        N.ops.push_back(Operand{slot_of[u.node] + u.result, u.shift, u.neg, false, OpWidth(g, u.node, u.result)});
      N.value = n.value;
      N.pred = n.pred;
      switch (n.op) {
        case Op::kInput:
          N.value = PortIndex(n.symbol, 'x');
          HW_CHECK(N.value >= 0 && N.value < m.OutputLength(static_cast<int>(li) - 1), "input port " + n.symbol + " of " + g.name);
          break;
        case Op::kOutput: {
          const int o = PortIndex(n.symbol, 'y');
          HW_CHECK(o >= 0 && o < static_cast<int>(L.out_slot.size()), "output port " + n.symbol + " of " + g.name);
          L.out_slot[o] = N.ops[0].slot;
          break;
        }
        case Op::kRequant: {
          // The parameters emit/ir2_verilog.cpp prints (from the fault-free ranges: the hardware is built for
          // those, faults do not change it).
          const hw::ir2::Use& u = n.operands[0];
          const hw::ir2::Range a = hw::ir2::OperandRange(g, u);
          const int64_t slo = (a.lo + n.add) >> n.shift, shi = (a.hi + n.add) >> n.shift;
          N.clamp_lo = slo < n.lo;
          N.clamp_hi = shi > n.hi;
          hw::ir2::Range hull{std::min({a.lo + n.add, int64_t{-1}}), std::max({a.hi + n.add, int64_t{0}})};
          if (N.clamp_lo) hull.lo = std::min(hull.lo, n.lo);
          if (N.clamp_hi) hull.hi = std::max(hull.hi, n.hi);
          N.tw = hw::ir2::TypeOf(hull).width;
          HW_CHECK(N.tw <= 64, fmt::format("requant %{} of '{}' wider than 64 bits", id, g.name));
          N.shift = n.shift, N.add = n.add, N.lo = n.lo, N.hi = n.hi;
          break;
        }
        case Op::kLut:
          N.iw = hw::ir2::TypeOf(hw::ir2::Range{0, std::max<int64_t>(1, static_cast<int64_t>(n.table.size()) - 1)}).width;
          N.offset = static_cast<uint64_t>(n.offset) & Mask(N.iw);
          N.table = &n.table;
          break;
        case Op::kMemRead: {
          const hw::ir2::MemDecl* mem = g.FindMemory(n.symbol);
          bool written = false;
          for (const hw::ir2::Node& o : g.nodes) written |= o.op == Op::kMemWrite && o.symbol == n.symbol;
          if (written || mem->per_stream)
            throw InternalError(fmt::format("fault interpreter: '{}' reads a writable memory (%{}); only ROMs are supported", g.name, id));
          N.iw = hw::ir2::TypeOf(hw::ir2::Range{0, std::max(1, mem->depth - 1)}).width;
          N.table = &mem->init;
          break;
        }
        case Op::kShl: case Op::kShr: {
          const hw::ir2::Node& amt = g.nodes[n.operands[1].node];
          N.amount_const = amt.op == Op::kConst;
          N.amount = amt.value;
          const hw::ir2::Type t = hw::ir2::TypeOf(g.nodes[n.operands[0].node].range[n.operands[0].result]);
          N.aw = n.op == Op::kShr ? std::max(t.width + (t.is_signed ? 0 : 1), N.width) : N.width;
          HW_CHECK(N.aw <= 64, "shift wider than 64 bits");
          break;
        }
        case Op::kStateRead: case Op::kStateNext: case Op::kMemWrite:
          throw InternalError(fmt::format("fault interpreter: '{}' holds state (%{} is {}); only stateless graphs are supported",
                                          g.name, I, hw::ir2::Info(n.op).name));
        default: break;
      }
    }
    for (int o : L.out_slot) HW_CHECK(o >= 0, "layer graph " + g.name + " misses an output");
  }
  for (const HwFault& f : faults) {
    Node& N = layers_[f.layer].nodes[f.node];
    switch (f.kind) {
      case HwFault::Kind::kStuckOutput: case HwFault::Kind::kStuckRegister:
        if (f.one) N.or_mask |= 1ull << f.bit;
        else N.and_mask &= ~(1ull << f.bit);
        break;
      case HwFault::Kind::kDropOperand: N.ops[f.operand].dropped = true; break;
    }
  }
}

void Interpreter::RunLayer(const Layer& l, const int64_t* in, int in_len, int rows, int64_t* out, int out_len,
                           std::vector<int64_t>& val) const {
  // Every op writes its rows before any reader reads them: no clearing needed between blocks.
  if (val.size() < static_cast<size_t>(l.slots) * kBlock) val.resize(static_cast<size_t>(l.slots) * kBlock);
  auto at = [&](int slot) { return &val[static_cast<size_t>(slot) * kBlock]; };
  for (const Node& n : l.nodes) {
    int64_t* v = at(n.slot);
    const int w = n.width;
    const bool sg = n.is_signed;
    switch (n.op) {
      case Op::kInput:
        for (int r = 0; r < rows; ++r) v[r] = Wrap(static_cast<uint64_t>(in[static_cast<size_t>(r) * in_len + n.value]), w, sg);
        break;
      case Op::kConst:
        for (int r = 0; r < rows; ++r) v[r] = n.value;
        break;
      case Op::kStreamId:
        for (int r = 0; r < rows; ++r) v[r] = 0;  // one stream
        break;
      case Op::kAdd: {
        const uint64_t and_mask = n.and_mask, or_mask = n.or_mask;
        if (n.ops.size() == 2 && !n.ops[0].dropped && !n.ops[1].dropped && n.ops[0].shift < 64 && n.ops[1].shift < 64) {
          const int64_t *a = at(n.ops[0].slot), *b = at(n.ops[1].slot);
          const int s0 = n.ops[0].shift, s1 = n.ops[1].shift;
          const uint64_t m0 = n.ops[0].neg ? ~0ull : 0, m1 = n.ops[1].neg ? ~0ull : 0;  // x ^ m - m negates
          for (int r = 0; r < rows; ++r) {
            const uint64_t x = static_cast<uint64_t>(a[r]) << s0, y = static_cast<uint64_t>(b[r]) << s1;
            v[r] = Wrap(((((x ^ m0) - m0) + ((y ^ m1) - m1)) & and_mask) | or_mask, w, sg);
          }
          break;
        }
        for (int r = 0; r < rows; ++r) v[r] = 0;
        for (const Operand& op : n.ops) {
          if (op.dropped || op.shift >= w) continue;  // a term shifted out entirely is 0 modulo 2^W
          const int64_t* a = at(op.slot);
          for (int r = 0; r < rows; ++r) {
            const uint64_t t = static_cast<uint64_t>(a[r]) << op.shift;
            v[r] = static_cast<int64_t>(op.neg ? static_cast<uint64_t>(v[r]) - t : static_cast<uint64_t>(v[r]) + t);
          }
        }
        for (int r = 0; r < rows; ++r) v[r] = Wrap((static_cast<uint64_t>(v[r]) & and_mask) | or_mask, w, sg);
        break;
      }
      case Op::kReg: {
        const int64_t* a = at(n.ops[0].slot);
        for (int r = 0; r < rows; ++r) v[r] = Wrap((static_cast<uint64_t>(a[r]) & n.and_mask) | n.or_mask, w, sg);
        break;
      }
      case Op::kRequant: {
        // wire [TW-1:0] n_sum = {a, s'd0} + ADD (or ADD - {a, s'd0}); n_shr = $signed(n_sum) >>> SHIFT;
        // clamps printed only where the fault-free range reaches them; the low W bits.
        const Operand& op = n.ops[0];
        const int64_t* a = at(op.slot);
        const uint64_t tmask = Mask(n.tw);
        for (int r = 0; r < rows; ++r) {
          const uint64_t term = op.shift >= n.tw ? 0 : (static_cast<uint64_t>(a[r]) << op.shift) & tmask;
          const uint64_t sum = (op.neg ? static_cast<uint64_t>(n.add) - term : term + static_cast<uint64_t>(n.add)) & tmask;
          const int64_t shr = Wrap(sum, n.tw, true) >> n.shift;  // fits TW bits: $signed(n_shr) == shr
          int64_t q = shr;
          if (n.clamp_lo && shr < n.lo) q = n.lo;
          else if (n.clamp_hi && shr > n.hi) q = n.hi;
          v[r] = Wrap(static_cast<uint64_t>(q), w, sg);
        }
        break;
      }
      case Op::kMax: case Op::kCmpSel: {
        const bool sel = n.op == Op::kCmpSel;
        const int64_t *a = at(n.ops[0].slot), *b = at(n.ops[sel ? 2 : 1].slot);
        const int64_t *ia = sel ? at(n.ops[1].slot) : nullptr, *ib = sel ? at(n.ops[3].slot) : nullptr;
        int64_t* ix = sel ? at(n.slot + 1) : nullptr;
        for (int r = 0; r < rows; ++r) {
          const bool b_wins = b[r] > a[r];  // $signed compare in a width holding both stored values
          v[r] = Wrap(static_cast<uint64_t>(b_wins ? b[r] : a[r]), w, sg);
          if (sel) ix[r] = Wrap(static_cast<uint64_t>(b_wins ? ib[r] : ia[r]), n.width1, n.signed1);
        }
        break;
      }
      case Op::kSelect: {
        const int64_t *c = at(n.ops[0].slot), *a = at(n.ops[1].slot), *b = at(n.ops[2].slot);
        for (int r = 0; r < rows; ++r) v[r] = Wrap(static_cast<uint64_t>(c[r] != 0 ? a[r] : b[r]), w, sg);
        break;
      }
      case Op::kCmp: {
        const int64_t *a = at(n.ops[0].slot), *b = at(n.ops[1].slot);
        for (int r = 0; r < rows; ++r) v[r] = Compare(n.pred, a[r], b[r]) ? 1 : 0;
        break;
      }
      case Op::kMul: case Op::kAnd: case Op::kXor: {
        const int64_t *a = at(n.ops[0].slot), *b = at(n.ops[1].slot);
        for (int r = 0; r < rows; ++r) {
          const uint64_t x = static_cast<uint64_t>(a[r]), y = static_cast<uint64_t>(b[r]);
          v[r] = Wrap(n.op == Op::kMul ? x * y : n.op == Op::kAnd ? x & y : x ^ y, w, sg);
        }
        break;
      }
      case Op::kLut: case Op::kMemRead: {
        // The case statement: index modulo 2^IW (the lut subtracts its offset there), default 0 past the table.
        const int64_t* a = at(n.ops[n.op == Op::kMemRead ? static_cast<int>(n.ops.size()) - 1 : 0].slot);
        const uint64_t imask = Mask(n.iw);
        const std::vector<int64_t>& t = *n.table;
        for (int r = 0; r < rows; ++r) {
          const uint64_t idx = (static_cast<uint64_t>(a[r]) - n.offset) & imask;
          v[r] = Wrap(static_cast<uint64_t>(idx < t.size() ? t[idx] : 0), w, sg);
        }
        break;
      }
      case Op::kShl: case Op::kShr: {
        const int64_t *a = at(n.ops[0].slot), *b = at(n.ops[1].slot);
        const uint64_t amask = Mask(n.ops[1].width);
        for (int r = 0; r < rows; ++r) {
          const uint64_t amt = n.amount_const ? static_cast<uint64_t>(n.amount) : static_cast<uint64_t>(b[r]) & amask;  // unsigned
          if (n.op == Op::kShl) v[r] = amt >= static_cast<uint64_t>(w) ? 0 : Wrap(static_cast<uint64_t>(a[r]) << amt, w, sg);
          else v[r] = Wrap(static_cast<uint64_t>(amt >= static_cast<uint64_t>(n.aw) ? (a[r] < 0 ? -1 : 0) : a[r] >> amt), w, sg);
        }
        break;
      }
      case Op::kBitlen: {
        const int64_t* a = at(n.ops[0].slot);
        const uint64_t amask = Mask(n.ops[0].width);
        for (int r = 0; r < rows; ++r) {
          const uint64_t bits = static_cast<uint64_t>(a[r]) & amask;  // the priority encoder sees the stored bits
          v[r] = Wrap(bits == 0 ? 0 : static_cast<uint64_t>(64 - __builtin_clzll(bits)), w, sg);
        }
        break;
      }
      case Op::kOutput: break;  // read below through its operand's slot
      case Op::kStateRead: case Op::kStateNext: case Op::kMemWrite:
        HW_CHECK(false, "stateful op in the fault interpreter");
        break;
    }
  }
  for (int o = 0; o < out_len; ++o) {
    const int64_t* y = at(l.out_slot[o]);
    for (int r = 0; r < rows; ++r) out[static_cast<size_t>(r) * out_len + o] = Wrap(static_cast<uint64_t>(y[r]), l.out_bits, l.out_signed);
  }
}

reference::Batch Interpreter::Run(const reference::Batch& x, int first, int last) const {
  if (last < 0) last = static_cast<int>(layers_.size()) - 1;
  HW_CHECK(first >= 0 && first <= last && last < static_cast<int>(layers_.size()), "layer range");
  const long n = x.rows();
  reference::Batch cur = x;
  std::vector<int64_t> val;
  for (int li = first; li <= last; ++li) {
    const Layer& L = layers_[li];
    const int out_len = static_cast<int>(L.out_slot.size());
    reference::Batch next(n, out_len);
    for (long r0 = 0; r0 < n; r0 += kBlock) {
      const int rows = static_cast<int>(std::min<long>(kBlock, n - r0));
      RunLayer(L, cur.data() + r0 * cur.cols(), static_cast<int>(cur.cols()), rows, next.data() + r0 * out_len, out_len, val);
    }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace hw::faults
