// `--registers min` (issue 13): a dense CMVM layer's adder graph chosen by the pipeline flip-flop bits it ends up
// with, not by adders. The retime pass places registers optimally for a given graph and latency; what is left is
// the graph's shape, and which shape carries the fewest bits depends on the layer and on K. So the candidates are
// lowered and run through the pipeline, and the one with the fewest register bits wins (then fewer adders), among
// those whose latency is not above the as-chosen graph's:
//   - the graph as chosen (--arith/--depth/--effort),
//   - the minimum-depth CMVM of W, and at min + 1,
//   - the transposed minimum-depth CMVM (W^T solved, graph transposed back: ArithChoice::transposed), at min + 1,
//     and unconstrained,
//   - the two minimum-depth graphs at effort 0 (small column blocks: other shapes, fast).
// Deterministic (the CMVM solves are); costs eight solves and pipeline runs per layer.
#pragma once

#include "model/model.h"
#include "passes/arith_choice.h"
#include "passes/ir2_passes.h"

namespace hw::passes {

// The plain choice `choice` resolves to for layer `index` of `model` under pipeline options `po` (the same
// choice with fewest_registers cleared when it is not set, the layer is not dense, or the arithmetic is CSD).
// With `lowered`, also the layer lowered under the returned choice (before the pipeline), so that it need not be
// lowered again.
ArithChoice ChooseForRegisters(const model::Model& model, int index, const ArithChoice& choice, const ir2::PassOptions& po,
                               hw::ir2::Graph* lowered = nullptr);

}  // namespace hw::passes
