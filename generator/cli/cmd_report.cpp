// hardwire report MODEL.json [-o DIR] [--synth [--flow ...] [--compare]] (+ the options of generate)
// Writes report.json and report.md: per layer and total datapath figures, per-token figures and, with
// --synth, the yosys results of every layer module.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/file_util.h"
#include "driver/generate.h"
#include "model/model_io.h"
#include "report/report_writer.h"
#include "synth/synth_design.h"
#include "common/file_util.h"
#include "model/lm_model_io.h"
#include "passes/lower_lm.h"
#include "report/lm_report.h"

namespace hw::cli {

void AddReport(CLI::App& app, Registry& r) {
  struct Flags {
    std::string model, out = ".", work, command;
    bool synth = false, compare = false;
    std::vector<std::string> flows = {"gate", "xilinx"};
    int k = 1, jobs = 2, timeout = 0;
    double clock_mhz = 200;
    TimingFlags timing;
    ArithFlags arith;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("report", "Write report.json and report.md (sizes, stages, optional synthesis)");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  sub->add_option("-o,--out", f->out, "directory for report.json and report.md")->default_val(".");
  sub->add_flag("--synth", f->synth, "also run yosys on every layer (see `hardwire synth`)");
  sub->add_option("--flow", f->flows, "flows for --synth (comma separated)")->delimiter(',')->default_str("gate,xilinx");
  sub->add_flag("--compare", f->compare, "with --synth: also the behavioral y = W * x version of each dense layer");
  sub->add_option("-j,--jobs", f->jobs, "yosys processes at a time")->default_val(2);
  sub->add_option("--timeout", f->timeout, "seconds per yosys run (0: none)")->default_val(0);
  sub->add_option("--work", f->work, "synthesis work directory (default <out>/synth)");
  sub->add_option("--adders-per-stage", f->k, "adder levels between pipeline registers")->default_val(1);
  sub->add_option("--clock-mhz", f->clock_mhz, "language models: the assumed clock for the tokens/s figures")->default_val(200);
  f->arith.AddTo(sub);
  f->timing.AddTo(sub);
  r.push_back({sub, [f, sub]() {
                 if (model::IsGraphManifest(f->model)) {
                   if (f->synth) throw hw::Error(hw::Location{f->model, "", "--synth"}, "--synth is not supported for language models yet");
                   const model::LmModel lm = model::LoadLmModel(f->model);
                   passes::lm::LmLowerOptions lo;
                   lo.adders_per_stage = f->k;
                   f->timing.ApplyTo(lo);
                   const report::LmReport rep = report::BuildLmReport(passes::lm::LowerLmModel(lm, lo), lm, f->k, f->clock_mhz, passes::lm::Timing(lo));
                   const std::string md = report::LmReportMarkdown(rep);
                   std::filesystem::create_directories(f->out);
                   WriteFileOrThrow((std::filesystem::path(f->out) / "report.json").string(), report::LmReportJson(rep));
                   WriteFileOrThrow((std::filesystem::path(f->out) / "report.md").string(), md);
                   std::cout << md << fmt::format("wrote report.json and report.md to {}\n", f->out);
                   return 0;
                 }
                 const auto t0 = std::chrono::steady_clock::now();
                 const model::Model m = LoadAnyModel(f->model);
                 driver::GenerateOptions o;
                 o.adders_per_stage = f->k;
                 f->timing.ApplyTo(o);
                 o.lower = f->arith.Resolve(m);
                 std::cout << fmt::format("model '{}': compiling...\n", m.name) << std::flush;
                 const driver::CompiledDesign c = driver::Compile(m, o);
                 std::vector<synth::LayerSynth> synth;
                 if (f->synth) {
                   synth::SynthOptions so;
                   so.flows = f->flows;
                   so.compare = f->compare;
                   so.parallel = f->jobs;
                   so.timeout_seconds = f->timeout;
                   so.work_dir = f->work.empty() ? (std::filesystem::path(f->out) / "synth").string() : f->work;
                   std::cout << fmt::format("synthesizing {} layer(s) with yosys in {}...\n", c.design.instances.size(), so.work_dir)
                             << std::flush;
                   synth = synth::SynthesizeLayers(m, c, so, [&](int done, int total, const synth::SynthJob& job,
                                                                 const synth::FlowResult& res) {
                     const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                     std::cout << fmt::format("[{}/{}] {:.0f}s  {}: {}\n", done, total, t, job.label, res.ok ? "done" : res.error)
                               << std::flush;
                   });
                 }
                 report::ReportInput in;
                 in.model = &m;
                 in.design = &c;
                 in.synth = f->synth ? &synth : nullptr;
                 in.arith = f->arith.arith;
                 in.adders_per_stage = f->k;
                 std::string cmd = "hardwire report " + f->model;
                 for (const std::string& a : {std::string("--synth"), std::string("--compare")})
                   if ((a == "--synth" && f->synth) || (a == "--compare" && f->compare)) cmd += " " + a;
                 if (f->synth) {
                   cmd += " --flow ";
                   for (size_t i = 0; i < f->flows.size(); ++i) cmd += (i ? "," : "") + f->flows[i];
                 }
                 if (f->arith.arith != "cmvm") cmd += " --arith " + f->arith.arith;
                 if (f->k != 1) cmd += fmt::format(" --adders-per-stage {}", f->k);
                 if (f->arith.registers != "default") cmd += " --registers " + f->arith.registers;
                 cmd += f->timing.CommandSuffix();
                 in.command = cmd;
                 (void)sub;
                 std::filesystem::create_directories(f->out);
                 const std::string j = (std::filesystem::path(f->out) / "report.json").string();
                 const std::string md = (std::filesystem::path(f->out) / "report.md").string();
                 WriteFileOrThrow(j, report::ReportJson(in));
                 WriteFileOrThrow(md, report::ReportMarkdown(in));
                 std::cout << report::FormatStatsTable(c.stats);
                 if (f->synth) std::cout << "\n" << synth::FormatSynthTables(synth);
                 std::cout << fmt::format("wrote {} and {}\n", j, md);
                 return 0;
               }});
}

}  // namespace hw::cli
