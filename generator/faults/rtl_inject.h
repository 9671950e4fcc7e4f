// The same hardware faults, injected into the emitted Verilog, so that a Verilator run of the faulty RTL can be
// compared with the faulty interpreter (the check that the fault model is true to the hardware).
//
//   adder stuck-at:   wire [W-1:0] n = EXPR;           ->  wire [W-1:0] n = ((EXPR) & W'hAND) | W'hOR;
//   dropped operand:  wire [W-1:0] n = a + b;          ->  wire [W-1:0] n = b;   (the other operand alone)
//   register stuck:   always @(posedge clk) if (ce) r <= p;  ->  ... r <= (p & W'hAND) | W'hOR;
// A stuck flip-flop is modelled at its D input: the stored value has the bit forced, which is what a stuck
// Q output shows from the first enabled clock on (every valid output comes later than that).
#pragma once

#include <vector>

#include "emit/verilog.h"
#include "faults/faults.h"
#include "ir/datapath.h"

namespace hw::faults {

// Edits the layer modules in `files` (as returned by emit::EmitDesign for `d`). Throws InternalError if an
// expected line is not found (the emitter changed its form).
void InjectIntoRtl(std::vector<emit::EmittedFile>& files, const ir::Design& d, const std::vector<HwFault>& faults);

}  // namespace hw::faults
