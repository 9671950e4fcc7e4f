// hardwire generate MODEL.json -o DIR [--adders-per-stage K] [--arith csd|cmvm] [--depth ...] [--ir 1|2]
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
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
    ArithFlags arith;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("generate", "Write the Verilog, filelist and interface.json for a model");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  sub->add_option("-o,--out", f->out, "output directory (written atomically)")->required();
  sub->add_option("--adders-per-stage", f->k, "adder levels between pipeline registers")->default_val(1);
  f->arith.AddTo(sub);
  sub->add_option("--dump-dir", f->dump_dir, "write each layer's IR after every pass to DIR/<module>/NN-<pass>.ir");
  sub->add_option("--dump-after", f->dump_after, "only dump after these passes (comma-separated); with --ir 1: print the IR after this pass to stderr");
  sub->add_option("--ir", f->ir, "dense models: lower the layers through IR v2 (default) or the old IR v1 (kept while the migration finishes)")
      ->check(CLI::IsMember({1, 2}));
  sub->add_option("--streams", f->streams, "language models: stream slots S (default: the smallest that fits the feedback loop)");
  r.push_back({sub, [f]() {
                 if (model::IsGraphManifest(f->model)) return GenerateLm({f->model, f->out, f->k, f->streams});
                 const auto t0 = std::chrono::steady_clock::now();
                 const model::Model m = LoadAnyModel(f->model);
                 driver::GenerateOptions o;
                 o.adders_per_stage = f->k;
                 o.lower = f->arith.Resolve(m);
                 o.dump_after = f->dump_after;
                 o.dump_dir = f->dump_dir;
                 o.ir_version = f->ir;
                 const driver::CompiledDesign c = driver::Compile(m, o);
                 driver::WriteOutputDir(c.files, f->out);
                 const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                 std::cout << fmt::format("model '{}': {} layer(s), {} adder level(s) per stage, arithmetic {}\n", m.name,
                                          m.layers.size(), f->k, f->arith.arith);
                 std::cout << report::FormatStatsTable(c.stats);
                 std::cout << fmt::format("latency: {} clocks (input register + layers); throughput: 1 vector per clock{}\n",
                                          c.design.latency(), f->ir == 1 ? "; layers lowered through IR v1" : "");
                 std::cout << fmt::format("wrote {} files to {} in {:.2f} s\n", c.files.size(), f->out, secs);
                 return 0;
               }});
}

}  // namespace hw::cli
