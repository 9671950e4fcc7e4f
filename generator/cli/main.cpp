// hardwire command-line interface. Every library error arrives here as hw::Error and is printed; this is
// the only place that decides the process exit status.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "common/diag.h"
#include "common/file_util.h"
#include "cosim/cosim.h"
#include "driver/generate.h"
#include "model/model_io.h"
#include "reference/reference.h"

namespace {

using namespace hw;

struct ArithFlags {
  std::string arith = "cmvm";
  std::string depth = "unconstrained";
  std::vector<std::string> per_layer;  // name=mode[:depth]
};

passes::ArithChoice ParseChoice(const std::string& mode, const std::string& depth, const std::string& what) {
  passes::ArithChoice c;
  if (mode == "csd") c.mode = passes::ArithMode::kCsd;
  else if (mode == "cmvm") c.mode = passes::ArithMode::kCmvm;
  else throw Error(Location{"", "", what}, "unknown arithmetic '" + mode + "' (expected csd or cmvm)");
  if (depth == "unconstrained") c.depth = arith::DepthMode::kUnconstrained;
  else if (depth == "min") c.depth = arith::DepthMode::kMinimum;
  else if (depth.rfind("min+", 0) == 0) {
    c.depth = arith::DepthMode::kMinimumPlusK;
    try {
      c.extra_depth = std::stoi(depth.substr(4));
    } catch (...) {
      throw Error(Location{"", "", what}, "bad depth '" + depth + "' (expected unconstrained, min or min+K)");
    }
  } else {
    throw Error(Location{"", "", what}, "bad depth '" + depth + "' (expected unconstrained, min or min+K)");
  }
  return c;
}

passes::LowerOptions MakeLowerOptions(const ArithFlags& f, const model::Model& m) {
  passes::LowerOptions o;
  o.arith = ParseChoice(f.arith, f.depth, "--arith/--depth");
  for (const std::string& spec : f.per_layer) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos) throw Error(Location{"", "", "--layer-arith"}, "expected NAME=MODE[:DEPTH], got '" + spec + "'");
    const std::string name = spec.substr(0, eq), rest = spec.substr(eq + 1);
    bool found = false;
    for (const auto& l : m.layers) found |= l.name == name;
    if (!found) throw Error(Location{m.manifest_path, "", "--layer-arith"}, "no layer named '" + name + "'");
    const auto colon = rest.find(':');
    o.per_layer[name] = ParseChoice(rest.substr(0, colon), colon == std::string::npos ? f.depth : rest.substr(colon + 1),
                                    "--layer-arith " + name);
  }
  return o;
}

