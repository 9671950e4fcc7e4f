#include "driver/generate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <thread>

#include "common/diag.h"
#include "common/file_util.h"
#include "emit/ir2_top.h"
#include "passes/ir2_passes.h"
#include "passes/lower_layer_ir2.h"
#include "passes/register_choice.h"

namespace hw::driver {

namespace fs = std::filesystem;

std::string DefaultTemplateDir() { return std::string(HW_SOURCE_DIR) + "/rtl_templates"; }

namespace {

// Layer `index` as a module of the design: its graph with the inputs packed as `x`, the outputs as `y`.
hw::ir2::Module LayerModule(const model::Model& model, int index, hw::ir2::Graph g) {
  const model::IntType in = model.OutputType(index - 1), out = model.OutputType(index);
  hw::ir2::Bundle x{"x", {}, {in.bits, in.is_signed}}, y{"y", {}, {out.bits, out.is_signed}};
  for (int i = 0; i < model.OutputLength(index - 1); ++i) x.members.push_back(fmt::format("x{}", i));
  for (int o = 0; o < model.OutputLength(index); ++o) y.members.push_back(fmt::format("y{}", o));
  return hw::ir2::Module{std::move(g), {x}, {y}};
}

// The dense chain as a design: the input register feeds layer 0, layer i's y feeds layer i+1's x, the last
// layer's y is the output.
void ChainLayers(const model::Model& model, hw::ir2::Design& d) {
  d.name = model.name;
  d.input = {"in", {}, {model.input.bits, model.input.is_signed}};
  d.input.members.assign(model.input_length, "");
  const model::IntType out = model.OutputType(static_cast<int>(model.layers.size()) - 1);
  d.output = {"out", {}, {out.bits, out.is_signed}};
  d.output.members.assign(model.OutputLength(static_cast<int>(model.layers.size()) - 1), "");
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const model::Layer& l = model.layers[i];
    d.instances.push_back({fmt::format("u_l{}_{}", i, l.name), static_cast<int>(i), l.name, l.kind()});
    d.connections.push_back({{static_cast<int>(i) - 1, i == 0 ? "in" : "y"}, {static_cast<int>(i), "x"}});
  }
  d.connections.push_back({{static_cast<int>(model.layers.size()) - 1, "y"}, {-1, "out"}});
}

// Runs `work(i)` for every layer, on up to `threads` threads.
template <typename F>
void ForEachLayer(int n, int threads, F work) {
  std::vector<std::future<void>> pending;
  for (int i = 0; i < n; ++i) {
    pending.push_back(std::async(threads > 1 ? std::launch::async : std::launch::deferred, work, i));
    if (static_cast<int>(pending.size()) >= threads) {
      for (auto& f : pending) f.get();
      pending.clear();
    }
  }
  for (auto& f : pending) f.get();
}

}  // namespace

CompiledDesign Compile(const model::Model& model, const GenerateOptions& options) {
  if (options.adders_per_stage < 1)
    throw Error(Location{"", "", "--adders-per-stage"}, "must be at least 1, got " + std::to_string(options.adders_per_stage));
  if (options.clock_ns < 0) throw Error(Location{"", "", "--clock-ns"}, "must be positive");
  CompiledDesign out;
  const int n = static_cast<int>(model.layers.size());
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> dump_after;
  for (size_t at = 0; !options.dump_after.empty() && at != std::string::npos;) {
    const size_t comma = options.dump_after.find(',', at);
    dump_after.push_back(options.dump_after.substr(at, comma == std::string::npos ? comma : comma - at));
    at = comma == std::string::npos ? comma : comma + 1;
  }
  if (!dump_after.empty() && options.dump_dir.empty())
    throw Error(Location{"", "", "--dump-after"}, "dumps go to files: give --dump-dir DIR too");
  for (const std::string& p : dump_after)
    if (std::find(passes::ir2::DefaultPipeline().begin(), passes::ir2::DefaultPipeline().end(), p) == passes::ir2::DefaultPipeline().end())
      throw Error(Location{"", "", "--dump-after"}, fmt::format("'{}' is not a pass of the pipeline ({})", p, fmt::join(passes::ir2::DefaultPipeline(), ", ")));
  passes::ir2::PassOptions po;  // the same for every layer, and the timing model the figures are read with
  po.adders_per_stage = options.adders_per_stage;
  po.clock_ns = options.clock_ns;
  po.asic = options.asic;
  po.asic_library = options.asic_library;
  po.offset_binary = options.offset_binary;
  if (options.asic && options.asic_library.fo4_ps <= 0) throw Error(Location{"", "", "--fo4-ps"}, "must be positive");
  // Layers are independent until they are chained: lower and optimise them in parallel.
  std::vector<hw::ir2::Graph> graphs(n);
  ForEachLayer(n, threads, [&](int i) {
    hw::ir2::Graph& g = graphs[i];
    passes::ChooseForRegisters(model, i, passes::ChoiceFor(options.lower, model.layers[i].name), po, &g);
    const std::string dump = options.dump_dir.empty() ? "" : (fs::path(options.dump_dir) / g.name).string();
    passes::ir2::PassManager(passes::ir2::DefaultPipeline(), po, dump, dump_after).Run(g);
  });
  out.stats = report::ComputeStats(model, graphs, po.Timing());
  for (int i = 0; i < n; ++i) out.design.modules.push_back(LayerModule(model, i, graphs[i]));
  out.graphs = std::move(graphs);
  ChainLayers(model, out.design);
  const std::string templates = options.template_dir.empty() ? DefaultTemplateDir() : options.template_dir;
  out.files = emit::EmitDesign(out.design, templates, "Generated by hardwire. Do not edit: regenerate with `hardwire generate`.");
  return out;
}

void WriteOutputDir(const std::vector<emit::EmittedFile>& files, const std::string& dir) {
  fs::path target = fs::path(dir).lexically_normal();
  // "out/" names the directory "out" (else the temporary would be created inside the target itself).
  if (!target.has_filename() && target.has_parent_path() && target != target.root_path()) target = target.parent_path();
  std::error_code ec;
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec)) throw Error(Location{dir, "", ""}, "output path exists and is not a directory");
    const bool empty = fs::is_empty(target, ec);
    if (!empty && !fs::exists(target / "interface.json", ec))
      throw Error(Location{dir, "", ""},
                  "output directory is not empty and does not hold a previous hardwire output; refusing to replace it");
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) throw Error(Location{parent.string(), "", ""}, "cannot create directory: " + ec.message());
  const fs::path tmp = parent / (target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directory(tmp, ec);
  if (ec) throw Error(Location{dir, "", ""}, "cannot create output directory: " + ec.message());
  try {
    for (const emit::EmittedFile& f : files) WriteFileOrThrow((tmp / f.name).string(), f.text);
    const fs::path old = parent / (target.filename().string() + ".old-" + std::to_string(::getpid()));
    const bool had = fs::exists(target, ec);
    if (had) {
      fs::rename(target, old, ec);
      if (ec) throw Error(Location{dir, "", ""}, "cannot move the previous output aside: " + ec.message());
    }
    fs::rename(tmp, target, ec);
    if (ec) {
      if (had) fs::rename(old, target);
      throw Error(Location{dir, "", ""}, "cannot rename the new output into place: " + ec.message());
    }
    if (had) fs::remove_all(old, ec);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace hw::driver
