// Co-simulation of IR v2 designs: Verilog from emit/ir2_verilog, built with Verilator around
// sim/ir2_harness.cpp, driven token by token and compared with the IR interpreter (the token-level meaning).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir2/ir.h"

namespace hw::cosim {

struct Ir2Token {
  bool valid = true;
  std::vector<int64_t> inputs;  // in input-node order
};

struct Ir2CosimResult {
  long passed = 0, failed = 0;
  std::string log;
  double build_seconds = 0;
  double sim_seconds = 0;
  // With `dump`: every RTL output, in order, with the enabled clock at which it appeared.
  std::vector<long> clocks;
  std::vector<std::vector<int64_t>> outputs;
};

// `g` must be fully lowered (registers materialized). Writes the Verilog, builds it in `work_dir`, runs
// `tokens` (with random ce stalls when stall_seed >= 0) and compares every output with the interpreter.
Ir2CosimResult CosimIr2(const hw::ir2::Graph& g, const std::vector<Ir2Token>& tokens, const std::string& work_dir,
                        long stall_seed = -1, bool dump = false);

// The same with the Verilog given (e.g. with faults injected, faults/rtl_inject.h) and the expected outputs given
// (one row per valid token, in output-node order) instead of the interpreter's.
Ir2CosimResult CosimIr2Expected(const hw::ir2::Graph& g, const std::string& verilog, const std::vector<Ir2Token>& tokens,
                                const std::vector<std::vector<int64_t>>& expected, const std::string& work_dir);

}  // namespace hw::cosim
