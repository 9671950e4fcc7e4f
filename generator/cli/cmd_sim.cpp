// hardwire sim MODEL.json --rtl DIR [--inputs FILE | --random N --seed S] [--labels FILE] [--fst FILE]
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "common/diag.h"
#include "cli/lm_commands.h"
#include "cosim/cosim.h"
#include "model/lm_model_io.h"
#include "cosim/gtkw.h"
#include "model/model_io.h"
#include "reference/input_quant.h"
#include "reference/reference.h"

namespace hw::cli {

namespace {

reference::Batch LoadInputs(const model::Model& m, const std::string& inputs, const std::string& float_inputs, long random, uint64_t seed) {
  if (inputs.empty() && float_inputs.empty() && random <= 0)
    throw Error(Location{"", "", "--inputs"}, "give --inputs FILE, --float-inputs FILE or --random N");
  reference::Batch x = !inputs.empty()         ? cosim::ReadVectorsFile(inputs, m.input_length)
                       : !float_inputs.empty() ? reference::ReadFloatInputs(m, float_inputs)
                                               : cosim::RandomInputs(m, random, seed);
  reference::CheckInputs(m, x, !inputs.empty() ? inputs : !float_inputs.empty() ? float_inputs : "random inputs");
  return x;
}

}  // namespace

void AddSim(CLI::App& app, Registry& r) {
  struct Flags {
    std::string model, rtl, inputs, float_inputs, labels, fst, build_dir;
    long random = 0, stall_seed = -1;
    uint64_t seed = 1;
    int max_report = 10;
    int jobs = 2;
    LmSimFlags lm;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("sim", "Co-simulate generated RTL in Verilator against the reference");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  sub->add_option("--rtl", f->rtl, "directory written by `hardwire generate`")->required();
  auto* in = sub->add_option("--inputs", f->inputs, "input vectors: one per line, integers separated by spaces");
  auto* fin = sub->add_option("--float-inputs", f->float_inputs,
                               "real-valued input vectors, quantized by the model's input quantizer (imported models)")->excludes(in);
  sub->add_option("--random", f->random, "number of random vectors (extremes included)")->excludes(in)->excludes(fin);
  sub->add_option("--seed", f->seed, "seed for --random")->default_val(1);
  sub->add_option("--labels", f->labels, "expected class per vector (one per line): print accuracy");
  sub->add_option("--fst", f->fst, "write an FST waveform to this file");
  sub->add_option("--stall-seed", f->stall_seed, "randomly drop clock-enable (back-pressure test) with this seed");
  sub->add_option("--build-dir", f->build_dir, "Verilator build directory (default RTL-sim)");
  sub->add_option("--jobs,-j", f->jobs, "parallel compile jobs of the Verilator build (dense models)")->default_val(2)->check(CLI::Range(1, 64));
  sub->add_option("--max-report", f->max_report, "mismatches to print")->default_val(10);
  sub->add_option("--prompt", f->lm.prompts, "language model: a prompt per stream (repeatable)");
  sub->add_option("--prompts-file", f->lm.prompts_file, "language model: prompts, one per line");
  sub->add_flag("--greedy", f->lm.greedy, "language model: argmax instead of sampling (with --seed)");
  sub->add_option("--bubbles", f->lm.bubbles, "language model: percent of empty token slots")->check(CLI::Range(0, 90));
  r.push_back({sub, [f]() {
                 if (model::IsGraphManifest(f->model)) {
                   LmSimFlags lm = f->lm;
                   lm.model = f->model;
                   lm.rtl = f->rtl;
                   lm.build_dir = f->build_dir;
                   lm.seed = f->seed;
                   lm.stall_seed = f->stall_seed;
                   return SimLm(lm);
                 }
                 const model::Model m = LoadAnyModel(f->model);
                 const reference::Batch x = LoadInputs(m, f->inputs, f->float_inputs, f->random, f->seed);
                 const reference::Trace t = reference::Run(m, x);
                 cosim::BuildOptions bo;
                 bo.rtl_dir = f->rtl;
                 bo.build_dir = f->build_dir;
                 bo.jobs = f->jobs;
                 bo.trace_fst = !f->fst.empty();
                 std::cout << "building the simulator with Verilator..." << std::endl;
                 const cosim::BuildResult b = cosim::BuildSimulator(bo);
                 std::cout << fmt::format("verilator build: {:.1f} s\n", b.seconds);
                 cosim::RunOptions ro;
                 ro.fst_path = f->fst;
                 ro.stall_seed = f->stall_seed;
                 ro.max_report = f->max_report;
                 const cosim::RunResult res = cosim::RunSimulation(b, f->rtl, x, t.output(), ro);
                 if (!f->fst.empty()) std::cout << "gtkwave save file: " << cosim::WriteGtkw(f->rtl, f->fst) << "\n";
                 if (!f->labels.empty()) {
                   const reference::Batch y = cosim::ReadVectorsFile(f->labels, 1);
                   if (y.rows() != x.rows())
                     throw Error(Location{f->labels, "", ""}, fmt::format("{} labels for {} input vectors", y.rows(), x.rows()));
                   if (m.OutputLength(static_cast<int>(m.layers.size()) - 1) != 1)
                     throw Error(Location{f->labels, "", ""}, "labels need a model with one output (an argmax layer)");
                   long rtl_ok = 0, ref_ok = 0;
                   for (Eigen::Index i = 0; i < y.rows(); ++i) {
                     const auto& o = res.outputs;
                     if (i < static_cast<Eigen::Index>(o.size()) && o[i].size() == 1 && o[i][0] == y(i, 0)) ++rtl_ok;
                     if (t.output()(i, 0) == y(i, 0)) ++ref_ok;
                   }
                   std::cout << fmt::format("accuracy (RTL): {}/{} = {:.2f} %\n", rtl_ok, y.rows(), 100.0 * rtl_ok / y.rows());
                   std::cout << fmt::format("accuracy (reference): {}/{} = {:.2f} %\n", ref_ok, y.rows(),
                                            100.0 * ref_ok / y.rows());
                 }
                 return res.failed == 0 && res.exit_code == 0 ? 0 : 1;
               }});
}

}  // namespace hw::cli
