// The whole generator chain, written out in order (like Verilator's main):
//   model -> LowerModel (adder graphs) -> per module: dead-node-elimination, range-analysis,
//   pipeline-schedule, name-nodes -> Verilog + interface.json -> atomic write of the output directory.
#pragma once

#include <string>
#include <vector>

#include "emit/verilog.h"
#include "ir/datapath.h"
#include "ir2/design.h"
#include "model/model.h"
#include "passes/lower_model.h"
#include "passes/pass.h"
#include "report/stats.h"

namespace hw::driver {

struct GenerateOptions {
  int adders_per_stage = 1;
  passes::LowerOptions lower;
  std::string template_dir;  // default: <source>/rtl_templates
  std::string dump_after;    // IR v1: the pass whose output is dumped to stderr; IR v2: with dump_dir, a comma-separated
                             // list of the passes whose output is dumped (empty: every pass)
  std::string dump_dir;      // IR v2: the IR after each pass, per layer: <dump_dir>/<module>/NN-<pass>.ir
  int threads = 0;           // 0: one per hardware thread
  // 2 (default): every layer is lowered to IR v2 (passes/lower_layer_ir2.h), run through IR v2's pass pipeline
  // and printed by its emitter; 1: the layer modules come from the old dense-chain IR (ir/datapath.h), kept for
  // one release while the migration finishes (issue 9). The top and interface.json are the same in both.
  int ir_version = 2;
  // > 0: a clock target in ns (IR v2 only): the fpga delay model of ir2/timing.h decides how much logic fits
  // between two registers, instead of adders_per_stage.
  double clock_ns = 0;
};

struct CompiledDesign {
  ir::Design design;                      // IR v1 (--ir 1); with IR v2: module shells (names, types, latencies)
                                          // for the code that still reads IR v1's design (synth, faults)
  hw::ir2::Design design2;                // IR v2 only: one scheduled module graph per layer, chained
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
