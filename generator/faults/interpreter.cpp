#include "faults/interpreter.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

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


}  // namespace

GraphProgram::GraphProgram(const hw::ir2::Graph& g, int layer, const std::vector<HwFault>& faults, bool dense_ports, int inputs,
                           int outputs) {
  nodes_.resize(g.nodes.size());
  out_slot_.assign(outputs, -1);
  out_shift_.assign(outputs, 0);
  for (const hw::ir2::StateDecl& st : g.states) {
    StateInfo si;
    si.width = st.type.width, si.lanes = st.lanes, si.is_signed = st.type.is_signed, si.init = st.init;
    states_.push_back(si);
  }
  // A register without a stuck bit holds its operand's value in the same type: it shares the operand's slot and
  // costs nothing (a delay line is a chain of reg ops: most of a dense layer's ops).
  std::vector<bool> faulty_reg(g.nodes.size(), false);
  for (const HwFault& f : faults)
    if (f.layer == layer && f.kind == HwFault::Kind::kStuckRegister) faulty_reg[f.node] = true;
  std::vector<int> slot_of(g.nodes.size());
  std::vector<bool> alias(g.nodes.size(), false);
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    const hw::ir2::Node& n = g.nodes[id];
    if (n.op == Op::kReg && !faulty_reg[id]) {
      const hw::ir2::Use& u = n.operands[0];
      if (hw::ir2::TypeOf(n.range[0]) == hw::ir2::TypeOf(g.nodes[u.node].range[u.result])) {
        slot_of[id] = slot_of[u.node] + u.result;
        alias[id] = true;
        continue;
      }
    }
    slot_of[id] = slots_;
    slots_ += hw::ir2::Results(g, n);
  }
  std::map<std::string, int> state_index;
  for (size_t k = 0; k < g.states.size(); ++k) state_index[g.states[k].name] = static_cast<int>(k);
  int in_pos = 0, out_pos = 0;
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    const hw::ir2::Node& n = g.nodes[id];
    const int I = static_cast<int>(id);
    Node& N = nodes_[id];
    N.op = n.op;
    N.slot = slot_of[id];
    N.alias = alias[id];
    if (N.alias) continue;
    if (!n.range.empty()) {
      const hw::ir2::Type t = hw::ir2::TypeOf(n.range[0]);
      N.width = t.width, N.is_signed = t.is_signed;
      HW_CHECK(N.width <= 64, fmt::format("op %{} of '{}' wider than 64 bits", id, g.name));
    }
    if (n.range.size() > 1 && n.op == Op::kCmpSel) {
      const hw::ir2::Type t = hw::ir2::TypeOf(n.range[1]);
      N.width1 = t.width, N.signed1 = t.is_signed;
    }
    for (const hw::ir2::Use& u : n.operands)
      N.ops.push_back(Operand{slot_of[u.node] + u.result, u.shift, u.neg, false, OpWidth(g, u.node, u.result)});
    N.value = n.value;
    N.pred = n.pred;
    switch (n.op) {
      case Op::kInput:
        N.value = dense_ports ? PortIndex(n.symbol, 'x') : in_pos;
        ++in_pos;
        HW_CHECK(N.value >= 0 && N.value < inputs, "input port " + n.symbol + " of " + g.name);
        break;
      case Op::kOutput: {
        const int o = dense_ports ? PortIndex(n.symbol, 'y') : out_pos;
        ++out_pos;
        HW_CHECK(o >= 0 && o < outputs, "output port " + n.symbol + " of " + g.name);
        out_slot_[o] = N.ops[0].slot;
        out_shift_[o] = n.operands[0].shift;
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
      case Op::kStateRead: case Op::kStateNext: {
        N.state = state_index.at(n.symbol);
        N.lanes = g.states[N.state].lanes;
        N.has_enable = n.op == Op::kStateNext && static_cast<int>(n.operands.size()) == N.lanes + 2;
        HW_CHECK(g.states[N.state].type.width <= 64, "state wider than 64 bits");
        break;
      }
      case Op::kMemWrite:
        throw InternalError(fmt::format("fault interpreter: '{}' writes a memory (%{}); not supported", g.name, I));
      default: break;
    }
  }
  for (int o : out_slot_) HW_CHECK(o >= 0, "graph " + g.name + " misses an output");
  std::map<int, std::vector<int64_t>*> faulty_tables;
  for (const HwFault& f : faults) {
    if (f.layer != layer) continue;
    if (f.kind == HwFault::Kind::kStuckState) {
      StateInfo& si = states_[f.node];
      const int64_t cell = static_cast<int64_t>(f.stream) * si.lanes + f.lane;
      auto it = std::find_if(si.stuck.begin(), si.stuck.end(), [&](const auto& e) { return e.first == cell; });
      if (it == si.stuck.end()) si.stuck.push_back({cell, {~0ull, 0}}), it = si.stuck.end() - 1;
      if (f.one) it->second.second |= 1ull << f.bit;
      else it->second.first &= ~(1ull << f.bit);
      continue;
    }
    Node& N = nodes_[f.node];
    switch (f.kind) {
      case HwFault::Kind::kStuckOutput: case HwFault::Kind::kStuckRegister:
        if (f.one) N.or_mask |= 1ull << f.bit;
        else N.and_mask &= ~(1ull << f.bit);
        break;
      case HwFault::Kind::kDropOperand: N.ops[f.operand].dropped = true; break;
      case HwFault::Kind::kStuckTable: {
        // The case statement's literal for that entry, with the bit forced (in the lut's own width).
        std::vector<int64_t>*& t = faulty_tables[f.node];
        if (!t) {
          tables_.push_back(std::make_unique<std::vector<int64_t>>(*N.table));
          t = tables_.back().get();
          N.table = t;
        }
        const uint64_t bits = static_cast<uint64_t>((*t)[f.entry]);
        (*t)[f.entry] = Wrap(f.one ? bits | (1ull << f.bit) : bits & ~(1ull << f.bit), N.width, N.is_signed);
        break;
      }
      case HwFault::Kind::kStuckState: break;
    }
  }
}

