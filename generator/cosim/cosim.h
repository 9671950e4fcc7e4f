// Co-simulation driver: builds generated RTL with Verilator around sim/harness.cpp, streams vectors through
// it and collects the verdict. The expected vectors always come from the reference (generator/reference),
// computed from the model's weights, never from the adder graphs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"
#include "reference/reference.h"

namespace hw::cosim {

struct BuildOptions {
  std::string rtl_dir;    // holds interface.json and <top>.f
  std::string build_dir;  // Verilator's -Mdir; default <rtl_dir>-sim
  bool trace_fst = false;
  int jobs = 2;
  bool quiet = true;      // hide Verilator/make output unless the build fails
  // Build-speed knobs (see docs/performance.md for what they do to build and simulation time).
  std::string opt_fast = "-O1";    // C++ optimisation of the model's evaluation code
  bool output_split = true;        // split the generated C++ so make compiles it on all jobs
  bool use_ccache = true;          // when ccache is installed
};

struct BuildResult {
  std::string binary;
  double seconds = 0;
};

// Runs Verilator (lint is the emitter's job; this only builds). Throws hw::Error with the tool output on failure.
BuildResult BuildSimulator(const BuildOptions& options);

struct RunOptions {
  std::string fst_path;  // waveform output, needs a build with trace_fst
  long stall_seed = -1;  // >= 0: random clock-enable stalls
  int max_report = 10;
  bool echo = true;      // print the harness output
};

struct RunResult {
  long passed = 0;
  long failed = 0;
  double vectors_per_second = 0;
  std::string log;                          // harness output
  std::vector<std::vector<int64_t>> outputs;  // what the RTL produced, per vector
  int exit_code = 0;
};

RunResult RunSimulation(const BuildResult& build, const std::string& rtl_dir, const reference::Batch& inputs,
                        const reference::Batch& expected, const RunOptions& options);

// Random input vectors for `model`: the first three are all-minimum, all-maximum and alternating
// minimum/maximum; the rest draw each element uniformly, with a 1-in-8 chance of an extreme value.
reference::Batch RandomInputs(const model::Model& model, long count, uint64_t seed);

// Text vectors (one per line, integers separated by spaces). Throws hw::Error naming file and line.
reference::Batch ReadVectorsFile(const std::string& path, int expected_width);
reference::Batch ParseVectors(const std::string& text, const std::string& name, int expected_width);
void WriteVectorsFile(const std::string& path, const reference::Batch& b);

// `s` in single quotes for a POSIX shell.
std::string ShellQuote(const std::string& s);

// Runs a command, capturing stdout+stderr; returns the exit status.
int RunCommand(const std::string& cmd, std::string* output, bool echo);

}  // namespace hw::cosim
