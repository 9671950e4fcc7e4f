#include "synth/synth_design.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "common/diag.h"
#include "common/file_util.h"
#include "synth/behavioral.h"

namespace hw::synth {

namespace fs = std::filesystem;

std::vector<LayerSynth> SynthesizeLayers(const model::Model& model, const driver::CompiledDesign& c,
                                         const SynthOptions& o, const Progress& progress) {
  if (o.work_dir.empty()) throw Error(Location{"", "", "--work"}, "no work directory for synthesis");
  for (const std::string& f : o.flows)
    if (std::find(KnownFlows().begin(), KnownFlows().end(), f) == KnownFlows().end())
      throw Error(Location{"", "", "--flow"}, fmt::format("unknown flow '{}' (known: word, gate, xilinx, depth)", f));
  for (const std::string& l : o.layers) {
    bool found = false;
    for (const hw::ir2::Instance& inst : c.design.instances) found |= inst.label == l;
    if (!found) throw Error(Location{model.manifest_path, "", "--layer"}, fmt::format("no layer named '{}'", l));
  }
  const fs::path work = fs::absolute(o.work_dir);
  fs::create_directories(work / "rtl");
  fs::create_directories(work / "behavioral");
  for (const emit::EmittedFile& f : c.files) WriteFileOrThrow((work / "rtl" / f.name).string(), f.text);
  const std::string flows_dir = o.flows_dir.empty() ? DefaultFlowsDir() : o.flows_dir;

  std::vector<LayerSynth> out;
  std::vector<SynthJob> jobs;
  struct Slot {
    size_t layer;
    bool behavioral;
  };
  std::vector<Slot> slots;
  // A chain: instance i is model layer i, a module of its own file (IR v2 modules use no templates).
  for (size_t i = 0; i < c.design.instances.size(); ++i) {
    const hw::ir2::Instance& inst = c.design.instances[i];
    const std::string& module = c.design.ModuleOf(static_cast<int>(i)).graph.name;
    if (!o.layers.empty() && std::find(o.layers.begin(), o.layers.end(), inst.label) == o.layers.end()) continue;
    LayerSynth ls{inst.label, module, inst.kind, {}, {}};
    std::vector<std::string> files = {(work / "rtl" / (module + ".v")).string()};
    const size_t idx = out.size();
    for (const std::string& f : o.flows) {
      jobs.push_back({fmt::format("{} shift-add {}", inst.label, f), f, module, files,
                      (work / "jobs" / (inst.label + "_ours")).string(), o.timeout_seconds});
      slots.push_back({idx, false});
    }
    const auto* dense = std::get_if<model::DenseLayer>(&model.layers[static_cast<int>(i)].op);
    if (o.compare && dense) {
      const std::string bname = module + "_behavioral";
      BehavioralOptions bo;
      bo.output_regs = o.behavioral_regs;
      const std::string path = (work / "behavioral" / (bname + ".v")).string();
      WriteFileOrThrow(path, EmitBehavioralDense(*dense, model.OutputType(static_cast<int>(i) - 1), bname, bo));
      for (const std::string& f : o.flows) {
        jobs.push_back({fmt::format("{} behavioral {}", inst.label, f), f, bname, {path},
                        (work / "jobs" / (inst.label + "_behavioral")).string(), o.timeout_seconds});
        slots.push_back({idx, true});
      }
    }
    out.push_back(std::move(ls));
  }
  // Biggest jobs first so that two workers finish at about the same time: order by file size, then flow
  // cost (xilinx > gate > depth > word).
  std::vector<size_t> order(jobs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto cost = [&](size_t i) {
    uintmax_t bytes = 0;
    for (const std::string& f : jobs[i].files) bytes += fs::exists(f) ? fs::file_size(f) : 0;
    const std::string& fl = jobs[i].flow;
    const int w = fl == "xilinx" ? 8 : fl == "gate" ? 4 : fl == "depth" ? 3 : 1;
    return static_cast<double>(bytes) * w;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cost(a) > cost(b); });
  std::vector<SynthJob> sorted;
  for (size_t i : order) sorted.push_back(jobs[i]);
  const std::vector<FlowResult> res = RunJobs(sorted, flows_dir, o.parallel, progress);
  for (size_t k = 0; k < order.size(); ++k) {
    const Slot& s = slots[order[k]];
    (s.behavioral ? out[s.layer].behavioral : out[s.layer].ours)[res[k].flow] = res[k];
  }
  return out;
}

namespace {

std::string Num(long v) { return v < 0 ? "-" : fmt::format("{}", v); }

std::string Ratio(long a, long b) { return a >= 0 && b > 0 ? fmt::format("{:.2f}x", static_cast<double>(a) / b) : "-"; }

std::string Time(const FlowResult& r) {
  if (r.timed_out) return "timeout";
  return fmt::format("{:.1f}s/{:.1f}s", r.seconds, r.cpu_seconds);
}

}  // namespace

std::string FormatSynthTables(const std::vector<LayerSynth>& results) {
  std::vector<std::string> flows;
  bool any_behavioral = false;
  for (const LayerSynth& l : results) {
    for (const auto& [f, r] : l.ours)
      if (std::find(flows.begin(), flows.end(), f) == flows.end()) flows.push_back(f);
    any_behavioral |= !l.behavioral.empty();
  }
  std::sort(flows.begin(), flows.end(), [](const std::string& a, const std::string& b) {
    auto rank = [](const std::string& f) { return f == "word" ? 0 : f == "gate" ? 1 : f == "xilinx" ? 2 : 3; };
    return rank(a) < rank(b);
  });
  std::string s;
  for (const std::string& f : flows) {
    std::string header;
    if (f == "word") header = fmt::format("{:<12} {:<11} {:>8} {:>10} {:>6} {:>9} {:>15}", "layer", "design", "adders", "adder_bits", "muls", "ff_bits", "wall/cpu");
    else if (f == "gate") header = fmt::format("{:<12} {:<11} {:>9} {:>12} {:>9} {:>8} {:>6} {:>15}", "layer", "design", "cells", "transistors", "nand2_eq", "ff_bits", "depth", "wall/cpu");
    else if (f == "xilinx") header = fmt::format("{:<12} {:<11} {:>8} {:>6} {:>7} {:>8} {:>6} {:>8} {:>15}", "layer", "design", "LUTs", "(SRL)", "CARRY4", "FFs", "depth", "est_MHz", "wall/cpu");
    else header = fmt::format("{:<12} {:<11} {:>9} {:>6} {:>15}", "layer", "design", "cells", "depth", "wall/cpu");
    s += fmt::format("flow '{}' (flows/{}.ys)\n{}\n", f, f, header);
    auto row = [&](const std::string& layer, const std::string& design, const FlowResult& r, const FlowResult* ref) {
      if (!r.ok) return fmt::format("{:<12} {:<11} failed: {}\n", layer, design, r.error);
      if (f == "word")
        return fmt::format("{:<12} {:<11} {:>8} {:>10} {:>6} {:>9} {:>15}\n", layer, design, Num(r.adders), Num(r.adder_bits),
                           Num(r.multipliers), Num(r.ff_bits), Time(r));
      if (f == "gate")
        return fmt::format("{:<12} {:<11} {:>9} {:>12} {:>9} {:>8} {:>6} {:>15}\n", layer, design, Num(r.cells), Num(r.transistors),
                           r.transistors < 0 ? "-" : Num(r.transistors / 4), Num(r.ff_bits), r.depth, Time(r));
      if (f == "xilinx")
        return fmt::format("{:<12} {:<11} {:>8} {:>6} {:>7} {:>8} {:>6} {:>8} {:>15}{}\n", layer, design, Num(r.luts), Num(r.srls),
                           Num(r.carry), Num(r.ff_bits), r.depth,
                           r.depth >= 0 ? fmt::format("{:.0f}", EstimateXilinxMhz(r.depth)) : "-", Time(r),
                           ref && ref->ok ? "  LUTs ours/behavioral " + Ratio(ref->luts, r.luts) : "");
      return fmt::format("{:<12} {:<11} {:>9} {:>6} {:>15}\n", layer, design, Num(r.cells), r.depth, Time(r));
    };
    for (const LayerSynth& l : results) {
      const auto it = l.ours.find(f);
      if (it == l.ours.end()) continue;
      s += row(l.layer, "shift-add", it->second, nullptr);
      const auto b = l.behavioral.find(f);
      if (b != l.behavioral.end()) s += row("", "behavioral", b->second, &it->second);
    }
    s += "\n";
  }
  if (any_behavioral)
    s += "shift-add = hardwire's pipelined module; behavioral = y = W * x with constant multiplies and a registered\n"
         "output (same function). wall/cpu: yosys wall-clock and CPU seconds.\n";
  return s;
}

}  // namespace hw::synth
