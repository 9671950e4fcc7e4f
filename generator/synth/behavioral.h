// The design a user would write by hand: a dense layer as plain behavioral Verilog, `y = W * x` with
// constant multiplies (no shift-add decomposition), followed by the same requantization as
// docs/semantics.md (round half up, arithmetic shift, clamp). Functionally identical to the generated
// shift-add layer module, so the two can be synthesized side by side (`hardwire synth --compare`) and
// proven equivalent (tests/cosim/equiv_test.cpp).
#pragma once

#include <string>

#include "model/model.h"

namespace hw::synth {

struct BehavioralOptions {
  // Register ranks on y. 0: purely combinational (clk and ce unused); 1: a registered output, the
  // usual hand-written style; L = the shift-add module's latency: a delay line that lines the outputs
  // up cycle for cycle with the pipelined module (used by the equivalence proof).
  int output_regs = 1;
};

// Same ports as the generated layer module: clk, ce, x [in*bits-1:0], y [out*out_bits-1:0].
// Every accumulator is sized from the exact value range (the most favourable choice for the
// behavioral design; a fixed 32-bit accumulator would only make it larger).
std::string EmitBehavioralDense(const model::DenseLayer& d, const model::IntType& input_type,
                                const std::string& module_name, const BehavioralOptions& options);

}  // namespace hw::synth
