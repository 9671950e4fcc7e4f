#include "report/report_writer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace hw::report {

namespace {

using json = nlohmann::ordered_json;

const synth::LayerSynth* FindSynth(const ReportInput& in, const std::string& layer) {
  if (!in.synth) return nullptr;
  for (const synth::LayerSynth& l : *in.synth)
    if (l.layer == layer) return &l;
  return nullptr;
}

const synth::FlowResult* Flow(const std::map<std::string, synth::FlowResult>& m, const std::string& f) {
  const auto it = m.find(f);
  return it != m.end() && it->second.ok ? &it->second : nullptr;
}

json FlowJson(const synth::FlowResult& r) {
  json j;
  j["ok"] = r.ok;
  if (!r.ok) {
    j["error"] = r.error;
    return j;
  }
  auto put = [&](const char* k, long v) {
    if (v >= 0) j[k] = v;
  };
  put("cells", r.cells);
  put("adders", r.adders);
  put("adder_bits", r.adder_bits);
  put("multipliers", r.multipliers);
  put("ff_bits", r.ff_bits);
  put("transistors", r.transistors);
  if (r.transistors >= 0) j["nand2_equivalents"] = r.transistors / 4;
  put("luts", r.luts);
  put("srl_luts", r.srls);
  put("carry4", r.carry);
  put("muxf", r.muxes);
  if (r.depth >= 0) j["depth"] = r.depth;
  if (r.flow == "xilinx" && r.depth >= 0) j["estimated_mhz"] = std::round(synth::EstimateXilinxMhz(r.depth) * 10) / 10;
  j["yosys_seconds"] = std::round(r.seconds * 10) / 10;
  j["yosys_cpu_seconds"] = std::round(r.cpu_seconds * 10) / 10;
  return j;
}

// Worst-stage estimated clock over all layers that went through the xilinx flow; -1 if none.
double EstimatedMhz(const ReportInput& in) {
  if (!in.synth) return -1;
  int depth = -1;
  for (const synth::LayerSynth& l : *in.synth)
    if (const synth::FlowResult* x = Flow(l.ours, "xilinx")) depth = std::max(depth, x->depth);
  return depth < 0 ? -1 : synth::EstimateXilinxMhz(depth);
}

long SumFlow(const ReportInput& in, const std::string& flow, long synth::FlowResult::*field, bool* complete) {
  long s = 0;
  *complete = in.synth != nullptr;
  if (!in.synth) return -1;
  for (const synth::LayerSynth& l : *in.synth) {
    const synth::FlowResult* r = Flow(l.ours, flow);
    if (!r || r->*field < 0) {
      *complete = false;
      continue;
    }
    s += r->*field;
  }
  return s;
}

}  // namespace

std::string ReportJson(const ReportInput& in) {
  const DesignStats& st = in.design->stats;
  json j;
  j["format"] = "hardwire-report";
  j["version"] = 1;
  j["model"] = in.model->name;
  j["command"] = in.command;
  j["arith"] = in.arith;
  j["adders_per_stage"] = in.adders_per_stage;
  j["latency"] = hw::ir2::Latency(in.design->design);
  j["timing_model"] = st.timing_model;
  j["slowest_stage_ns"] = std::round(st.total.critical_ns * 1000) / 1000;
  json layers = json::array();
  for (size_t i = 0; i < st.layers.size(); ++i) {
    const LayerStats& l = st.layers[i];
    json e;
    e["name"] = l.name;
    e["kind"] = l.kind;
    e["module"] = in.design->design.modules[i].graph.name;
    e["weights"] = l.weights;
    e["nonzero_weights"] = l.nonzero_weights;
    e["signed_digits"] = l.nonzero_digits;
    e["adders"] = l.adders;
    e["full_adder_bits"] = l.adder_bits;
    e["requants"] = l.requants;
    e["compare_selects"] = l.compare_selects;
    e["registers"] = l.registers;
    e["register_bits"] = l.register_bits;
    e["adder_levels"] = l.levels;
    e["pipeline_stages"] = l.latency;
    e["latency"] = l.latency;
    json stages = json::array();
    for (double d : l.stage_logic_ns) stages.push_back(std::round(d * 1000) / 1000);
    e["stage_logic_ns"] = stages;  // index = stage
    e["slowest_stage_ns"] = std::round(l.critical_ns * 1000) / 1000;
    if (const synth::LayerSynth* s = FindSynth(in, l.name)) {
      json sy;
      for (const auto& [f, r] : s->ours) sy[f] = FlowJson(r);
      e["synth"] = sy;
      if (!s->behavioral.empty()) {
        json b;
        for (const auto& [f, r] : s->behavioral) b[f] = FlowJson(r);
        e["synth_behavioral"] = b;
      }
    }
    layers.push_back(e);
  }
  j["layers"] = layers;
  const LayerStats& t = st.total;
  json tot;
  tot["weights"] = t.weights;
  tot["nonzero_weights"] = t.nonzero_weights;
  tot["signed_digits"] = t.nonzero_digits;
  tot["adders"] = t.adders;
  tot["full_adder_bits"] = t.adder_bits;
  tot["registers"] = t.registers;
  tot["register_bits"] = t.register_bits;
  tot["latency"] = hw::ir2::Latency(in.design->design);
  bool complete = false;
  for (const auto& [key, flow, field] : std::vector<std::tuple<const char*, const char*, long synth::FlowResult::*>>{
           {"luts", "xilinx", &synth::FlowResult::luts},
           {"xilinx_ffs", "xilinx", &synth::FlowResult::ff_bits},
           {"carry4", "xilinx", &synth::FlowResult::carry},
           {"gate_cells", "gate", &synth::FlowResult::cells},
           {"transistors", "gate", &synth::FlowResult::transistors}}) {
    const long v = SumFlow(in, flow, field, &complete);
    if (complete) tot[key] = v;
  }
  j["total"] = tot;
  json per;
  per["adders_per_token"] = t.adders;
  per["full_adder_bits_per_token"] = t.adder_bits;
  per["tokens_per_clock"] = 1;
  const double mhz = EstimatedMhz(in);
  if (mhz > 0) {
    per["estimated_mhz"] = std::round(mhz * 10) / 10;
    per["tokens_per_second"] = std::round(mhz * 1e6);
    per["full_adder_ops_per_second"] = static_cast<double>(t.adder_bits) * mhz * 1e6;
  }
  j["per_token"] = per;
  return j.dump(2) + "\n";
}

