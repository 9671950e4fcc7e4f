// `--registers min` (issue 13): a dense CMVM layer's adder graph chosen by the pipeline flip-flop bits it ends up
// with, not by adders. The retime pass places registers optimally for a given graph and latency; what is left is
// the graph's shape, and which shape carries the fewest bits depends on the layer and on K. So the candidates are
// lowered and run through the pipeline, and the one with the fewest register bits wins (then fewer adders), among
// those whose latency is not above the as-chosen graph's:
//   - the graph as chosen (--arith/--depth/--effort);
//   - the CMVM of W at minimum depth, at min + 1, unconstrained, and at minimum depth with effort 0 (small column
//     blocks: other shapes, fast), each by the full search and by its plain CSE restarts (ArithChoice::plain_only);
//   - the transposed CMVM (W^T solved, graph transposed back: ArithChoice::transposed) at the same depths, by
//     plain CSE restarts; by the full search too when W has at most 4,096 weights. On Fashion's 64 x 196 fc1 the
//     full W^T search at minimum depth takes 3.6 s and picks one of its plain restarts anyway (13,419 bits at
//     K = 2, found in 0.1 s by the restarts alone); unconstrained, its pick has one stage more (15,601 bits) where
//     the plain restarts give 13,265 at the same latency.
// Deterministic (the CMVM solves are); up to 16 solves and pipeline runs per layer (Fashion: 1.2 s in all).
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