GraphProgram::State GraphProgram::Reset(int rows) const {
  State s;
  for (const StateInfo& si : states_)
    s.words.emplace_back(static_cast<size_t>(rows) * si.lanes, Wrap(static_cast<uint64_t>(si.init), si.width, si.is_signed));
  return s;
}

Interpreter::Interpreter(const model::Model& m, const Graphs& d, const std::vector<HwFault>& faults) {
  CheckHwFaults(faults, d, "fault set");
  HW_CHECK(d.size() == m.layers.size(), "one graph per model layer");
  first_faulty_ = static_cast<int>(d.size());
  for (const HwFault& f : faults) first_faulty_ = std::min(first_faulty_, f.layer);
  layers_.resize(d.size());
  for (size_t li = 0; li < d.size(); ++li) {
    const int L = static_cast<int>(li);
    layers_[li].program = std::make_unique<GraphProgram>(d[li], L, faults, true, m.OutputLength(L - 1), m.OutputLength(L));
    HW_CHECK(!layers_[li].program->stateful(), "a dense layer graph holds state");
    layers_[li].out_bits = m.OutputType(L).bits;
    layers_[li].out_signed = m.OutputType(L).is_signed;
  }
}

void GraphProgram::Run(const int64_t* in, int in_len, int rows, int block, std::vector<int64_t>& val, State* state) const {
  // Every op writes its rows before any reader reads them: no clearing needed between blocks.
  if (val.size() < static_cast<size_t>(slots_) * block) val.resize(static_cast<size_t>(slots_) * block);
  auto at = [&](int slot) { return &val[static_cast<size_t>(slot) * block]; };
  struct Write {
    int state;
    int64_t cell;
    int64_t value;
  };
  std::vector<Write> writes;
  for (const Node& n : nodes_) {
    if (n.alias) continue;
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
        for (int r = 0; r < rows; ++r) v[r] = r;  // row r is stream slot r
        break;
      case Op::kStateRead: {
        // wire [LANES*W-1:0] nN_word = st_X[sid]; lanes split; a stuck cell forced on the read.
        HW_CHECK(state, "state read without state");
        const StateInfo& si = states_[n.state];
        const std::vector<int64_t>& words = state->words[n.state];
        const int64_t* sid = at(n.ops[0].slot);
        for (int r = 0; r < rows; ++r) {
          HW_CHECK(sid[r] >= 0 && sid[r] < rows, "state read of a stream outside the evaluated rows");
          for (int l = 0; l < si.lanes; ++l) at(n.slot + l)[r] = words[static_cast<size_t>(sid[r]) * si.lanes + l];
        }
        for (const auto& c : si.stuck) {
          const int64_t stream = c.first / si.lanes, lane = c.first % si.lanes;
          int64_t* lv = at(n.slot + static_cast<int>(lane));
          for (int r = 0; r < rows; ++r)
            if (sid[r] == stream) lv[r] = Wrap((static_cast<uint64_t>(lv[r]) & c.second.first) | c.second.second, si.width, si.is_signed);
        }
        break;
      }
      case Op::kStateNext: {
        // if (ce && valid [&& enable != 0]) st_X[sid] <= {lanes, each in the state's width};  committed after the token
        HW_CHECK(state, "state write without state");
        const StateInfo& si = states_[n.state];
        const int64_t* sid = at(n.ops[0].slot);
        const int64_t* en = n.has_enable ? at(n.ops[si.lanes + 1].slot) : nullptr;
        for (int r = 0; r < rows; ++r) {
          if (en && en[r] == 0) continue;
          for (int l = 0; l < si.lanes; ++l)
            writes.push_back({n.state, sid[r] * si.lanes + l, Wrap(static_cast<uint64_t>(at(n.ops[1 + l].slot)[r]), si.width, si.is_signed)});
        }
        break;
      }
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
        for (int r = 0; r < rows; ++r) v[r] = hw::ir2::ComparePredicate(n.pred, a[r], b[r]) ? 1 : 0;
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
      case Op::kOutput: break;  // read through its operand's slot
      case Op::kMemWrite:
        HW_CHECK(false, "memory write in the fault interpreter");
        break;
    }
  }
  for (const Write& w : writes) state->words[w.state].at(static_cast<size_t>(w.cell)) = w.value;
}

reference::Batch Interpreter::Run(const reference::Batch& x, int first, int last) const {
  if (last < 0) last = static_cast<int>(layers_.size()) - 1;
  HW_CHECK(first >= 0 && first <= last && last < static_cast<int>(layers_.size()), "layer range");
  const long n = x.rows();
  reference::Batch cur = x;
  std::vector<int64_t> val;
  for (int li = first; li <= last; ++li) {
    const Layer& L = layers_[li];
    const GraphProgram& p = *L.program;
    const int out_len = p.outputs();
    reference::Batch next(n, out_len);
    for (long r0 = 0; r0 < n; r0 += kBlock) {
      const int rows = static_cast<int>(std::min<long>(kBlock, n - r0));
      p.Run(cur.data() + r0 * cur.cols(), static_cast<int>(cur.cols()), rows, kBlock, val, nullptr);
      for (int o = 0; o < out_len; ++o) {
        const int64_t* y = &val[static_cast<size_t>(p.output_slot(o)) * kBlock];
        const int shift = p.output_shift(o);
        for (int r = 0; r < rows; ++r)
          next(r0 + r, o) = Wrap(static_cast<uint64_t>(y[r]) << shift, L.out_bits, L.out_signed);
      }
    }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace hw::faults
