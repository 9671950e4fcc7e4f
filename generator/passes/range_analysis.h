// Exact value ranges and minimal widths for every node.
//
// Adders are linear, so each adder's value is tracked as a linear form  c + sum_k a_k * v_k  over
// "atoms" v_k (module inputs and non-linear nodes such as requant / maxsel results) whose ranges are
// independent. The range of a linear form is then exact: sum of a_k * [lo_k, hi_k] picked by sign.
// This is tighter than plain interval arithmetic whenever operands share inputs:
//   n = (x << 3) - x  with x in [0, 255]  ->  7x in [0, 1785]   (interval arithmetic: [-255, 2040]).
// Widths follow from the ranges (WidthOf), so an adder can never overflow and no bit is wasted.
#pragma once

#include "passes/pass.h"

namespace hw::passes {

class RangeAnalysisPass : public ModulePass {
 public:
  std::string name() const override { return "range-analysis"; }
  bool Run(ir::Module& m) override;
  bool leaves_ranges_valid() const override { return true; }
};

// Exact result range of a requant node for an operand range [lo, hi] (monotone function).
void RequantRange(const ir::RequantAttrs& rq, int64_t lo, int64_t hi, int64_t* out_lo, int64_t* out_hi);

}  // namespace hw::passes
