#include "cli/lm_commands.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "common/diag.h"
#include "common/file_util.h"
#include "cosim/lm_cosim.h"
#include "driver/generate.h"
#include "emit/ir2_verilog.h"
#include "ir2/op_table.h"
#include "ir2/timing.h"
#include "ir2/verify.h"
#include "model/lm_model_io.h"
#include "passes/ir2_passes.h"
#include "passes/lower_lm.h"
#include "reference/lm_reference.h"

namespace hw::cli {

namespace {

using nlohmann::json;

json PortList(const hw::ir2::Graph& g, const std::vector<int>& nodes, bool outputs) {
  json a = json::array();
  for (int i : nodes) {
    const hw::ir2::Node& n = g.nodes[i];
    const hw::ir2::Type t = outputs ? hw::ir2::TypeOf(g.nodes[n.operands[0].node].range[n.operands[0].result]) : n.type;
    a.push_back({{"name", n.symbol}, {"width", t.width}, {"signed", t.is_signed}});
  }
  return a;
}

struct Lowered {
  model::LmModel model;
  hw::ir2::Graph graph;
};

Lowered Lower(const std::string& path, const passes::lm::LmLowerOptions& o) {
  Lowered l{model::LoadLmModel(path), {}};
  l.graph = passes::lm::LowerLmModel(l.model, o);
  return l;
}

// How the pipeline was cut, as interface.json records it (so that `sim` lowers the same design again).
json TimingJson(const passes::lm::LmLowerOptions& o) {
  if (o.clock_ns <= 0) return nullptr;
  json t = {{"clock_ns", o.clock_ns}, {"target", o.asic ? "asic" : "fpga"}};
  if (o.asic) t["fo4_ps"] = o.asic_library.fo4_ps, t["asic_adder"] = o.asic_library.ripple ? "ripple" : "prefix";
  return t;
}

passes::lm::LmLowerOptions OptionsFromInterface(const json& iface) {
  passes::lm::LmLowerOptions o;
  o.adders_per_stage = iface.at("adders_per_stage").get<int>();
  o.streams = iface.at("streams").get<int>();
  if (iface.contains("clock_target") && !iface.at("clock_target").is_null()) {
    const json& t = iface.at("clock_target");
    o.clock_ns = t.at("clock_ns").get<double>();
    o.asic = t.at("target").get<std::string>() == "asic";
    if (o.asic) o.asic_library.fo4_ps = t.at("fo4_ps").get<double>(), o.asic_library.ripple = t.at("asic_adder").get<std::string>() == "ripple";
  }
  return o;
}

}  // namespace

int GenerateLm(const LmGenerateFlags& f) {
  const auto t0 = std::chrono::steady_clock::now();
  const passes::lm::LmLowerOptions& lo = f.lower;
  const Lowered l = Lower(f.model, lo);
  const hw::ir2::Graph& g = l.graph;
  std::vector<emit::EmittedFile> files;
  files.push_back({g.name + ".v", emit::EmitIr2Verilog(g)});
  files.push_back({g.name + ".f", g.name + ".v\n"});
  json taps = json::array();
  for (int v : l.model.BlockBoundaries()) taps.push_back(l.model.values[v].name);
  json iface = {{"top", g.name},
                {"kind", "language-model"},
                {"streams", g.streams},
                {"latency", g.latency},
                {"context", l.model.context},
                {"vocab", l.model.vocab},
                {"adders_per_stage", lo.adders_per_stage},
                {"clock_target", TimingJson(lo)},
                {"clocking", "one token slot per enabled clock; slot n belongs to stream n mod streams"},
                {"inputs", PortList(g, g.Inputs(), false)},
                {"outputs", PortList(g, g.Outputs(), true)},
                {"taps", taps}};
  // Per-stream state as the Verilog arrays that hold it (one word per stream slot): the K/V rows are the
  // memories a hardware team would map to SRAM macros.
  json state = json::array();
  for (const auto& s : g.states)
    state.push_back({{"array", "st_" + s.name}, {"words", g.streams}, {"word_bits", s.type.width * s.lanes}, {"lanes", s.lanes},
                     {"lane_bits", s.type.width}, {"signed", s.type.is_signed}, {"reset", s.reset}});
  iface["per_stream_state"] = state;
  files.push_back({"interface.json", iface.dump(2) + "\n"});
  driver::WriteOutputDir(files, f.out);
  long counts[64] = {0};
  for (const auto& n : g.nodes) ++counts[static_cast<int>(n.op)];
  long ff = 0;
  for (const auto& n : g.nodes)
    if (n.op == hw::ir2::Op::kReg) ff += hw::ir2::TypeOf(n.range[0]).width;
  long state_bits = 0;
  for (const auto& s : g.states) state_bits += static_cast<long>(s.type.width) * s.lanes * g.streams;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("language model '{}': context {}, vocabulary {}, {} matrix weights\n", l.model.name, l.model.context,
                           l.model.vocab_size(), l.model.MatrixWeights());
  // The pipeline's cut and its slowest stage: under the clock target's own model, or for a level schedule under
  // the fpga model (an estimate of the clock that K allows).
  const double slowest = hw::ir2::EstimateSlowestStage(g, passes::lm::Timing(lo)).slowest_ns;
  std::cout << fmt::format("streams S = {} (the longest feedback loop), latency L = {} clocks, {}\n", g.streams, g.latency,
                           lo.clock_ns > 0 ? fmt::format("clock target {:.2f} ns ({} delay model)", lo.clock_ns, lo.asic ? "asic" : "fpga")
                                           : fmt::format("{} adder level(s) per stage", lo.adders_per_stage));
  std::cout << fmt::format("slowest stage {:.3f} ns ({:.0f} MHz; {} delays, logic + register overhead, no routing)\n", slowest, 1000 / slowest,
                           lo.asic ? "asic" : "fpga xc7");
  std::cout << fmt::format("adders {}, multipliers {}, tables {}, pipeline registers {} ({} flip-flops), per-stream state {} bits\n",
                           counts[static_cast<int>(hw::ir2::Op::kAdd)], counts[static_cast<int>(hw::ir2::Op::kMul)],
                           counts[static_cast<int>(hw::ir2::Op::kLut)], counts[static_cast<int>(hw::ir2::Op::kReg)], ff, state_bits);
  std::cout << fmt::format("wrote {} files to {} in {:.2f} s\n", files.size(), f.out, secs);
  return 0;
}

int SimLm(const LmSimFlags& f) {
  namespace fs = std::filesystem;
  const json iface = json::parse(ReadFileOrThrow((fs::path(f.rtl) / "interface.json").string(), "interface"));
  if (iface.value("kind", "") != "language-model")
    throw Error(Location{(fs::path(f.rtl) / "interface.json").string(), "", "kind"}, "this RTL is not a language model's");
  const Lowered l = Lower(f.model, OptionsFromInterface(iface));
  const hw::ir2::Graph& g = l.graph;
  const fs::path vfile = fs::path(f.rtl) / (g.name + ".v");
  if (ReadFileOrThrow(vfile.string(), "Verilog") != emit::EmitIr2Verilog(g))
    throw Error(Location{vfile.string(), "", ""}, "the RTL here is not what this model generates (regenerate it with `hardwire generate`)");
  std::vector<std::string> texts = f.prompts;
  if (!f.prompts_file.empty()) {
    std::istringstream in(ReadFileOrThrow(f.prompts_file, "prompts file"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) texts.push_back(line);
  }
  if (texts.empty()) throw Error(Location{"", "", ""}, "give prompts with --prompt TEXT (repeatable) or --prompts-file FILE");
  if (static_cast<int>(texts.size()) > g.streams)
    throw Error(Location{"--prompt", "", ""}, fmt::format("{} prompts for {} streams", texts.size(), g.streams));
  std::vector<cosim::LmStreamPlan> plans;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int> ids = reference::Encode(l.model, texts[i], fmt::format("--prompt {}", i + 1));
    if (ids.empty()) throw Error(Location{fmt::format("--prompt {}", i + 1), "", ""}, "the prompt is empty");
    if (static_cast<int>(ids.size()) > l.model.context)
      throw Error(Location{fmt::format("--prompt {}", i + 1), "", ""},
                  fmt::format("the prompt has {} tokens; the model's context is {}", ids.size(), l.model.context));
    plans.push_back({ids, 0});
  }
  const std::optional<uint64_t> seed = f.greedy ? std::nullopt : std::optional<uint64_t>(f.seed);
  const cosim::LmSchedule sched = cosim::MakeLmSchedule(g, l.model, plans, static_cast<uint32_t>(f.seed), f.greedy, f.bubbles, f.seed);
  std::cout << fmt::format("{} streams x context {}: {} token slots; building the simulator with Verilator...", plans.size(), l.model.context,
                           sched.slots.size())
            << std::endl;
  const std::string work = f.build_dir.empty() ? f.rtl + "-sim" : f.build_dir;
  const cosim::Ir2CosimResult res = cosim::CosimIr2(g, sched.slots, work, f.stall_seed, /*dump=*/true);
  const cosim::LmCheck c = cosim::CheckLmAgainstReference(g, l.model, plans, res, seed);
  for (size_t s = 0; s < plans.size(); ++s)
    std::cout << fmt::format("== stream {} ({})\n{}{}\n", s, f.greedy ? "greedy" : fmt::format("sampled, seed {}", f.seed),
                             reference::Decode(l.model, plans[s].prompt), reference::Decode(l.model, c.generated[s]));
  for (const std::string& mm : c.mismatches) std::cout << "mismatch: " << mm << "\n";
  const long interp_failed = res.failed;
  std::cout << fmt::format("{} passed, {} failed (tokens, RTL vs C++ reference; every output of every slot vs the IR interpreter: "
                           "{} passed, {} failed)\n",
                           c.tokens_passed, c.tokens_failed, res.passed, interp_failed);
  std::cout << fmt::format("steady state: {:.3f} tokens per clock over {} clocks; latency {} clocks, {} streams\n", c.tokens_per_clock,
                           c.steady_clocks, g.latency, g.streams);
  std::cout << fmt::format("simulated: {} tokens in {:.2f} s = {:.0f} tokens/s; verilator build: {:.1f} s\n", c.active_tokens, res.sim_seconds,
                           c.active_tokens / std::max(res.sim_seconds, 1e-9), res.build_seconds);
  return c.tokens_failed == 0 && interp_failed == 0 ? 0 : 1;
}

}  // namespace hw::cli
