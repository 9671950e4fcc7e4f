// `--registers min` (issue 13): a dense CMVM layer's adder graph chosen by the pipeline flip-flop bits it ends up
// with, not by adders. The retime pass places registers optimally for a given graph and latency; what is left is
// the graph's shape, and which shape carries the fewest bits depends on the layer and on K. So the candidates are
// lowered and run through the pipeline, and the one with the fewest register bits wins (then fewer adders), among
// those whose latency is not above the as-chosen graph's:
//   - the graph as chosen (--arith/--depth/--effort),
//   - the minimum-depth CMVM of W,
//   - the transposed minimum-depth CMVM (W^T solved, graph transposed back: ArithChoice::transposed).
// Deterministic (the CMVM solves are); costs three solves and three pipeline runs per layer.
#pragma once

#include "model/model.h"
#include "passes/arith_choice.h"
#include "passes/ir2_passes.h"

namespace hw::passes {

// The plain choice `choice` resolves to for layer `index` of `model` under pipeline options `po` (the same
// choice with fewest_registers cleared when it is not set, the layer is not dense, or the arithmetic is CSD).
ArithChoice ChooseForRegisters(const model::Model& model, int index, const ArithChoice& choice, const ir2::PassOptions& po);

}  // namespace hw::passes
