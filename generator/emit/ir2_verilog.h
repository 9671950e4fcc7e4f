// Verilog for an IR v2 graph whose registers are explicit (after materialize-registers): one module, printed
// node by node. Ports: clk, rst (synchronous, clears the valid pipe, the stream slot counter and every state),
// ce (low: everything holds), in_valid, the graph's inputs; out_valid and the graph's outputs, `latency`
// enabled clocks after their token entered. Token n (counting enabled clocks since reset) is in stream slot
// n mod S. States are register arrays indexed by stream; memories are plain arrays (yosys infers memories;
// writable memories start at zero and reset does not clear them); never-written memories with contents and
// lookup tables are case statements.
#pragma once

#include <string>
#include <vector>

#include "ir2/design.h"
#include "ir2/ir.h"

namespace hw::emit {

// Scalar ports `members` (in element order) printed as one packed port `name`: element i in bits
// [i*W, (i+1)*W) with W = element's width; outputs are sign- or zero-extended to W.
using PortBundle = hw::ir2::Bundle;

struct Ir2EmitOptions {
  // false: a datapath module for a stateless one-stream graph (a layer of a dense chain): ports clk, ce and the
  // graph's ports only; the valid bit is the enclosing top's business.
  bool control = true;
  std::vector<PortBundle> bundles;
  std::string header;  // first line(s) of the file, as a comment (empty: none)
};

std::string EmitIr2Verilog(const hw::ir2::Graph& g, const Ir2EmitOptions& options = {});

// Whether every row of the op table is found by its own name (the table is in enum order). That the emitter has
// a printer for every op is checked by the compiler instead: its switch over Op has no default (-Wswitch).
bool Ir2EmitterCoversAllOps();

}  // namespace hw::emit
