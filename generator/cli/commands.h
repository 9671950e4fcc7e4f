// Every `hardwire` subcommand lives in its own cli/cmd_<name>.cpp and registers itself here; main.cpp only
// lists them. A command's run function returns the exit status and lets hw::Error propagate to main, which
// prints it (library code never prints errors or exits).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "driver/generate.h"
#include "model/model.h"
#include "passes/arith_choice.h"
#include "passes/lower_lm.h"

namespace hw::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

using Registry = std::vector<Command>;

void AddGenerate(CLI::App& app, Registry& r);
void AddSim(CLI::App& app, Registry& r);
void AddRef(CLI::App& app, Registry& r);
void AddSynth(CLI::App& app, Registry& r);
void AddReport(CLI::App& app, Registry& r);
void AddExplain(CLI::App& app, Registry& r);
void AddEval(CLI::App& app, Registry& r);
void AddIr(CLI::App& app, Registry& r);
void AddImport(CLI::App& app, Registry& r);
void AddFaults(CLI::App& app, Registry& r);

// A model manifest (model.json), or an ONNX file (*.onnx), imported in memory as `hardwire import` would
// (docs/import.md).
model::Model LoadAnyModel(const std::string& path);

// Shared option groups.
struct ArithFlags {
  std::string arith = "cmvm";
  std::string depth = "unconstrained";
  std::vector<std::string> per_layer;  // NAME=MODE[:DEPTH]
  int effort = 1;                      // CMVM search effort (arith::CmvmOptions::effort)
  std::string registers = "default";   // "min": passes::ArithChoice::fewest_registers
  void AddTo(CLI::App* app);
  passes::LowerOptions Resolve(const model::Model& m) const;
};

// A clock target and its delay model (ir2/timing.h): --clock-ns, --target fpga|asic, --fo4-ps, --asic-adder.
struct TimingFlags {
  double clock_ns = 0;
  std::string target = "fpga";
  double fo4_ps = 25;
  std::string asic_adder = "prefix";
  void AddTo(CLI::App* app);
  bool asic() const { return target == "asic"; }
  // Throws hw::Error for a negative clock, a non-positive FO4 or a delay-model option without --clock-ns.
  void Check() const;
  void ApplyTo(driver::GenerateOptions& o) const;
  void ApplyTo(passes::lm::LmLowerOptions& o) const;
  std::string CommandSuffix() const;  // the options as a command line would repeat them ("" without a clock)

 private:
  CLI::App* app_ = nullptr;
};

}  // namespace hw::cli