std::string ReportMarkdown(const ReportInput& in) {
  const DesignStats& st = in.design->stats;
  std::string s = fmt::format("# hardwire report: {}\n\n", in.model->name);
  if (!in.command.empty()) s += fmt::format("Produced by `{}`.\n\n", in.command);
  s += fmt::format("Arithmetic `{}`, {} adder level(s) per pipeline stage, latency {} clocks (input register + layers), "
                   "throughput 1 token (input vector) per clock.\n\n",
                   in.arith, in.adders_per_stage, hw::ir2::Latency(in.design->design));
  s += "## Datapath (from the generator)\n\n";
  s += "| layer | kind | weights | nonzero | signed digits | adders | full-adder bits | registers | register bits | "
       "adder levels | stages (latency) | slowest stage (ns) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  auto row = [&](const LayerStats& l, const std::string& name, long lat) {
    return fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.3f} |\n", name, l.kind, l.weights,
                       l.nonzero_weights, l.nonzero_digits, l.adders, l.adder_bits, l.registers, l.register_bits, l.levels,
                       lat, l.critical_ns);
  };
  for (const LayerStats& l : st.layers) s += row(l, l.name, l.latency);
  s += row(st.total, "**total**", hw::ir2::Latency(in.design->design));
  s += "\nFull-adder bits = sum of the widths of all two-input adders/subtractors (incl. the multiply by M); "
       "registers = pipeline register words, register bits = flip-flops. Slowest stage: the longest chain of logic in one "
       "stage plus the register's clock-to-Q and setup, " + st.timing_model + " (report.json has every stage's figure).\n\n";
  if (in.synth) {
    s += "## Synthesis (yosys, one layer module at a time)\n\n";
    s += "| layer | design | gate cells | transistors | NAND2 eq. | gate depth | LUTs | SRL | CARRY4 | FFs | LUT depth | est. MHz | "
         "yosys s (cpu) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    auto num = [](long v) { return v < 0 ? std::string("-") : fmt::format("{}", v); };
    auto srow = [&](const std::string& layer, const std::string& design, const std::map<std::string, synth::FlowResult>& m) {
      const synth::FlowResult* g = Flow(m, "gate");
      const synth::FlowResult* x = Flow(m, "xilinx");
      const synth::FlowResult* dp = Flow(m, "depth");
      double secs = 0;
      for (const auto& [f, r] : m) secs += r.cpu_seconds;
      const int gdepth = g ? g->depth : dp ? dp->depth : -1;
      return fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1f} |\n", layer, design,
                         num(g ? g->cells : -1), num(g ? g->transistors : -1), num(g && g->transistors >= 0 ? g->transistors / 4 : -1),
                         num(gdepth), num(x ? x->luts : -1), num(x ? x->srls : -1), num(x ? x->carry : -1),
                         num(x ? x->ff_bits : g ? g->ff_bits : -1), num(x ? x->depth : -1),
                         x && x->depth >= 0 ? fmt::format("{:.0f}", synth::EstimateXilinxMhz(x->depth)) : "-", secs);
    };
    for (const synth::LayerSynth& l : *in.synth) {
      s += srow(l.layer, "shift-add", l.ours);
      if (!l.behavioral.empty()) s += srow("", "behavioral", l.behavioral);
    }
    s += "\nFlows: flows/gate.ys (generic gates, `stat -tech cmos`), flows/xilinx.ys (`synth_xilinx -nodsp`); "
         "depth = cells on the longest flip-flop-to-flip-flop path (`ltp -noff`). est. MHz = 1000 / (1.0 + 0.5 x LUT depth) "
         "(a rough 7-series figure, not a timing analysis). Behavioral = `y = W * x` with constant multiplies and a "
         "registered output.\n\n";
  }
  s += "## Per token\n\n";
  s += fmt::format("* adders per token: {} (every adder works once per token)\n", st.total.adders);
  s += fmt::format("* full-adder bits per token: {}\n", st.total.adder_bits);
  const double mhz = EstimatedMhz(in);
  if (mhz > 0)
    s += fmt::format("* throughput: 1 token per clock at an estimated {:.0f} MHz = {:.0f} million tokens/s "
                     "({:.2e} full-adder operations/s)\n",
                     mhz, mhz, static_cast<double>(st.total.adder_bits) * mhz * 1e6);
  else
    s += "* throughput: 1 token per clock (run with `--synth` for a clock estimate)\n";
  return s;
}

}  // namespace hw::report
