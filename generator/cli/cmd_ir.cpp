// hardwire ir FILE.ir: read a graph in IR v2 text, run the pass pipeline, print or emit it, and optionally
// co-simulate it against the IR interpreter.
#include <fmt/format.h>

#include <iostream>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/file_util.h"
#include "cosim/ir2_cosim.h"
#include "emit/ir2_verilog.h"
#include "ir2/text.h"
#include "passes/ir2_passes.h"

namespace hw::cli {

void AddIr(CLI::App& app, Registry& r) {
  struct Flags {
    std::string file, pipeline, dump_dir, verilog, work = "out/ir-cosim";
    std::vector<std::string> dump_after;
    int k = 1;
    long cosim = 0;
    uint64_t seed = 1;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("ir", "Lower a graph written in IR v2 text (docs/architecture.md), emit Verilog, co-simulate");
  sub->add_option("file", f->file, "IR text file")->required();
  sub->add_option("-K,--adders-per-stage", f->k, "K: the most adder levels between two registers")->check(CLI::Range(1, 64));
  sub->add_option("--passes", f->pipeline, "comma-separated pass pipeline (default: range-analysis,schedule,materialize-registers)");
  sub->add_option("--dump-dir", f->dump_dir, "write the IR after each pass to DIR/NN-<pass>.ir");
  sub->add_option("--dump-after", f->dump_after, "only dump after these passes");
  sub->add_option("-o,--verilog", f->verilog, "write the Verilog module here");
  sub->add_option("--cosim", f->cosim, "co-simulate N random token slots (10 % bubbles, random ce stalls) against the interpreter");
  sub->add_option("--work", f->work, "Verilator work directory for --cosim");
  sub->add_option("--seed", f->seed, "seed of the random tokens");
  r.push_back({sub, [f]() {
                 hw::ir2::Graph g = hw::ir2::Parse(ReadFileOrThrow(f->file, "IR file"), f->file);
                 std::vector<std::string> pipeline = passes::ir2::DefaultPipeline();
                 if (!f->pipeline.empty()) {
                   pipeline.clear();
                   std::stringstream ss(f->pipeline);
                   for (std::string p; std::getline(ss, p, ',');) pipeline.push_back(p);
                 }
                 passes::ir2::PassManager pm(pipeline, {f->k}, f->dump_dir, f->dump_after);
                 pm.Run(g);
                 std::cout << hw::ir2::Dump(g, true);
                 if (!f->verilog.empty()) WriteFileOrThrow(f->verilog, emit::EmitIr2Verilog(g));
                 if (f->cosim > 0) {
                   std::mt19937_64 rng(f->seed);
                   std::vector<cosim::Ir2Token> tokens(static_cast<size_t>(f->cosim));
                   for (auto& t : tokens) {
                     t.valid = rng() % 10 != 0;
                     for (int i : g.Inputs())
                       t.inputs.push_back(std::uniform_int_distribution<int64_t>(g.nodes[i].type.min(), g.nodes[i].type.max())(rng));
                   }
                   const cosim::Ir2CosimResult res = cosim::CosimIr2(g, tokens, f->work, static_cast<long>(f->seed));
                   std::cout << res.log << fmt::format("verilator build: {:.1f} s\n", res.build_seconds);
                   return res.failed == 0 ? 0 : 1;
                 }
                 return 0;
               }});
}

}  // namespace hw::cli
