// The whole generator chain, written out in order (like Verilator's main):
//   model -> per layer: LowerLayerToIr2 (adder graphs from generator/arith) -> the IR v2 pass pipeline
//   (range-analysis, split-requant, schedule, retime, sink, materialize-registers) -> the layers chained into an
//   IR v2 design -> Verilog + interface.json -> atomic write of the output directory.
#pragma once

#include <string>
#include <vector>

#include "emit/emitted_file.h"
#include "ir2/design.h"
#include "ir2/timing.h"
#include "model/model.h"
#include "passes/arith_choice.h"
#include "report/stats.h"

namespace hw::driver {

struct GenerateOptions {
  int adders_per_stage = 1;
  passes::LowerOptions lower;
  std::string template_dir;  // default: <source>/rtl_templates
  std::string dump_after;    // with dump_dir, a comma-separated list of the passes whose output is dumped (empty:
                             // every pass)
  std::string dump_dir;      // the IR after each pass, per layer: <dump_dir>/<module>/NN-<pass>.ir
  int threads = 0;           // 0: one per hardware thread
  // > 0: a clock target in ns: a delay model of ir2/timing.h (fpga, or asic when `asic`) decides how much logic
  // fits between two registers, instead of adders_per_stage.
  double clock_ns = 0;
  bool asic = false;
  hw::ir2::AsicLibrary asic_library{};
  bool offset_binary = true;  // passes::ir2::PassOptions::offset_binary
};

struct CompiledDesign {
  hw::ir2::Design design;  // one scheduled module graph per layer, chained
  // The layer graphs again (graph i = design.modules[i].graph), for code that works on the graphs alone (the fault
  // machinery).
  std::vector<hw::ir2::Graph> graphs;
  report::DesignStats stats;
  std::vector<emit::EmittedFile> files;
};

// Lowers, optimises, schedules and emits; nothing touches the disk except reading the templates.
CompiledDesign Compile(const model::Model& model, const GenerateOptions& options);

// Writes `files` into `dir` atomically: everything goes to a temporary sibling directory first, which is
// renamed into place only when complete. An existing `dir` is replaced only if it is empty or holds a
// previous hardwire output (an interface.json); anything else is refused. Throws hw::Error.
void WriteOutputDir(const std::vector<emit::EmittedFile>& files, const std::string& dir);

std::string DefaultTemplateDir();

}  // namespace hw::driver
