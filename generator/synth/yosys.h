// Running yosys flows (flows/*.ys) on single layer modules and reading back what they measured.
//
// A flow script is a template with three placeholders: {{READ}} (read_verilog of the needed files only),
// {{TOP}} (the module to synthesize) and {{STAT}} (where `stat -json` writes). Every job runs in its own
// directory with its own log, so jobs can run in parallel (one yosys process per core).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hw::synth {

// The flows shipped in flows/: "word", "gate", "xilinx", "depth".
const std::vector<std::string>& KnownFlows();
std::string DefaultFlowsDir();  // <source>/flows

// One synthesis run of one module.
struct SynthJob {
  std::string label;               // for progress lines, e.g. "fc1 shift-add xilinx"
  std::string flow;                // name of flows/<flow>.ys
  std::string top;                 // module name
  std::vector<std::string> files;  // Verilog files to read (absolute paths)
  std::string work_dir;            // script, log and stat.json go here (created)
  int timeout_seconds = 0;         // 0: none
};

// What one flow measured; -1 = not measured by this flow.
struct FlowResult {
  std::string flow;
  bool ok = false;
  bool timed_out = false;
  std::string error;      // first error line when !ok
  double seconds = 0;     // wall time
  double cpu_seconds = 0; // yosys' own CPU time (user + system), robust on a loaded machine
  std::string log_path;
  std::map<std::string, long> cell_types;  // as `stat` names them (with widths for the word flow)
  long cells = -1;
  // word flow
  long adders = -1;       // $add/$sub/$neg/$alu/$macc cells
  long adder_bits = -1;   // sum of their widths
  long multipliers = -1;  // $mul cells
  long ff_bits = -1;      // flip-flops (all flows)
  // gate flow
  long transistors = -1;  // stat -tech cmos
  // xilinx flow
  long luts = -1;         // LUT1..LUT6 + SRL16E/SRLC32E (shift-register LUTs) + LUTRAM
  long srls = -1;
  long carry = -1;        // CARRY4/CARRY8
  long muxes = -1;        // MUXF7/MUXF8
  // gate, xilinx and depth flows
  int depth = -1;         // longest register-to-register path in cells (ltp -noff)
};

// Fills a template: {{READ}}, {{TOP}}, {{STAT}}.
std::string InstantiateFlow(const std::string& template_text, const std::string& top,
                            const std::vector<std::string>& files, const std::string& stat_path);

// Runs one job (blocking). Never throws for a failing yosys: the result carries ok = false and the error.
// Throws hw::Error if the flow template is missing.
FlowResult RunJob(const SynthJob& job, const std::string& flows_dir);

// Runs jobs with at most `parallel` yosys processes at a time; results in job order. `progress` (optional)
// is called after every finished job with (finished count, total, job, result), from worker threads but
// never concurrently.
using Progress = std::function<void(int, int, const SynthJob&, const FlowResult&)>;
std::vector<FlowResult> RunJobs(const std::vector<SynthJob>& jobs, const std::string& flows_dir, int parallel,
                                const Progress& progress = {});

// Parsers (exposed for tests): a `stat -json` document, the `ltp` line and the final CPU line of a log.
void ParseStatJson(const std::string& json_text, FlowResult* r);
int ParseLtpDepth(const std::string& log_text);  // -1 if absent
double ParseCpuSeconds(const std::string& log_text);

// Rough clock estimate for a 7-series part from the LUT/carry levels of the worst stage:
// 1.0 ns (clock-to-out + setup) + 0.5 ns per level. Documented in docs/synthesis.md.
double EstimateXilinxMhz(int depth);

}  // namespace hw::synth
