// Size report of a language model printed into RTL (IR v2 after lowering): per model op and per block, the
// adders and their full-adder bits, multipliers and their operand bits, tables, pipeline registers and
// per-stream state, plus latency, stream count and throughput at a stated clock.
#pragma once

#include <string>
#include <vector>

#include "ir2/ir.h"
#include "ir2/timing.h"
#include "model/lm_model.h"

namespace hw::report {

struct LmGroupStats {
  std::string name;             // model op, block ("b0"), or "control" (the stream scheduler)
  long adders = 0, adder_bits = 0;        // adder_bits: sum of adder result widths (full-adder cells)
  long multipliers = 0, multiplier_bits = 0;  // multiplier_bits: sum over multipliers of (width a * width b)
  long tables = 0, table_bits = 0;        // entries x output width
  long registers = 0, register_bits = 0;  // pipeline flip-flops
  long state_bits_per_stream = 0;         // per-stream state (K/V rows, position, ...) of one stream
};

struct LmReport {
  std::string model;
  int streams = 0, latency = 0, context = 0, adders_per_stage = 0;
  double clock_mhz = 0;             // assumed (--clock-mhz), for the tokens/s figures
  double slowest_stage_ns = 0;      // estimated under `timing_model` (logic + register overhead, no routing)
  std::string timing_model;
  std::vector<LmGroupStats> ops;     // per model op, in model order, then "control"
  std::vector<LmGroupStats> blocks;  // ops summed by block (b0_*, b1_*, ...; others by name)
  LmGroupStats total;
  long kv_bits_per_stream = 0;     // the K/V cache: one row per position, per attention op, of one stream
  long other_state_bits_per_stream = 0;  // position, live flag, last token, random state of one stream
};

// `timing`: the model the graph was scheduled with (its slowest stage is estimated under it; a level model under the
// fpga model).
LmReport BuildLmReport(const hw::ir2::Graph& g, const model::LmModel& m, int adders_per_stage, double clock_mhz,
                       const hw::ir2::TimingModel& timing = {});
std::string LmReportMarkdown(const LmReport& r);
std::string LmReportJson(const LmReport& r);

}  // namespace hw::report
