#include "faults/rtl_inject.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/diag.h"
#include "ir2/op_table.h"

namespace hw::faults {

namespace {

uint64_t Mask(int width) { return width >= 64 ? ~0ull : (1ull << width) - 1; }

struct Masks {
  uint64_t and_mask = ~0ull, or_mask = 0;
  void Add(int bit, bool one) {
    if (one) or_mask |= 1ull << bit;
    else and_mask &= ~(1ull << bit);
  }
  std::string Apply(const std::string& expr, int width) const {
    return fmt::format("(({}) & {}'h{:x}) | {}'h{:x}", expr, width, and_mask & Mask(width), width, or_mask & Mask(width));
  }
};

// Replaces the text between `prefix` and the next ';' with f(old text).
template <typename F>
void Rewrite(std::string& text, const std::string& prefix, const std::string& where, F f) {
  const size_t at = text.find(prefix);
  HW_CHECK(at != std::string::npos, "fault injection: '" + prefix + "' not found in " + where);
  HW_CHECK(text.find(prefix, at + 1) == std::string::npos, "fault injection: '" + prefix + "' twice in " + where);
  const size_t begin = at + prefix.size();
  const size_t end = text.find(';', begin);
  text.replace(begin, end - begin, f(text.substr(begin, end - begin)));
}

std::string Vec(int w) { return w == 1 ? "" : fmt::format("[{}:0] ", w - 1); }

// The printed sum without the terms of the operands in `dropped` (a bit set). The emitter prints the operands
// in order, each as one term without spaces, joined by " + " / " - " (a leading "-" for a negated first
// term), and leaves out an operand shifted by the full width (it is 0 modulo 2^W).
std::string DropTerms(const std::string& expr, const hw::ir2::Node& n, int width, unsigned dropped, const std::string& where) {
  std::vector<std::pair<bool, std::string>> terms;  // (negated, text)
  size_t pos = 0;
  bool neg = false;
  if (!expr.empty() && expr[0] == '-') neg = true, pos = 1;
  for (;;) {
    const size_t plus = expr.find(" + ", pos), minus = expr.find(" - ", pos);
    const size_t next = std::min(plus, minus);
    terms.push_back({neg, expr.substr(pos, next == std::string::npos ? std::string::npos : next - pos)});
    if (next == std::string::npos) break;
    neg = next == minus;
    pos = next + 3;
  }
  std::vector<int> printed;  // operand index of each term
  for (size_t k = 0; k < n.operands.size(); ++k)
    if (n.operands[k].shift < width) printed.push_back(static_cast<int>(k));
  HW_CHECK(printed.size() == terms.size(), "fault injection: the terms of '" + expr + "' do not match the operands in " + where);
  std::string out;
  for (size_t t = 0; t < terms.size(); ++t) {
    if ((dropped >> printed[t]) & 1) continue;
    out += out.empty() ? (terms[t].first ? "-" : "") + terms[t].second : (terms[t].first ? " - " : " + ") + terms[t].second;
  }
  return out.empty() ? fmt::format("{}'d0", width) : out;
}

}  // namespace

void InjectIntoLayerRtl(std::string& text, const Graphs& d, int layer, const std::vector<HwFault>& faults) {
  CheckHwFaults(faults, d, "fault set");
  const hw::ir2::Graph& g = d[layer];
  // Group by op so that several bits of one signal become one mask.
  std::map<int, Masks> out_masks, reg_masks;
  std::map<int, unsigned> dropped;
  std::map<std::pair<int, int>, Masks> table_masks;               // (lut op, entry)
  std::map<int, std::map<int, std::map<int, Masks>>> state_masks;  // state -> stream -> lane
  for (const HwFault& f : faults) {
    if (f.layer != layer) continue;
    switch (f.kind) {
      case HwFault::Kind::kStuckOutput: out_masks[f.node].Add(f.bit, f.one); break;
      case HwFault::Kind::kDropOperand:
        HW_CHECK(f.operand < 32, "operand index");
        dropped[f.node] |= 1u << f.operand;
        break;
      case HwFault::Kind::kStuckRegister: reg_masks[f.node].Add(f.bit, f.one); break;
      case HwFault::Kind::kStuckTable: table_masks[{f.node, f.entry}].Add(f.bit, f.one); break;
      case HwFault::Kind::kStuckState: state_masks[f.node][f.stream][f.lane].Add(f.bit, f.one); break;
    }
  }
  const std::string where = g.name + ".v";
  std::map<int, bool> adders;
  for (const auto& e : out_masks) adders[e.first] = true;
  for (const auto& e : dropped) adders[e.first] = true;
  for (const auto& e : adders) {
    const int id = e.first;  // a copy: clang 14 cannot capture structured bindings
    const int w = OpWidth(g, id);
    Rewrite(text, fmt::format("  wire {}{} = ", Vec(w), OpName(g, id)), where, [&](const std::string& old) {
      std::string expr = old;
      const auto dit = dropped.find(id);
      if (dit != dropped.end()) expr = DropTerms(old, g.nodes[id], w, dit->second, where);
      const auto mit = out_masks.find(id);
      return mit == out_masks.end() ? expr : mit->second.Apply(expr, w);
    });
  }
  for (const auto& e : reg_masks) {
    const int id = e.first;
    const Masks masks = e.second;
    const int w = OpWidth(g, id);
    Rewrite(text, fmt::format("if (ce) {} <= ", OpName(g, id)), where, [&](const std::string& old) { return masks.Apply(old, w); });
  }
  // A table entry: the case statement's literal, with the bits forced.
  for (const auto& e : table_masks) {
    const int id = e.first.first, entry = e.first.second;
    const Masks masks = e.second;
    const hw::ir2::Node& n = g.nodes[id];
    const int w = OpWidth(g, id);
    const int iw = hw::ir2::TypeOf(hw::ir2::Range{0, std::max<int64_t>(1, static_cast<int64_t>(n.table.size()) - 1)}).width;
    const uint64_t bits = ((static_cast<uint64_t>(n.table[entry]) & masks.and_mask) | masks.or_mask) & Mask(w);
    Rewrite(text, fmt::format("        {}'d{}: {}_f = ", iw, entry, OpName(g, id)), where,
            [&](const std::string&) { return fmt::format("{}'h{:x}", w, bits); });
  }
  // A stuck cell of a per-stream state word: every read of that stream's word sees the bits forced.
  for (const auto& e : state_masks) {
    const hw::ir2::StateDecl& st = g.states[e.first];
    const int word = st.lanes * st.type.width;
    const int sid_w = hw::ir2::TypeOf(hw::ir2::Range{0, g.streams - 1}).width;
    // Masks of `word` bits as hex, lane l in bits [l*W, (l+1)*W).
    auto hex = [&](const std::map<int, Masks>& lanes, bool or_part) {
      std::vector<uint64_t> chunk(static_cast<size_t>((word + 63) / 64), or_part ? 0 : ~0ull);
      for (const auto& l : lanes)
        for (int b = 0; b < st.type.width; ++b) {
          const bool forced = or_part ? ((l.second.or_mask >> b) & 1) : !((l.second.and_mask >> b) & 1);
          if (!forced) continue;
          const int pos = l.first * st.type.width + b;
          if (or_part) chunk[pos / 64] |= 1ull << (pos % 64);
          else chunk[pos / 64] &= ~(1ull << (pos % 64));
        }
      if (word % 64) chunk.back() &= (1ull << (word % 64)) - 1;
      std::string h;
      for (size_t c = chunk.size(); c-- > 0;) h += c + 1 == chunk.size() ? fmt::format("{:x}", chunk[c]) : fmt::format("{:016x}", chunk[c]);
      return fmt::format("{}'h{}", word, h);
    };
    const std::map<int, std::map<int, Masks>>& streams = e.second;
    bool found = false;
    for (size_t id = 0; id < g.nodes.size(); ++id) {
      const hw::ir2::Node& n = g.nodes[id];
      if (n.op != hw::ir2::Op::kStateRead || n.symbol != st.name) continue;
      found = true;
      const std::string lhs = st.lanes > 1 ? fmt::format("  wire {}n{}_word = ", Vec(word), id) : fmt::format("  wire {}n{} = ", Vec(word), id);
      Rewrite(text, lhs, where, [&](const std::string& old) {
        const std::string open = "st_" + st.name + "[";
        HW_CHECK(old.rfind(open, 0) == 0 && old.back() == ']', "fault injection: unexpected state read '" + old + "' in " + where);
        const std::string idx = old.substr(open.size(), old.size() - open.size() - 1);
        std::string and_e = hex({}, false), or_e = hex({}, true);
        for (const auto& sm : streams) {
          const std::string cond = fmt::format("({} == {}'d{})", idx, sid_w, sm.first);
          and_e = fmt::format("{} ? {} : ({})", cond, hex(sm.second, false), and_e);
          or_e = fmt::format("{} ? {} : ({})", cond, hex(sm.second, true), or_e);
        }
        return fmt::format("({} & ({})) | ({})", old, and_e, or_e);
      });
    }
    HW_CHECK(found, "fault injection: no read of state " + st.name + " in " + where);
  }
}

}  // namespace hw::faults
