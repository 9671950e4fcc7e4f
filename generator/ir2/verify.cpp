#include "ir2/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

#include "ir2/op_table.h"

namespace hw::ir2 {

namespace {

constexpr int64_t kLimit = int64_t{1} << 62;

bool Identifier(const std::string& s) {
  if (s.empty() || s.size() > 64 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Whether use `u` carries the stream id (a stream_id op, possibly through registers).
bool IsStreamId(const Graph& g, Use u) {
  while (g.nodes[u.node].op == Op::kReg) u = g.nodes[u.node].operands[0];
  return g.nodes[u.node].op == Op::kStreamId && u.shift == 0 && !u.neg;
}

}  // namespace

std::vector<FeedbackLoop> FeedbackLoops(const Graph& g) {
  std::vector<FeedbackLoop> loops;
  std::unordered_map<std::string, size_t> index;
  auto add = [&](const std::string& sym, bool is_read, int stage) {
    auto [it, fresh] = index.emplace(sym, loops.size());
    if (fresh) loops.push_back({sym, INT32_MAX, INT32_MIN});
    FeedbackLoop& l = loops[it->second];
    if (is_read) l.read_stage = std::min(l.read_stage, stage);
    else l.write_stage = std::max(l.write_stage, stage);
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op == Op::kStateRead || n.op == Op::kMemRead) add(n.symbol, true, g.StageOf(static_cast<int>(i)));
    if (n.op == Op::kStateNext || n.op == Op::kMemWrite) add(n.symbol, false, g.StageOf(static_cast<int>(i)));
  }
  std::vector<FeedbackLoop> out;
  for (const FeedbackLoop& l : loops)
    if (l.read_stage != INT32_MAX && l.write_stage != INT32_MIN) out.push_back(l);
  return out;
}

std::vector<std::string> Verify(const Graph& g, VerifyLevel level) {
  std::vector<std::string> errs;
  auto err = [&](int i, const std::string& m) {
    errs.push_back(i < 0 ? m : fmt::format("%{} ({}): {}", i, Info(g.nodes[i].op).name, m));
  };
  if (!Identifier(g.name)) err(-1, fmt::format("graph name '{}' is not an identifier", g.name));
  if (g.streams < 1) err(-1, "streams must be at least 1");
  std::set<std::string> symbols;
  static const std::set<std::string> kReserved = {"clk", "rst", "ce", "in_valid", "out_valid", "slot"};
  for (const StateDecl& s : g.states) {
    if (!Identifier(s.name) || !symbols.insert(s.name).second) err(-1, fmt::format("state '{}': not an identifier or a repeated name", s.name));
    if (s.init < s.type.min() || s.init > s.type.max()) err(-1, fmt::format("state '{}': init {} outside {}", s.name, s.init, s.type.width));
  }
  std::set<std::string> written, writers;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op == Op::kMemWrite) written.insert(n.symbol);
    if ((n.op == Op::kMemWrite || n.op == Op::kStateNext) && !writers.insert(n.symbol).second)
      err(static_cast<int>(i), fmt::format("'{}' already has a write port (one writer per state or memory)", n.symbol));
  }
  for (const MemDecl& m : g.memories) {
    if (!Identifier(m.name) || !symbols.insert(m.name).second) err(-1, fmt::format("memory '{}': not an identifier or a repeated name", m.name));
    if (!m.init.empty() && static_cast<int>(m.init.size()) != m.depth)
      err(-1, fmt::format("memory '{}': init has {} values for depth {}", m.name, m.init.size(), m.depth));
    for (int64_t v : m.init)
      if (v < m.type.min() || v > m.type.max()) {
        err(-1, fmt::format("memory '{}': init value {} does not fit its type", m.name, v));
        break;
      }
    if (written.count(m.name) && !m.per_stream)
      err(-1, fmt::format("memory '{}' is written, so it must be per_stream (streams may not share writable memory)", m.name));
  }
  std::set<std::string> ports;
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const Node& n = g.nodes[i];
    const OpInfo& info = Info(n.op);
    const int k = static_cast<int>(n.operands.size());
    if (k < info.min_operands || (info.max_operands >= 0 && k > info.max_operands)) {
      err(i, fmt::format("has {} operands; expects {}{}", k, info.min_operands,
                         info.max_operands == info.min_operands ? "" : info.max_operands < 0 ? " or more" : fmt::format(" to {}", info.max_operands)));
      continue;
    }
    bool operands_ok = true;
    for (int j = 0; j < k; ++j) {
      const Use& u = n.operands[j];
      if (u.node < 0 || u.node >= i) {
        err(i, fmt::format("operand {} refers to %{}, which does not come earlier", j, u.node));
        operands_ok = false;
        continue;
      }
      const int res = Results(g, g.nodes[u.node]);
      if (u.result < 0 || u.result >= res) {
        err(i, fmt::format("operand {} uses result {} of %{}, which has {} result(s)", j, u.result, u.node, res));
        operands_ok = false;
      }
      if ((u.shift != 0 || u.neg) && !info.scaled_operands) err(i, fmt::format("operand {}: shifts and negation are for add and requant only", j));
      if (u.neg && n.op == Op::kOutput) err(i, fmt::format("operand {}: an output's operand may be shifted, not negated", j));
      if (u.shift < 0 || u.shift > 62) err(i, fmt::format("operand {}: shift outside 0 .. 62", j));
    }
    if (!operands_ok) continue;
    switch (info.symbol) {
      case SymbolKind::kPort:
        if (!Identifier(n.symbol) || kReserved.count(n.symbol) || !ports.insert(n.symbol).second)
          err(i, fmt::format("port name '{}' is not an identifier, is reserved or repeats another port", n.symbol));
        break;
      case SymbolKind::kState:
        if (!g.FindState(n.symbol)) err(i, fmt::format("no state named '{}'", n.symbol));
        else if (!IsStreamId(g, n.operands[0])) err(i, "operand 0 must be the stream id (stream_id, through registers only)");
        else if (const int lanes = g.FindState(n.symbol)->lanes; n.op == Op::kStateRead ? k != 1 : k != lanes + 1 && k != lanes + 2)
          err(i, fmt::format("state '{}' has {} lane(s): {} takes {} operands", n.symbol, lanes, info.name,
                             n.op == Op::kStateRead ? "1" : fmt::format("{} or {} (with an enable)", lanes + 1, lanes + 2)));
        break;
      case SymbolKind::kMemory: {
        const MemDecl* m = g.FindMemory(n.symbol);
        if (!m) {
          err(i, fmt::format("no memory named '{}'", n.symbol));
          break;
        }
        const int addr = m->per_stream ? 2 : 1;  // operands that form the address
        const int want_lo = n.op == Op::kMemRead ? addr : addr + 1, want_hi = n.op == Op::kMemRead ? addr : addr + 2;
        if (k < want_lo || k > want_hi) err(i, fmt::format("memory '{}' {} takes {} operands", n.symbol, m->per_stream ? "(per_stream)" : "", want_lo));
        else if (m->per_stream && !IsStreamId(g, n.operands[0])) err(i, "operand 0 must be the stream id (stream_id, through registers only)");
        break;
      }
      case SymbolKind::kNone: break;
    }
    if (n.op == Op::kRequant && (n.shift < 0 || n.shift > 62 || n.lo > n.hi)) err(i, "requant needs 0 <= shift <= 62 and lo <= hi");
    if (n.op == Op::kLut && n.table.empty()) err(i, "empty table");
    if (n.op == Op::kCmp && (n.pred < 0 || n.pred > 5)) err(i, "unknown predicate");
    if (n.op == Op::kConst && (n.value <= -kLimit || n.value >= kLimit)) err(i, "constant beyond +-2^62");
  }
  if (!errs.empty() || level == VerifyLevel::kStructure) return errs;

  // Ranges.
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const Node& n = g.nodes[i];
    if (static_cast<int>(n.range.size()) != Results(g, n)) {
      err(i, "ranges not computed");
      continue;
    }
    for (const Range& r : n.range)
      if (r.lo > r.hi || r.lo <= -kLimit || r.hi >= kLimit) err(i, fmt::format("range [{}, {}] is empty or beyond +-2^62", r.lo, r.hi));
    auto rng = [&](int j) { return g.nodes[n.operands[j].node].range[n.operands[j].result]; };
    if (n.op == Op::kShl && (rng(1).lo < 0 || rng(1).hi > 62)) err(i, fmt::format("shift amount range [{}, {}] outside 0 .. 62", rng(1).lo, rng(1).hi));
    if (n.op == Op::kShr && rng(1).lo < 0) err(i, fmt::format("shift amount range [{}, {}] includes negative amounts", rng(1).lo, rng(1).hi));
    if ((n.op == Op::kBitlen || n.op == Op::kAnd || n.op == Op::kXor))
      for (size_t j = 0; j < n.operands.size(); ++j)
        if (rng(static_cast<int>(j)).lo < 0) err(i, fmt::format("operand {} may be negative ([{}, {}]); this op takes non-negative values", j, rng(static_cast<int>(j)).lo, rng(static_cast<int>(j)).hi));
    if (n.op == Op::kLut) {
      const Range a = rng(0);
      if (a.lo - n.offset < 0 || a.hi - n.offset >= static_cast<int64_t>(n.table.size()))
        err(i, fmt::format("index range [{}, {}] minus offset {} leaves the table of {} entries", a.lo, a.hi, n.offset, n.table.size()));
    }
    if (n.op == Op::kStateNext) {
      const Type t = g.FindState(n.symbol)->type;
      for (int l = 0; l < g.FindState(n.symbol)->lanes; ++l) {
        const Range v = rng(1 + l);
        if (v.lo < t.min() || v.hi > t.max()) err(i, fmt::format("value range [{}, {}] does not fit state '{}' ({})", v.lo, v.hi, n.symbol, t.width));
      }
    }
    if (n.op == Op::kMemRead || n.op == Op::kMemWrite) {
      const MemDecl* m = g.FindMemory(n.symbol);
      const int a = m->per_stream ? 1 : 0;
      const Range ar = rng(a);
      if (ar.lo < 0 || ar.hi >= m->depth) err(i, fmt::format("address range [{}, {}] leaves memory '{}' of depth {}", ar.lo, ar.hi, n.symbol, m->depth));
      if (n.op == Op::kMemWrite) {
        const Range v = rng(a + 1);
        if (v.lo < m->type.min() || v.hi > m->type.max()) err(i, fmt::format("data range [{}, {}] does not fit memory '{}'", v.lo, v.hi, n.symbol));
      }
    }
  }
  if (!errs.empty() || level == VerifyLevel::kRanges) return errs;

  // Timing: a slot per node, registers explicit, loops within the stream count.
  if (g.schedule.size() != g.nodes.size()) {
    err(-1, fmt::format("the schedule has {} slot(s) for {} node(s)", g.schedule.size(), g.nodes.size()));
    return errs;
  }
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const Node& n = g.nodes[i];
    const int stage = g.schedule[i].stage;
    for (size_t j = 0; j < n.operands.size(); ++j) {
      const int p = n.operands[j].node;
      if (g.nodes[p].op == Op::kConst) continue;
      const int want = n.op == Op::kReg ? stage - 1 : stage;
      if (g.schedule[p].stage != want)
        err(i, fmt::format("in stage {} reads %{} from stage {} (registers must make every operand arrive in stage {})", stage,
                           p, g.schedule[p].stage, want));
    }
  }
  for (const FeedbackLoop& l : FeedbackLoops(g)) {
    if (l.write_stage < l.read_stage)
      err(-1, fmt::format("'{}' is written in stage {} before it is read in stage {}: a token would see its own write", l.symbol,
                          l.write_stage, l.read_stage));
    else if (l.clocks() > g.streams)
      err(-1, fmt::format("the loop through '{}' takes {} clocks (read in stage {}, written in stage {}) but there are only {} streams; "
                          "a stream's next token would read the old value",
                          l.symbol, l.clocks(), l.read_stage, l.write_stage, g.streams));
  }
  return errs;
}

}  // namespace hw::ir2
