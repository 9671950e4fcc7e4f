// The whole generator chain, written out in order (like Verilator's main):
//   model -> LowerModel (adder graphs) -> per module: dead-node-elimination, range-analysis,
//   pipeline-schedule, name-nodes -> Verilog + interface.json -> atomic write of the output directory.
#pragma once

#include <string>
#include <vector>

#include "emit/verilog.h"
#include "ir/datapath.h"
#include "model/model.h"
#include "passes/lower_model.h"
#include "passes/pass.h"
#include "report/stats.h"

namespace hw::driver {

struct GenerateOptions {
  int adders_per_stage = 1;
  passes::LowerOptions lower;
  std::string template_dir;  // default: <source>/rtl_templates
  std::string dump_after;    // pass name whose output is dumped to stderr
  int threads = 0;           // 0: one per hardware thread
};

struct CompiledDesign {
  ir::Design design;
  report::DesignStats stats;
  std::vector<emit::EmittedFile> files;
  std::vector<passes::PassTiming> timings;  // all modules, in order
};

// Lowers, optimises, schedules and emits; nothing touches the disk except reading the templates.
CompiledDesign Compile(const model::Model& model, const GenerateOptions& options);

// Writes `files` into `dir` atomically: everything goes to a temporary sibling directory first, which is
// renamed into place only when complete. An existing `dir` is replaced only if it is empty or holds a
// previous hardwire output (an interface.json); anything else is refused. Throws hw::Error.
void WriteOutputDir(const std::vector<emit::EmittedFile>& files, const std::string& dir);

std::string DefaultTemplateDir();

}  // namespace hw::driver
