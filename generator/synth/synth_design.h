// `hardwire synth`: every layer module of a compiled design (and, with compare, the behavioral `y = W * x`
// version of every dense layer) through the chosen yosys flows, one yosys process per layer and flow,
// `parallel` at a time.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "driver/generate.h"
#include "model/model.h"
#include "synth/yosys.h"

namespace hw::synth {

struct SynthOptions {
  std::vector<std::string> flows = {"word", "xilinx"};
  bool compare = false;             // also the behavioral version of each dense layer
  int behavioral_regs = 1;          // register ranks on the behavioral y (1: registered output)
  std::vector<std::string> layers;  // layer names; empty = all
  std::string work_dir;             // required: rtl/, behavioral/ and one directory per job
  std::string flows_dir;            // default DefaultFlowsDir()
  int parallel = 2;
  int timeout_seconds = 0;
};

struct LayerSynth {
  std::string layer, module, kind;
  std::map<std::string, FlowResult> ours;        // by flow name
  std::map<std::string, FlowResult> behavioral;  // by flow name (dense layers, with compare)
};

// Writes the design's files to <work_dir>/rtl and the behavioral modules to <work_dir>/behavioral, then
// runs the jobs. Failing yosys runs are reported in the results (ok = false), not thrown.
std::vector<LayerSynth> SynthesizeLayers(const model::Model& model, const driver::CompiledDesign& design,
                                         const SynthOptions& options, const Progress& progress = {});

// Terminal tables, one per flow; with behavioral results, ours and behavioral side by side with the ratio.
std::string FormatSynthTables(const std::vector<LayerSynth>& results);

}  // namespace hw::synth
