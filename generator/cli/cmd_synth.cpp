// hardwire synth MODEL.json [--flow word,xilinx] [--compare] [--layer NAME] [-j 2] [--work DIR]
// Generates the design in memory (same options as `generate`), then runs the yosys flows of flows/ on every
// layer module separately; --compare also synthesizes the behavioral `y = W * x` version of each dense layer.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "driver/generate.h"
#include "model/model_io.h"
#include "synth/synth_design.h"

namespace hw::cli {

void AddSynth(CLI::App& app, Registry& r) {
  struct Flags {
    std::string model, work;
    std::vector<std::string> flows = {"word", "xilinx"};
    std::vector<std::string> layers;
    bool compare = false;
    int k = 1, jobs = 2, timeout = 0, behavioral_regs = 1;
    TimingFlags timing;
    ArithFlags arith;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("synth", "Synthesize every layer module with yosys (word/gate/xilinx/depth flows)");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  sub->add_option("--flow", f->flows, "flows to run: word, gate, xilinx, depth (comma separated)")
      ->delimiter(',')
      ->default_str("word,xilinx");
  sub->add_flag("--compare", f->compare, "also synthesize the behavioral y = W * x version of each dense layer");
  sub->add_option("--behavioral-regs", f->behavioral_regs, "output register ranks of the behavioral version")->default_val(1);
  sub->add_option("--layer", f->layers, "only these layers (repeatable)");
  sub->add_option("-j,--jobs", f->jobs, "yosys processes at a time")->default_val(2);
  sub->add_option("--timeout", f->timeout, "seconds per yosys run (0: none)")->default_val(0);
  sub->add_option("--work", f->work, "work directory (default <model name>-synth)");
  sub->add_option("--adders-per-stage", f->k, "adder levels between pipeline registers")->default_val(1);
  f->timing.AddTo(sub);
  f->arith.AddTo(sub);
  r.push_back({sub, [f]() {
                 const model::Model m = LoadAnyModel(f->model);
                 driver::GenerateOptions o;
                 o.adders_per_stage = f->k;
                 f->timing.ApplyTo(o);
                 o.lower = f->arith.Resolve(m);
                 const driver::CompiledDesign c = driver::Compile(m, o);
                 synth::SynthOptions so;
                 so.flows = f->flows;
                 so.compare = f->compare;
                 so.behavioral_regs = f->behavioral_regs;
                 so.layers = f->layers;
                 so.parallel = f->jobs;
                 so.timeout_seconds = f->timeout;
                 so.work_dir = f->work.empty() ? m.name + "-synth" : f->work;
                 std::cout << fmt::format("model '{}': synthesizing with yosys in {} ({} at a time)...\n", m.name,
                                          so.work_dir, so.parallel)
                           << std::flush;
                 const auto t0 = std::chrono::steady_clock::now();
                 const auto results = synth::SynthesizeLayers(
                     m, c, so, [&](int done, int total, const synth::SynthJob& job, const synth::FlowResult& res) {
                       const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                       std::cout << fmt::format("[{}/{}] {:.0f}s  {}: {} ({:.1f} s)\n", done, total, t, job.label,
                                                res.ok ? "done" : res.error, res.seconds)
                                 << std::flush;
                     });
                 std::cout << "\n" << synth::FormatSynthTables(results);
                 // hardwire's own count beside yosys's: pipeline flip-flops (layer modules) and the estimated clock
                 std::cout << fmt::format("hardwire's estimate: {} pipeline flip-flop bits in the layer modules",
                                          c.stats.total.register_bits - static_cast<long>(m.input_length) * m.input.bits);
                 if (f->timing.clock_ns > 0) std::cout << fmt::format(", slowest stage {:.3f} ns (logic only)", c.stats.total.critical_ns);
                 std::cout << "\n";
                 bool ok = true;
                 for (const auto& l : results) {
                   for (const auto& [fl, res] : l.ours) ok &= res.ok;
                   for (const auto& [fl, res] : l.behavioral) ok &= res.ok;
                 }
                 std::cout << fmt::format("logs and scripts: {}/jobs\n", so.work_dir);
                 return ok ? 0 : 1;
               }});
}

}  // namespace hw::cli
