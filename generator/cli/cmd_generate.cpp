// hardwire generate MODEL.json -o DIR [--adders-per-stage K] [--arith csd|cmvm] [--depth ...] [--ir 1|2]
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "common/diag.h"
#include "cli/lm_commands.h"
#include "driver/generate.h"
#include "model/lm_model_io.h"
#include "model/model_io.h"

namespace hw::cli {

void AddGenerate(CLI::App& app, Registry& r) {
  struct Flags {
    std::string model, out, dump_after, dump_dir;
    int k = 1;
    int streams = 0;
    int ir = 2;
    TimingFlags timing;
    ArithFlags arith;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("generate", "Write the Verilog, filelist and interface.json for a model");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  sub->add_option("-o,--out", f->out, "output directory (written atomically)")->required();
  sub->add_option("--adders-per-stage", f->k, "adder levels between pipeline registers")->default_val(1);
  f->arith.AddTo(sub);
  sub->add_option("--dump-dir", f->dump_dir, "write each layer's IR after every pass to DIR/<module>/NN-<pass>.ir");
  sub->add_option("--dump-after", f->dump_after, "only dump after these passes (comma-separated)");
  f->timing.AddTo(sub);
  sub->add_option("--streams", f->streams, "language models: stream slots S (default: the smallest that fits the feedback loop)");
  r.push_back({sub, [f]() {
                 f->timing.Check();
                 if (model::IsGraphManifest(f->model)) {
                   passes::lm::LmLowerOptions lo;
                   lo.adders_per_stage = f->k;
                   lo.streams = f->streams;
                   f->timing.ApplyTo(lo);
                   return GenerateLm({f->model, f->out, lo});
                 }
                 const auto t0 = std::chrono::steady_clock::now();
                 const model::Model m = LoadAnyModel(f->model);
                 driver::GenerateOptions o;
                 o.adders_per_stage = f->k;
                 o.lower = f->arith.Resolve(m);
                 o.dump_after = f->dump_after;
                 o.dump_dir = f->dump_dir;
                 f->timing.ApplyTo(o);
                 const driver::CompiledDesign c = driver::Compile(m, o);
                 driver::WriteOutputDir(c.files, f->out);
                 const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                 std::cout << fmt::format("model '{}': {} layer(s), {}, arithmetic {}\n", m.name, m.layers.size(),
                                          f->timing.clock_ns > 0 ? fmt::format("clock target {:.2f} ns ({} delay model)", f->timing.clock_ns, f->timing.target)
                                                          : fmt::format("{} adder level(s) per stage", f->k),
                                          f->arith.arith);
                 std::cout << report::FormatStatsTable(c.stats);
                 if (f->timing.clock_ns == 0)
                   std::cout << fmt::format("slowest stage {:.3f} ns ({:.0f} MHz) estimated with the fpga model (xc7 logic + clock-to-Q, no routing)\n",
                                            c.stats.total.critical_ns, 1000.0 / c.stats.total.critical_ns);
                 if (f->timing.clock_ns > 0) {
                   for (const report::LayerStats& l : c.stats.layers)
                     std::cout << fmt::format("  {}: slowest stage {:.3f} ns (logic + clock-to-Q + setup, no routing)\n", l.name, l.critical_ns);
                   std::cout << fmt::format("estimated clock: {:.3f} ns ({:.0f} MHz) against the {:.2f} ns target\n", c.stats.total.critical_ns,
                                            1000.0 / c.stats.total.critical_ns, f->timing.clock_ns);
                 }
                 std::cout << fmt::format("latency: {} clocks (input register + layers); throughput: 1 vector per clock\n",
                                          hw::ir2::Latency(c.design));
                 std::cout << fmt::format("wrote {} files to {} in {:.2f} s\n", c.files.size(), f->out, secs);
                 return 0;
               }});
}

}  // namespace hw::cli
