// `hardwire report`: report.json and report.md for a compiled design, per layer and in total, optionally
// with the yosys results of `hardwire synth` (cells, LUTs, transistors, depth, estimated clock).
#pragma once

#include <string>
#include <vector>

#include "driver/generate.h"
#include "model/model.h"
#include "synth/synth_design.h"

namespace hw::report {

struct ReportInput {
  const model::Model* model = nullptr;
  const driver::CompiledDesign* design = nullptr;
  const std::vector<synth::LayerSynth>* synth = nullptr;  // optional
  std::string command;  // the command line that produced the report (printed in report.md)
  std::string arith;    // e.g. "cmvm"
  int adders_per_stage = 1;
};

std::string ReportJson(const ReportInput& in);
std::string ReportMarkdown(const ReportInput& in);

}  // namespace hw::report
