// The `sink` pass: after scheduling, moves pure ops to later pipeline stages where that makes the design carry
// fewer bits through pipeline registers. Scheduling places every op as early as its operands allow (ASAP), so
// a value computed early but read late travels through a delay line of its full width. When the op's operands
// are narrower, or are carried that far anyway, computing it late is cheaper: in the language model a K/V
// select (8 bits, one per cached position and element) whose inputs are a 1-bit "this position" flag shared by
// 64 selects, a fresh K/V element shared by 64 selects and a state read that can follow it.
//
// Ops are visited from the last to the first, so an op's readers have their final stage when it is placed. For
// each op the pass tries every stage between its own and the latest its readers allow and keeps the one with
// the largest saving: the op's own result width times the stages moved, minus what its operands must be
// carried further. An operand result read only by this op, of an op that can move, will follow and costs nothing; an
// operand shared by m readers is charged 1/m of its extension (its sibling readers are expected to move
// alike). State and memory reads may move too; a write of the same symbol then moves with them (a token must
// never see its own write), within the stream count's loop bound. If the graph as a whole ends up carrying
// more register bits than before (the per-op estimate is a heuristic), the pass restores the schedule and
// reports no change. Levels stay consistent: a moved op starts its new stage.
//
// Registers placed by a min-cost-flow retiming are a later step (issue "registers by a clock target").
#pragma once

#include <cstdint>
#include <memory>

#include "ir2/ir.h"
#include "passes/ir2_passes.h"

namespace hw::passes::ir2 {

// Flip-flop bits that materialize-registers will create for a scheduled graph without reg nodes: each value is
// carried from its stage to its last reader's, in one shared delay line.
int64_t DelayLineBits(const hw::ir2::Graph& g);

// Under a clock target (options.clock_ns > 0) a moved op starts its new stage at time 0 and may join a reader's
// stage only if it ends before that reader starts; in a level schedule the same holds in levels.
std::unique_ptr<Pass> MakeSinkPass(const PassOptions& options);

}  // namespace hw::passes::ir2
