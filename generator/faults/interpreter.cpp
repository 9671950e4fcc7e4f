#include "faults/interpreter.h"

#include <algorithm>

#include "common/diag.h"
#include "schedule/pipeline.h"

namespace hw::faults {

namespace {

uint64_t Mask(int width) { return width >= 64 ? ~0ull : (1ull << width) - 1; }

constexpr int kBlock = 128;  // vectors evaluated together, node by node

}  // namespace


Interpreter::Interpreter(const ir::Design& d, const std::vector<HwFault>& faults) {
  CheckHwFaults(faults, d, "fault set");
  first_faulty_ = static_cast<int>(d.layers.size());
  for (const HwFault& f : faults) first_faulty_ = std::min(first_faulty_, f.layer);
  layers_.resize(d.layers.size());
  for (size_t li = 0; li < d.layers.size(); ++li) {
    const ir::Module& m = d.layers[li];
    Layer& L = layers_[li];
    L.in_bits = m.input_type.bits;
    L.out_bits = m.output_type.bits;
    L.out_signed = m.output_type.is_signed;
    L.outputs = m.outputs;
    for (int o : m.outputs) L.output_tap.push_back(schedule::DelayFor(m, o, m.latency + 1));
    L.nodes.resize(m.nodes.size());
    for (size_t id = 0; id < m.nodes.size(); ++id) {
      const ir::Node& n = m.nodes[id];
      Node& N = L.nodes[id];
      HW_CHECK(n.width >= 1 && n.width <= 64, "node width out of the interpreter's range");
      N.kind = n.kind;
      N.width = n.width;
      N.is_signed = n.is_signed;
      N.index_width = n.index_width;
      N.input_index = n.input_index;
      N.value = n.value;
      N.num_ops = static_cast<int>(n.ops.size());
      HW_CHECK(N.num_ops <= 2, "node with more than two operands");
      for (int k = 0; k < N.num_ops; ++k) {
        const ir::Operand& op = n.ops[k];
        const ir::Node& src = m.nodes[op.node];
        N.ops[k] = Op{op.node, op.shift, op.neg, schedule::DelayFor(m, op.node, n.stage), false,
                      src.kind == ir::NodeKind::kConst, src.value};
      }
      if (n.kind == ir::NodeKind::kRequant) {
        // The parameters the emitter gives hw_requant (emit/verilog.cpp, EmitRequant), from the fault-free
        // ranges: the hardware is built for those, faults do not change it.
        int64_t vlo = 0, vhi = 0;
        if (!n.ops.empty()) {
          const ir::Operand& op = n.ops[0];
          const ir::Node& src = m.nodes[op.node];
          const __int128 k = (op.neg ? -1 : 1) * (__int128{1} << op.shift);
          vlo = static_cast<int64_t>(std::min(k * src.lo, k * src.hi));
          vhi = static_cast<int64_t>(std::max(k * src.lo, k * src.hi));
          N.in_w = ir::WidthOf(vlo, vhi, &N.in_signed);
          N.direct = op.shift == 0 && !op.neg && src.kind != ir::NodeKind::kConst;
        }
        N.sum_w = std::max(ir::WidthOf(vlo + n.rq.add, vhi + n.rq.add, &N.sum_signed), n.rq.shift + 1);
        const int64_t slo = (vlo + n.rq.add) >> n.rq.shift, shi = (vhi + n.rq.add) >> n.rq.shift;
        bool dummy = false;
        const int sh_w = N.sum_w - n.rq.shift;
        N.cmp_w = std::max(sh_w + (N.sum_signed ? 0 : 1),
                           ir::WidthOf(std::min<int64_t>(n.rq.lo, -1), std::max<int64_t>(n.rq.hi, 0), &dummy));
        HW_CHECK(N.sum_w <= 64 && N.cmp_w <= 64, "requant wider than the interpreter's range");
        N.clamp_lo = slo < n.rq.lo;
        N.clamp_hi = shi > n.rq.hi;
        N.shift = n.rq.shift;
        N.add = n.rq.add;
        N.lo = n.rq.lo;
        N.hi = n.rq.hi;
      }
    }
  }
  for (const HwFault& f : faults) {
    Node& N = layers_[f.layer].nodes[f.node];
    switch (f.kind) {
      case HwFault::Kind::kStuckOutput:
        if (f.one) N.or_mask |= 1ull << f.bit;
        else N.and_mask &= ~(1ull << f.bit);
        break;
      case HwFault::Kind::kDropOperand: N.ops[f.operand].dropped = true; break;
      case HwFault::Kind::kStuckRegister: {
        auto it = std::find_if(N.reg.begin(), N.reg.end(), [&](const RegFault& r) {
          return r.rank == f.rank && r.index_line == f.index_line;
        });
        if (it == N.reg.end()) {
          N.reg.push_back(RegFault{f.rank, f.index_line});
          it = N.reg.end() - 1;
        }
        if (f.one) it->or_mask |= 1ull << f.bit;
        else it->and_mask &= ~(1ull << f.bit);
        break;
      }
    }
  }
  for (Layer& L : layers_)
    for (Node& N : L.nodes)
      std::sort(N.reg.begin(), N.reg.end(), [](const RegFault& a, const RegFault& b) { return a.rank < b.rank; });
}

void Interpreter::RunLayer(const Layer& l, const int64_t* in, int in_len, int rows, int64_t* out, int out_len,
                           std::vector<int64_t>& val, std::vector<int64_t>& idx) const {
  const size_t n_nodes = l.nodes.size();
  // Every node writes its rows before any reader reads them: no clearing needed between blocks.
  if (val.size() < n_nodes * kBlock) val.resize(n_nodes * kBlock), idx.resize(n_nodes * kBlock);
  // The value (or index line) of node `id` for row r as seen `tap` ranks later: register faults of ranks
  // 1..tap apply in order (each rank copies the one before it, with its stuck bits forced).
  auto tapped = [&](int id, int tap, bool index_line, int r) -> int64_t {
    const Node& s = l.nodes[id];
    int64_t v = (index_line ? idx : val)[static_cast<size_t>(id) * kBlock + r];
    for (const RegFault& f : s.reg) {
      if (f.rank > tap) break;
      if (f.index_line != index_line) continue;
      const int w = index_line ? s.index_width : s.width;
      v = Wrap((static_cast<uint64_t>(v) & f.and_mask) | f.or_mask, w, index_line ? false : s.is_signed);
    }
    return v;
  };
  for (size_t id = 0; id < n_nodes; ++id) {
    const Node& n = l.nodes[id];
    int64_t* v = &val[id * kBlock];
    switch (n.kind) {
      case ir::NodeKind::kInput:
        for (int r = 0; r < rows; ++r) {
          uint64_t bits = static_cast<uint64_t>(in[static_cast<size_t>(r) * in_len + n.input_index]) & Mask(l.in_bits);
          v[r] = Wrap(bits, n.width, n.is_signed);  // `wire [W-1:0] n = x[...]`: zero-extended or truncated
        }
        break;
      case ir::NodeKind::kConst:
        for (int r = 0; r < rows; ++r) v[r] = n.value;
        break;
      case ir::NodeKind::kAdd: {
        // Operand terms as (source row, shift, sign); constants and register-faulted sources go the slow way.
        const int64_t* src[2] = {nullptr, nullptr};
        bool slow = false;
        for (int k = 0; k < n.num_ops; ++k) {
          const Op& op = n.ops[k];
          if (op.dropped) continue;
          if (op.is_const || !l.nodes[op.node].reg.empty()) slow = true;
          else src[k] = &val[static_cast<size_t>(op.node) * kBlock];
        }
        const uint64_t and_mask = n.and_mask, or_mask = n.or_mask;
        const int w = n.width;
        const bool sg = n.is_signed;
        if (!slow && n.num_ops == 2 && src[0] && src[1]) {
          const int s0 = n.ops[0].shift, s1 = n.ops[1].shift;
          const uint64_t m0 = n.ops[0].neg ? ~0ull : 0, m1 = n.ops[1].neg ? ~0ull : 0;  // x ^ m - m negates
          for (int r = 0; r < rows; ++r) {
            const uint64_t a = static_cast<uint64_t>(src[0][r]) << s0, b = static_cast<uint64_t>(src[1][r]) << s1;
            const uint64_t sum = ((a ^ m0) - m0) + ((b ^ m1) - m1);
            v[r] = Wrap((sum & and_mask) | or_mask, w, sg);
          }
          break;
        }
        for (int r = 0; r < rows; ++r) v[r] = 0;
        for (int k = 0; k < n.num_ops; ++k) {
          const Op& op = n.ops[k];
          if (op.dropped) continue;
          for (int r = 0; r < rows; ++r) {
            const int64_t a = op.is_const ? op.value : tapped(op.node, op.tap, false, r);
            const uint64_t t = static_cast<uint64_t>(a) << op.shift;
            v[r] = static_cast<int64_t>(op.neg ? static_cast<uint64_t>(v[r]) - t : static_cast<uint64_t>(v[r]) + t);
          }
        }
        for (int r = 0; r < rows; ++r) v[r] = Wrap((static_cast<uint64_t>(v[r]) & and_mask) | or_mask, w, sg);
        break;
      }
      case ir::NodeKind::kRequant: {
        const uint64_t sum_mask = Mask(n.sum_w);
        const int sh_w = n.sum_w - n.shift;
        for (int r = 0; r < rows; ++r) {
          int64_t d = 0;  // the d port of hw_requant, as an integer of in_w bits
          if (n.num_ops == 1) {
            const Op& op = n.ops[0];
            const int64_t a = op.is_const ? op.value : tapped(op.node, op.tap, false, r);
            if (n.direct) {
              d = Wrap(static_cast<uint64_t>(a), n.in_w, n.in_signed);
            } else {
              const uint64_t t = static_cast<uint64_t>(a) << op.shift;
              d = Wrap(op.neg ? 0 - t : t, n.in_w, n.in_signed);
            }
          }
          const uint64_t sum = (static_cast<uint64_t>(d) + static_cast<uint64_t>(n.add)) & sum_mask;
          const int64_t shifted = Wrap(sum >> n.shift, sh_w, n.sum_signed);
          const int64_t wide = Wrap(static_cast<uint64_t>(shifted), n.cmp_w, true);  // $signed(wide)
          int64_t q = wide;
          if (n.clamp_lo && wide < n.lo) q = n.lo;
          else if (n.clamp_hi && wide > n.hi) q = n.hi;
          v[r] = Wrap((static_cast<uint64_t>(q) & n.and_mask) | n.or_mask, n.width, n.is_signed);
        }
        break;
      }
      case ir::NodeKind::kMaxSel: {
        int64_t* ix = &idx[id * kBlock];
        for (int r = 0; r < rows; ++r) {
          int64_t a[2], ai[2];
          for (int k = 0; k < 2; ++k) {
            const Op& op = n.ops[k];
            const Node& s = l.nodes[op.node];
            const bool sel = s.kind == ir::NodeKind::kMaxSel;
            a[k] = Wrap(static_cast<uint64_t>(tapped(op.node, op.tap, false, r)), n.width, n.is_signed);
            ai[k] = sel ? tapped(op.node, op.tap, true, r) : s.input_index;
          }
          const bool b_wins = a[1] > a[0];  // both wrapped with the node's own signedness
          v[r] = b_wins ? a[1] : a[0];
          ix[r] = b_wins ? ai[1] : ai[0];
        }
        break;
      }
    }
  }
  for (int o = 0; o < out_len; ++o) {
    const int id = l.outputs[o];
    const Node& n = l.nodes[id];
    for (int r = 0; r < rows; ++r) {
      int64_t y;
      if (n.kind == ir::NodeKind::kConst) y = n.value;
      else if (n.kind == ir::NodeKind::kMaxSel) y = tapped(id, l.output_tap[o], true, r);
      else y = tapped(id, l.output_tap[o], false, r);
      out[static_cast<size_t>(r) * out_len + o] = Wrap(static_cast<uint64_t>(y), l.out_bits, l.out_signed);
    }
  }
}

reference::Batch Interpreter::Run(const reference::Batch& x, int first, int last) const {
  if (last < 0) last = static_cast<int>(layers_.size()) - 1;
  HW_CHECK(first >= 0 && first <= last && last < static_cast<int>(layers_.size()), "layer range");
  const long n = x.rows();
  reference::Batch cur = x;
  std::vector<int64_t> val, idx;
  for (int li = first; li <= last; ++li) {
    const Layer& L = layers_[li];
    const int out_len = static_cast<int>(L.outputs.size());
    reference::Batch next(n, out_len);
    for (long r0 = 0; r0 < n; r0 += kBlock) {
      const int rows = static_cast<int>(std::min<long>(kBlock, n - r0));
      RunLayer(L, cur.data() + r0 * cur.cols(), static_cast<int>(cur.cols()), rows, next.data() + r0 * out_len,
               out_len, val, idx);
    }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace hw::faults
