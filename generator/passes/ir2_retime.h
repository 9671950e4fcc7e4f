// The `retime` pass: for a graph without state or memories (a layer of a dense chain), places every op in the
// pipeline stage that makes the design carry the fewest flip-flop bits, among all placements that keep at most
// K levels of logic (or, under a clock target, the stage's delay budget) between two registers and the latency the schedule found. Exact, not a heuristic.
//
// The problem is Leiserson and Saxe's minimum-area retiming ("Retiming synchronous circuitry", Algorithmica 6,
// 1991) for a DAG with fixed ends: an integer stage s(v) per op;
//   s(v) >= s(u)                      for every operand u of v (data flows forward),
//   s(v) >= s(u) + 1                  when the longest path from u to v has more than K levels (u and v
//                                     included): some register must cut it,
//   s(input) and s(output) fixed      (outputs all leave in the last stage, through a register),
//   1 <= s(v) <= s(output)            (no logic in stage 0, the ports' stage; ops no output reads have no
//                                     upper bound),
// minimising sum_u width(u) * (max over readers v of s(v) - s(u)): one shared delay line per value, as
// materialize-registers builds it (the max is linearised with one "mirror" variable per value, Leiserson-Saxe
// section 8). Every constraint is a difference of two variables, so the linear program is the dual of a
// minimum-cost flow and its optimum is integral: it is solved with LEMON's network simplex and the stages are
// read from the node potentials.
//
// Graphs with state, memories or an op costlier than K levels are left unchanged (the language model keeps
// `sink`), and so is a schedule for which no placement meets these constraints at its latency (the level
// schedule may put a multi-level op and its reader in one stage; see ir2_retime.cpp). Levels are recomputed so that each op's level is its depth inside its stage.
#pragma once

#include <memory>

#include "passes/ir2_passes.h"

namespace hw::passes::ir2 {

// K levels, or the delay budget of a clock target (options.clock_ns, ir2/timing.h) between two registers.
std::unique_ptr<Pass> MakeRetimePass(const PassOptions& options);

}  // namespace hw::passes::ir2