int Generate(const std::string& model_path, const std::string& out, int k, const ArithFlags& af, const std::string& dump_after) {
  const auto t0 = std::chrono::steady_clock::now();
  const model::Model m = model::LoadModel(model_path);
  driver::GenerateOptions o;
  o.adders_per_stage = k;
  o.lower = MakeLowerOptions(af, m);
  o.dump_after = dump_after;
  const driver::CompiledDesign c = driver::Compile(m, o);
  driver::WriteOutputDir(c.files, out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("model '{}': {} layer(s), {} adder level(s) per stage, arithmetic {}\n", m.name, m.layers.size(), k,
                           af.arith);
  std::cout << report::FormatStatsTable(c.stats);
  std::cout << fmt::format("latency: {} clocks (input register + layers); throughput: 1 vector per clock\n", c.design.latency());
  std::cout << fmt::format("wrote {} files to {} in {:.2f} s\n", c.files.size(), out, secs);
  return 0;
}

reference::Batch LoadInputs(const model::Model& m, const std::string& inputs, long random, uint64_t seed) {
  reference::Batch x = !inputs.empty() ? cosim::ReadVectorsFile(inputs, m.input_length) : cosim::RandomInputs(m, random, seed);
  reference::CheckInputs(m, x, inputs.empty() ? "random inputs" : inputs);
  return x;
}

int Sim(const std::string& model_path, const std::string& rtl, const std::string& inputs, long random, uint64_t seed,
        const std::string& labels, const std::string& fst, long stall_seed, const std::string& build_dir, int max_report) {
  const model::Model m = model::LoadModel(model_path);
  const reference::Batch x = LoadInputs(m, inputs, random, seed);
  const reference::Trace t = reference::Run(m, x);
  cosim::BuildOptions bo;
  bo.rtl_dir = rtl;
  bo.build_dir = build_dir;
  bo.trace_fst = !fst.empty();
  std::cout << "building the simulator with Verilator..." << std::endl;
  const cosim::BuildResult b = cosim::BuildSimulator(bo);
  std::cout << fmt::format("verilator build: {:.1f} s\n", b.seconds);
  cosim::RunOptions ro;
  ro.fst_path = fst;
  ro.stall_seed = stall_seed;
  ro.max_report = max_report;
  const cosim::RunResult r = cosim::RunSimulation(b, rtl, x, t.output(), ro);
  if (!labels.empty()) {
    const reference::Batch y = cosim::ReadVectorsFile(labels, 1);
    if (y.rows() != x.rows())
      throw Error(Location{labels, "", ""}, fmt::format("{} labels for {} input vectors", y.rows(), x.rows()));
    if (m.OutputLength(static_cast<int>(m.layers.size()) - 1) != 1)
      throw Error(Location{labels, "", ""}, "labels need a model with one output (an argmax layer)");
    long rtl_ok = 0, ref_ok = 0;
    for (Eigen::Index i = 0; i < y.rows(); ++i) {
      if (i < static_cast<Eigen::Index>(r.outputs.size()) && r.outputs[i].size() == 1 && r.outputs[i][0] == y(i, 0)) ++rtl_ok;
      if (t.output()(i, 0) == y(i, 0)) ++ref_ok;
    }
    std::cout << fmt::format("accuracy (RTL): {}/{} = {:.2f} %\n", rtl_ok, y.rows(), 100.0 * rtl_ok / y.rows());
    std::cout << fmt::format("accuracy (reference): {}/{} = {:.2f} %\n", ref_ok, y.rows(), 100.0 * ref_ok / y.rows());
  }
  return r.failed == 0 && r.exit_code == 0 ? 0 : 1;
}

int Ref(const std::string& model_path, const std::string& inputs, long random, uint64_t seed, int layer) {
  const model::Model m = model::LoadModel(model_path);
  const reference::Batch x = LoadInputs(m, inputs, random, seed);
  const reference::Trace t = reference::Run(m, x);
  if (layer >= static_cast<int>(t.layers.size()))
    throw Error(Location{model_path, "", "--layer"}, fmt::format("model has {} layers", t.layers.size()));
  const reference::Batch& y = layer < 0 ? t.output() : t.layers[layer];
  for (Eigen::Index r = 0; r < y.rows(); ++r) {
    std::string line;
    for (Eigen::Index c = 0; c < y.cols(); ++c) line += (c ? " " : "") + std::to_string(y(r, c));
    std::cout << line << '\n';
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hardwire: quantized neural networks -> multiplier-free, fully pipelined Verilog"};
  app.require_subcommand(1);

  std::string model_path, out, rtl, inputs, labels, fst, build_dir, dump_after;
  int k = 1, max_report = 10, layer = -1;
  long random = 0, stall_seed = -1;
  uint64_t seed = 1;
  ArithFlags af;

  auto* gen = app.add_subcommand("generate", "Write the Verilog, filelist and interface.json for a model");
  gen->add_option("model", model_path, "model manifest (model.json)")->required();
  gen->add_option("-o,--out", out, "output directory (written atomically)")->required();
  gen->add_option("--adders-per-stage", k, "adder levels between pipeline registers")->default_val(1);
  gen->add_option("--arith", af.arith, "arithmetic: cmvm (shared subexpressions) or csd (per-weight trees)")->default_val("cmvm");
  gen->add_option("--depth", af.depth, "adder depth for cmvm: unconstrained, min or min+K")->default_val("unconstrained");
  gen->add_option("--layer-arith", af.per_layer, "per-layer override NAME=MODE[:DEPTH], repeatable");
  gen->add_option("--dump-after", dump_after, "print the IR after this pass to stderr");

  auto* sim = app.add_subcommand("sim", "Co-simulate generated RTL in Verilator against the reference");
  sim->add_option("model", model_path, "model manifest (model.json)")->required();
  sim->add_option("--rtl", rtl, "directory written by `hardwire generate`")->required();
  auto* in_opt = sim->add_option("--inputs", inputs, "input vectors: one per line, integers separated by spaces");
  sim->add_option("--random", random, "number of random vectors (extremes included)")->excludes(in_opt);
  sim->add_option("--seed", seed, "seed for --random")->default_val(1);
  sim->add_option("--labels", labels, "expected class per vector (one per line): print accuracy");
  sim->add_option("--fst", fst, "write an FST waveform to this file");
  sim->add_option("--stall-seed", stall_seed, "randomly drop clock-enable (back-pressure test) with this seed");
  sim->add_option("--build-dir", build_dir, "Verilator build directory (default RTL-sim)");
  sim->add_option("--max-report", max_report, "mismatches to print")->default_val(10);

  auto* ref = app.add_subcommand("ref", "Run the bit-exact C++ reference and print the outputs");
  ref->add_option("model", model_path, "model manifest (model.json)")->required();
  auto* rin = ref->add_option("--inputs", inputs, "input vectors file");
  ref->add_option("--random", random, "number of random vectors")->excludes(rin);
  ref->add_option("--seed", seed, "seed for --random")->default_val(1);
  ref->add_option("--layer", layer, "print this layer's output instead of the model output");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*gen) return Generate(model_path, out, k, af, dump_after);
    if (*sim) {
      if (inputs.empty() && random <= 0) throw Error(Location{"", "", "sim"}, "give --inputs FILE or --random N");
      return Sim(model_path, rtl, inputs, random, seed, labels, fst, stall_seed, build_dir, max_report);
    }
    if (*ref) {
      if (inputs.empty() && random <= 0) throw Error(Location{"", "", "ref"}, "give --inputs FILE or --random N");
      return Ref(model_path, inputs, random, seed, layer);
    }
  } catch (const hw::Error& e) {
    for (const std::string& msg : e.messages()) std::cerr << "error: " << msg << '\n';
    return 1;
  } catch (const hw::InternalError& e) {
    std::cerr << e.what() << "\nThis is a bug in hardwire; please report it with the model.\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
