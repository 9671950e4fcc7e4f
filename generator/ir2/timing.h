// Timing models: how long an op takes, and how much fits between two registers.
//
//   levels (default, `--adders-per-stage K`): every op costs its op-table cost in adder levels (an add 1, a
//           multiplier 2; a requant with no rounding adder whose clamp is a saturation 0: ir2::Cost); a stage
//           holds at most K levels.
//   fpga   (`--clock-ns T --target fpga`): logic delays in ns of a Xilinx 7-series slice, from the cell timing
//           annotations of yosys's own xc7 library (/usr/share/yosys/xilinx/cells_sim.v, yosys 0.23; figures
//           from prjxray-db's Artix-7 timing database, the data behind yosys's abc9 timing-driven mapping):
//             LUT6 input I0 -> O                         0.642 ns (the slowest pin)
//             CARRY4 S[0] -> O[3] (a chain of one)       0.582 ns
//             CARRY4 S[0] -> CO[3] (first of a chain)    0.508 ns,  CI -> CO[3] 0.114 ns per further 4 bits,
//             CARRY4 CI -> O[3] (last of a chain)        0.313 ns
//             FDRE C -> Q 0.303 ns, D setup 0 ns (-0.046 in the database; yosys rounds it to 0)
//           A w-bit adder or comparator is one LUT level (the operand XOR) and ceil(w/4) CARRY4s:
//             t(w) = 0.642 + 0.582                               for w <= 4
//             t(w) = 0.642 + 0.508 + 0.114 * (ceil(w/4) - 2) + 0.313   for w > 4
//           a select or a bitwise op one LUT (0.642), a requant its rounding adder plus, when a clamp can
//           trigger, a comparator and a LUT for the select, or for a saturation (bounds 0, -2^k, 2^k - 1: see
//           RequantClamp) a LUT6 tree over the tested bits instead of the comparator; a stage's budget is
//           T - 0.303 (clock to Q) - 0.
//           Routing delays are not included: these are logic-only estimates, as yosys's `sta` gives them.
//           Ops the dense chain does not use (multipliers, tables, variable shifts, state and memories) get
//           coarse LUT-level estimates (see timing.cpp) and are not calibrated.
//   asic   (`--clock-ns T --target asic [--fo4-ps P] [--asic-adder prefix|ripple]`): a generic static-CMOS
//           standard-cell model in FO4 inverter delays (one FO4 = P ps, default 25, an assumption: give your
//           library's figure). The adder structures and their critical paths are the textbook ones (Weste and
//           Harris, "CMOS VLSI Design", 4th ed., section 11.2.2: ripple carry t_pg + (N - 1) t_AO + t_xor; a
//           parallel-prefix tree such as Sklansky or Kogge-Stone t_pg + ceil(log2 N) t_AO + t_xor); the cell
//           delays are logical-effort-sized estimates (Sutherland, Sproull and Harris, "Logical Effort", 1999), not
//           figures of a characterised library (none is on this machine):
//             t_pg (bitwise generate/propagate, a NAND2/NOR2-class gate)  1 FO4
//             t_AO (one carry step, an AND-OR cell)                     2 FO4
//             t_xor (the sum XOR), a 2:1 mux                            2 FO4 each
//             an AND/OR of bits                                         1 FO4
//             flip-flop clock-to-Q 2 FO4, setup 1 FO4
//           `prefix` (the default) is what synthesis picks for an adder on a critical path under a clock
//           constraint; `ripple` is the smallest adder, for slow clocks. A comparator is a subtractor without the
//           sum XOR; a w x w multiplier a Wallace tree of ceil(log1.5 w) full-adder levels (2 t_xor each) and a
//           prefix adder of 2w bits; a table a mux tree of ceil(log2 entries) levels; a variable shift
//           ceil(log2 w) mux levels. Routing is not included, as in the fpga model.
#pragma once

#include <string>
#include <vector>

#include "ir2/ir.h"

namespace hw::ir2 {

// The asic model's parameters.
struct AsicLibrary {
  double fo4_ps = 25;   // one FO4 inverter delay in ps (an assumption; a ~65 nm-class figure)
  bool ripple = false;  // ripple-carry adders instead of parallel-prefix ones
};

struct TimingModel {
  enum class Target { kLevels, kFpga, kAsic };
  Target target = Target::kLevels;
  int adders_per_stage = 1;  // levels: K
  double clock_ns = 0;       // fpga, asic: the clock period T
  AsicLibrary asic;          // asic only

  bool levels() const { return target == Target::kLevels; }
  // What one stage may hold: K levels, or T minus the register's clock-to-Q and setup (ns).
  double Budget() const;
  // The op's delay in the model's unit (levels or ns). Needs ranges (widths) for the fpga model.
  double Delay(const Graph& g, const Node& n) const;
  // Register overhead added to a stage's logic for a clock estimate (ns; 0 for levels).
  double RegisterOverheadNs() const;
  std::string Describe() const;  // "K = 2 adder levels per stage" / "fpga (xc7 logic delays), clock 4.00 ns"

 private:
  // The model's building blocks in ns (not for levels): a w-bit two-operand adder, a comparator of w-bit
  // operands, a 2:1 select and a one-gate bitwise op.
  double AdderNs(int width) const;
  double CompareNs(int width) const;
  double MuxNs() const;
  double ReduceNs(int bits) const;  // an AND / OR of `bits` bits
  double GateNs(bool is_xor) const;
};

// The longest chain of logic inside each stage of a scheduled graph (index: stage), in the model's unit (levels or
// ns; without the register overhead): an op's chain is its delay plus the longest chain among its operands of
// the same stage; ports, constants and registers start chains at 0. Any schedule can be measured under any
// model (e.g. a level schedule under the fpga model, for an estimated clock).
std::vector<double> StageLogicDelays(const Graph& g, const TimingModel& t);

// The slowest stage of a scheduled graph in ns, logic plus the register's clock-to-Q and setup: under `t`, or for a
// level model (K) under the fpga model, as an estimate of the clock that K allows. Also names the model used.
struct StageEstimate {
  double slowest_ns = 0;
  std::string model;  // TimingModel::Describe() of the model the figure was measured with
};
StageEstimate EstimateSlowestStage(const Graph& g, const TimingModel& t);
// The model ns figures are measured with: `t` itself, or the fpga model for a level model.
TimingModel NsModel(const TimingModel& t);

// ns of a w-bit carry-chain adder or comparator in the fpga model.
double FpgaAdderNs(int width);
// FO4 delays of a w-bit adder in the asic model (ripple carry or parallel prefix, see above).
double AsicAdderFo4(int width, bool ripple);

}  // namespace hw::ir2
