#include "driver/generate.h"

#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

#include "common/diag.h"
#include "common/file_util.h"
#include "emit/names.h"
#include "passes/dead_node_elimination.h"
#include "passes/range_analysis.h"
#include "schedule/pipeline.h"

namespace hw::driver {

namespace fs = std::filesystem;

std::string DefaultTemplateDir() { return std::string(HW_SOURCE_DIR) + "/rtl_templates"; }

namespace {

// The pass order, as data.
std::vector<passes::PassTiming> Optimise(ir::Module& m, const GenerateOptions& o) {
  passes::PassManager pm;
  pm.Add(std::make_unique<passes::DeadNodeEliminationPass>());
  pm.Add(std::make_unique<passes::RangeAnalysisPass>());
  pm.Add(std::make_unique<schedule::PipelineSchedulePass>(o.adders_per_stage));
  pm.Add(std::make_unique<emit::NameNodesPass>());
  pm.Run(m, o.dump_after);
  return pm.timings();
}

}  // namespace

CompiledDesign Compile(const model::Model& model, const GenerateOptions& options) {
  if (options.adders_per_stage < 1)
    throw Error(Location{"", "", "--adders-per-stage"}, "must be at least 1, got " + std::to_string(options.adders_per_stage));
  CompiledDesign out;
  // Layers are independent until the top is assembled: lower and optimise them in parallel.
  const int n = static_cast<int>(model.layers.size());
  out.design.name = model.name;
  out.design.input_type = model.input;
  out.design.input_length = model.input_length;
  out.design.layers.resize(n);
  std::vector<std::vector<passes::PassTiming>> timings(n);
  auto work = [&](int i) {
    ir::Design d = passes::LowerModel(model, options.lower, i);
    out.design.layers[i] = std::move(d.layers[0]);
    timings[i] = Optimise(out.design.layers[i], options);
  };
  unsigned threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::future<void>> pending;
  for (int i = 0; i < n; ++i) {
    pending.push_back(std::async(threads > 1 ? std::launch::async : std::launch::deferred, work, i));
    if (pending.size() >= threads) {
      for (auto& f : pending) f.get();
      pending.clear();
    }
  }
  for (auto& f : pending) f.get();
  for (auto& t : timings) out.timings.insert(out.timings.end(), t.begin(), t.end());
  out.stats = report::ComputeStats(model, out.design);
  out.files = emit::EmitDesign(out.design, options.template_dir.empty() ? DefaultTemplateDir() : options.template_dir);
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
