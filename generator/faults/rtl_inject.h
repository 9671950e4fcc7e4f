// The same hardware faults, injected into the Verilog that emit/ir2_verilog.cpp prints for a layer graph, so that
// a Verilator run of the faulty RTL can be compared with the faulty interpreter (the check that the fault model
// is true to the hardware). Op names are the emitter's: n<N> an op, r<N> a reg op.
//
//   adder stuck-at:   wire [W-1:0] nN = EXPR;             ->  wire [W-1:0] nN = ((EXPR) & W'hAND) | W'hOR;
//   dropped operand:  wire [W-1:0] nN = a + b - c;        ->  wire [W-1:0] nN = a - c;   (that term left out)
//   register stuck:   always @(posedge clk) if (ce) rN <= p;  ->  ... rN <= ((p) & W'hAND) | W'hOR;
// A stuck flip-flop is modelled at its D input: the stored value has the bit forced, which is what a stuck
// Q output shows from the first enabled clock on (every valid output comes later than that).
#pragma once

#include <string>
#include <vector>

#include "faults/faults.h"

namespace hw::faults {

// Edits `text`, the Verilog of layer `layer` (graph d[layer]) as emitted, with the faults of `faults` that name
// that layer (the others are ignored). Throws InternalError if an expected line is not found (the emitter
// changed its form).
void InjectIntoLayerRtl(std::string& text, const Graphs& d, int layer, const std::vector<HwFault>& faults);

}  // namespace hw::faults
