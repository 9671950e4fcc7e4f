// Formal equivalence of a generated (pipelined, shift-add) layer module and the behavioral `y = W * x`
// module, with yosys.
//
// Method (sound for the sequential designs): the behavioral module gets a delay line of exactly the layer's
// latency L on its output (BehavioralOptions::output_regs = L), so both designs map the input of clock t to
// the output of clock t + L. `miter -equiv -flatten` builds a miter whose `trigger` output is 1 when the two
// outputs differ; `sat -tempinduct -prove trigger 0 -seq L -set-init-zero -set in_ce 1` then proves by
// temporal induction that trigger stays 0 in every clock after the first L (which still hold the reset
// contents of the pipelines), for all input sequences. ce is held high: clock enable is the same
// register-enable on every flip-flop in both designs and is covered by the co-simulation stall tests.
// A misaligned delay tap, a wrong shift or a flipped sign all make the proof fail with a counterexample.
#pragma once

#include <string>
#include <vector>

namespace hw::synth {

struct EquivJob {
  std::string work_dir;                  // created; script and log go here
  std::vector<std::string> gold_files;   // Verilog for the generated module (with its templates)
  std::string gold_top;
  std::vector<std::string> gate_files;   // Verilog for the behavioral module
  std::string gate_top;
  int latency = 0;                       // register ranks of both designs from x to y
  int timeout_seconds = 0;
};

struct EquivResult {
  bool proven = false;   // yosys reported SUCCESS
  bool failed = false;   // yosys found a counterexample (or the designs did not fit together)
  std::string message;   // summary line
  std::string log_path;
  double seconds = 0;
};

EquivResult ProveEquivalent(const EquivJob& job);

}  // namespace hw::synth
