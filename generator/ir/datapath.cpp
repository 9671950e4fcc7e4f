#include "ir/datapath.h"

#include <fmt/format.h>

namespace hw::ir {

const char* ToString(NodeKind k) {
  switch (k) {
    case NodeKind::kInput: return "input";
    case NodeKind::kConst: return "const";
    case NodeKind::kAdd: return "add";
    case NodeKind::kRequant: return "requant";
    case NodeKind::kMaxSel: return "maxsel";
  }
  return "?";
}

int Design::latency() const {
  int l = 1;  // input register in the top module
  for (const Module& m : layers) l += m.latency;
  return l;
}

int WidthOf(int64_t lo, int64_t hi, bool* is_signed) {
  auto bitlen = [](uint64_t v) {
    int b = 0;
    while (v) ++b, v >>= 1;
    return b;
  };
  if (lo >= 0) {
    *is_signed = false;
    return std::max(1, bitlen(static_cast<uint64_t>(hi)));
  }
  *is_signed = true;
  // signed bits for v: 1 + bitlen(v) for v >= 0, 1 + bitlen(~v) for v < 0
  const int a = 1 + bitlen(static_cast<uint64_t>(~lo));
  const int b = hi >= 0 ? 1 + bitlen(static_cast<uint64_t>(hi)) : 1 + bitlen(static_cast<uint64_t>(~hi));
  return std::max(a, b);
}

std::string Verify(const Module& m, bool analysed) {
  auto bad = [&](size_t id, const std::string& what) {
    return fmt::format("module {}: node n{}: {}", m.name, id, what);
  };
  for (size_t id = 0; id < m.nodes.size(); ++id) {
    const Node& n = m.nodes[id];
    size_t want = 0;
    switch (n.kind) {
      case NodeKind::kInput:
        if (n.input_index < 0 || n.input_index >= m.num_inputs) return bad(id, "input index out of range");
        break;
      case NodeKind::kConst: break;
      case NodeKind::kAdd:
      case NodeKind::kMaxSel: want = 2; break;
      case NodeKind::kRequant:
        if (n.ops.size() > 1) return bad(id, "requant takes at most one operand");
        if (n.rq.shift < 0 || n.rq.shift > 62 || n.rq.lo > n.rq.hi) return bad(id, "bad requant attributes");
        want = n.ops.size();
        break;
    }
    if (n.ops.size() != want) return bad(id, fmt::format("{} expects {} operands, has {}", ToString(n.kind), want, n.ops.size()));
    for (const Operand& o : n.ops) {
      if (o.node < 0 || o.node >= static_cast<int>(id)) return bad(id, fmt::format("operand n{} is not an earlier node", o.node));
      if (o.shift < 0 || o.shift > 62) return bad(id, fmt::format("shift {} out of range", o.shift));
      if (n.kind == NodeKind::kMaxSel && (o.shift != 0 || o.neg)) return bad(id, "maxsel operands cannot be shifted");
    }
    if (analysed) {
      bool s = false;
      if (n.lo > n.hi) return bad(id, "empty range");
      const int w = WidthOf(n.lo, n.hi, &s);
      if (w != n.width || s != n.is_signed)
        return bad(id, fmt::format("width {}{} does not match range [{}, {}]", n.is_signed ? 's' : 'u', n.width, n.lo, n.hi));
    }
  }
  if (static_cast<int>(m.outputs.size()) == 0) return fmt::format("module {}: no outputs", m.name);
  for (int o : m.outputs)
    if (o < 0 || o >= static_cast<int>(m.nodes.size())) return fmt::format("module {}: output references missing node n{}", m.name, o);
  return {};
}

std::string Dump(const Module& m) {
  std::string s = fmt::format("module {} ({} inputs, {} outputs)\n", m.name, m.num_inputs, m.outputs.size());
  for (size_t id = 0; id < m.nodes.size(); ++id) {
    const Node& n = m.nodes[id];
    s += fmt::format("  n{} = {}", id, ToString(n.kind));
    if (n.kind == NodeKind::kInput) s += fmt::format(" x[{}]", n.input_index);
    if (n.kind == NodeKind::kConst) s += fmt::format(" {}", n.value);
    for (size_t k = 0; k < n.ops.size(); ++k) {
      const Operand& o = n.ops[k];
      s += fmt::format("{}{}n{}", k ? ", " : " ", o.neg ? "-" : "", o.node);
      if (o.shift) s += fmt::format("<<{}", o.shift);
    }
    if (n.kind == NodeKind::kRequant)
      s += fmt::format(" +{} >>{} clamp[{}, {}]", n.rq.add, n.rq.shift, n.rq.lo, n.rq.hi);
    s += fmt::format("  [{}, {}] {}{} L{} S{}\n", n.lo, n.hi, n.is_signed ? 's' : 'u', n.width, n.level, n.stage);
  }
  s += "  outputs:";
  for (int o : m.outputs) s += fmt::format(" n{}", o);
  return s + "\n";
}

}  // namespace hw::ir
