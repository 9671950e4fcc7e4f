#include "report/lm_report.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <map>

#include "ir2/op_table.h"

namespace hw::report {

using hw::ir2::Op;
using hw::ir2::TypeOf;

namespace {

void AddInto(LmGroupStats& a, const LmGroupStats& b) {
  a.adders += b.adders, a.adder_bits += b.adder_bits, a.multipliers += b.multipliers, a.multiplier_bits += b.multiplier_bits;
  a.tables += b.tables, a.table_bits += b.table_bits, a.registers += b.registers, a.register_bits += b.register_bits;
  a.state_bits_per_stream += b.state_bits_per_stream;
}

std::string BlockOf(const std::string& op) {
  if (op.size() > 2 && op[0] == 'b' && std::isdigit(static_cast<unsigned char>(op[1]))) return op.substr(0, op.find('_'));
  return op;
}

std::string Row(const LmGroupStats& s) {
  return fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", s.name, s.adders, s.adder_bits, s.multipliers, s.multiplier_bits,
                     s.tables, s.table_bits, s.registers, s.register_bits, s.state_bits_per_stream);
}

nlohmann::json ToJson(const LmGroupStats& s) {
  return {{"name", s.name},           {"adders", s.adders},       {"full_adder_bits", s.adder_bits},
          {"multipliers", s.multipliers}, {"multiplier_bits", s.multiplier_bits}, {"tables", s.tables},
          {"table_bits", s.table_bits}, {"registers", s.registers}, {"register_bits", s.register_bits},
          {"state_bits_per_stream", s.state_bits_per_stream}};
}

}  // namespace

LmReport BuildLmReport(const hw::ir2::Graph& g, const model::LmModel& m, int adders_per_stage, double clock_mhz,
                       const hw::ir2::TimingModel& timing) {
  LmReport r;
  const hw::ir2::StageEstimate e = hw::ir2::EstimateSlowestStage(g, timing);
  r.slowest_stage_ns = e.slowest_ns;
  r.timing_model = e.model;
  r.model = m.name;
  r.streams = g.streams;
  r.latency = g.latency;
  r.context = m.context;
  r.adders_per_stage = adders_per_stage;
  r.clock_mhz = clock_mhz;
  std::vector<LmGroupStats> groups(g.groups.size() + 1);
  for (size_t i = 0; i < g.groups.size(); ++i) groups[i].name = g.groups[i];
  groups.back().name = "(ungrouped)";
  auto width = [&](const hw::ir2::Use& u) { return static_cast<long>(TypeOf(g.nodes[u.node].range[u.result]).width); };
  for (const auto& n : g.nodes) {
    LmGroupStats& s = groups[n.group >= 0 ? n.group : static_cast<int>(g.groups.size())];
    const long w = n.range.empty() ? 0 : TypeOf(n.range[0]).width;
    switch (n.op) {
      case Op::kAdd: s.adders += static_cast<long>(n.operands.size()) - 1, s.adder_bits += w * (static_cast<long>(n.operands.size()) - 1); break;
      case Op::kMul: ++s.multipliers, s.multiplier_bits += width(n.operands[0]) * width(n.operands[1]); break;
      case Op::kLut: ++s.tables, s.table_bits += static_cast<long>(n.table.size()) * w; break;
      case Op::kReg: ++s.registers, s.register_bits += w; break;
      default: break;
    }
  }
  // Per-stream state belongs to the op whose name prefixes it (K/V rows), else to the scheduler.
  for (const auto& st : g.states) {
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < g.groups.size(); ++i)
      if (st.name.rfind(g.groups[i] + "_", 0) == 0 && g.groups[i].size() > best_len) best = static_cast<int>(i), best_len = g.groups[i].size();
    if (best < 0)
      for (size_t i = 0; i < g.groups.size(); ++i)
        if (g.groups[i] == "control") best = static_cast<int>(i);
    const long bits = static_cast<long>(st.type.width) * st.lanes;
    groups[best >= 0 ? best : static_cast<int>(g.groups.size())].state_bits_per_stream += bits;
    bool kv = false;
    for (const model::LmOp& op : m.ops) kv |= op.kind == model::LmOpKind::kAttention && best >= 0 && g.groups[best] == op.name;
    (kv ? r.kv_bits_per_stream : r.other_state_bits_per_stream) += bits;
  }
  std::map<std::string, size_t> block_index;
  r.total.name = "total";
  for (const auto& s : groups) {
    if (s.name == "(ungrouped)" && s.adders + s.multipliers + s.tables + s.registers + s.state_bits_per_stream == 0) continue;
    r.ops.push_back(s);
    const std::string b = BlockOf(s.name);
    auto [it, fresh] = block_index.emplace(b, r.blocks.size());
    if (fresh) r.blocks.push_back(LmGroupStats{b});
    AddInto(r.blocks[it->second], s);
    AddInto(r.total, s);
  }
  return r;
}

