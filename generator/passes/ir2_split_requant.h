// The `split-requant` pass: under a clock target, a requant too slow for one stage (its rounding adder, then the
// clamp's comparison and select: a wide one takes about 4.7 ns in the fpga model) is split in two ops, an add
// of its operand and rounding constant and a requant of that sum with no constant, so that the schedule can put
// a register between them. Only requants that do not fit the stage's delay budget are split; with
// --adders-per-stage (levels) the pass does not apply. The values are the same: clamp((a + c) >> s) is
// clamp(((a + c) + 0) >> s).
#pragma once

#include <memory>

#include "passes/ir2_passes.h"

namespace hw::passes::ir2 {

std::unique_ptr<Pass> MakeSplitRequantPass(const PassOptions& options);

}  // namespace hw::passes::ir2
