// Size figures of a scheduled design, per layer and in total (what `generate` prints and reports hold).
#pragma once

#include <string>
#include <vector>

#include "ir2/ir.h"
#include "ir2/timing.h"
#include "model/model.h"

namespace hw::report {

struct LayerStats {
  std::string name;
  std::string kind;
  long weights = 0;          // dense: in * out
  long nonzero_weights = 0;
  long nonzero_digits = 0;   // CSD digits of all weights
  long adders = 0;           // two-input adders/subtractors, incl. the multiply by M
  long adder_bits = 0;       // sum of adder widths (full-adder bits)
  long requants = 0;         // round/shift/clamp units
  long compare_selects = 0;  // argmax steps
  long registers = 0;
  long register_bits = 0;
  int levels = 0;
  int latency = 0;
  // The longest chain of logic in each pipeline stage (ns; index = stage) and the slowest stage's logic plus
  // clock-to-Q and setup: under the clock target's delay model, or for a level schedule (K) under the fpga model,
  // as an estimate of the clock that K allows. Logic only, no routing.
  std::vector<double> stage_logic_ns;
  double critical_ns = 0;
};

struct DesignStats {
  std::string timing_model;  // what the ns figures were measured with (TimingModel::Describe)
  std::vector<LayerStats> layers;
  LayerStats total;  // sums; latency = whole design incl. the input register
};

// The figures of a dense chain, one scheduled graph (with registers) per layer. Adders count two-input additions
// (an n-operand add is n-1 of them; a one-operand add is a negation and counts one); threshold comparisons count
// as requant units.
DesignStats ComputeStats(const model::Model& model, const std::vector<hw::ir2::Graph>& layers,
                         const hw::ir2::TimingModel& timing = {});

// A fixed-width table for the terminal.
std::string FormatStatsTable(const DesignStats& s);

}  // namespace hw::report