std::string LmReportMarkdown(const LmReport& r) {
  std::string s = fmt::format("# {}: the language model in RTL\n\n", r.model);
  s += fmt::format("- streams S = {}, latency L = {} clocks, context {}, {} adder level(s) per pipeline stage\n", r.streams, r.latency, r.context,
                   r.adders_per_stage);
  s += fmt::format("- one token per enabled clock in steady state (all streams live): at an **assumed** {:.0f} MHz clock (`--clock-mhz`), "
                   "{:.0f} tokens/s in aggregate, {:.0f} tokens/s per stream\n",
                   r.clock_mhz, r.clock_mhz * 1e6, r.clock_mhz * 1e6 / r.streams);
  s += fmt::format("- slowest pipeline stage: {:.3f} ns, i.e. at most {:.0f} MHz ({}; logic and register overhead only, no routing)\n",
                   r.slowest_stage_ns, 1000 / r.slowest_stage_ns, r.timing_model);
  s += fmt::format("- per-stream state: {} bits per stream, {} bits for all {} streams\n", r.total.state_bits_per_stream,
                   r.total.state_bits_per_stream * static_cast<long>(r.streams), r.streams);
  s += fmt::format("  - K/V cache memory: {} bits per stream, {} bits in all ({:.2f} Mbit)\n", r.kv_bits_per_stream,
                   r.kv_bits_per_stream * static_cast<long>(r.streams), r.kv_bits_per_stream * static_cast<double>(r.streams) / 1e6);
  s += fmt::format("  - position, live flag, last token, random state: {} bits per stream, {} bits in all\n\n", r.other_state_bits_per_stream,
                   r.other_state_bits_per_stream * static_cast<long>(r.streams));
  const std::string head =
      "| | adders | full-adder bits | multipliers | multiplier bits (a x b) | tables | table bits | registers | register bits | state bits per stream |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n";
  s += "## Per block\n\n" + head;
  for (const auto& b : r.blocks) s += Row(b);
  s += Row(r.total);
  s += "\n## Per model op\n\n" + head;
  for (const auto& o : r.ops) s += Row(o);
  return s;
}

std::string LmReportJson(const LmReport& r) {
  nlohmann::json j = {{"model", r.model},     {"streams", r.streams}, {"latency", r.latency}, {"context", r.context},
                      {"adders_per_stage", r.adders_per_stage}, {"assumed_clock_mhz", r.clock_mhz},
                      {"slowest_stage_ns", std::round(r.slowest_stage_ns * 1000) / 1000}, {"timing_model", r.timing_model},
                      {"tokens_per_second_aggregate", r.clock_mhz * 1e6}, {"tokens_per_second_per_stream", r.clock_mhz * 1e6 / r.streams},
                      {"kv_cache_bits_per_stream", r.kv_bits_per_stream}, {"kv_cache_bits", r.kv_bits_per_stream * static_cast<long>(r.streams)},
                      {"other_state_bits_per_stream", r.other_state_bits_per_stream}, {"total", ToJson(r.total)}};
  j["blocks"] = nlohmann::json::array();
  for (const auto& b : r.blocks) j["blocks"].push_back(ToJson(b));
  j["ops"] = nlohmann::json::array();
  for (const auto& o : r.ops) j["ops"].push_back(ToJson(o));
  return j.dump(2) + "\n";
}

}  // namespace hw::report
