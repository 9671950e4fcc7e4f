// The `trailing-zeros` pass (issue 13): a requant whose result always ends in t zero bits is made to compute the
// result without them (t more bits of shift), and every reader takes it shifted left by t (`%y<<t`): adds,
// requants and outputs take shifted operands. The register after the requant then holds t fewer bits, and the
// module's output port still carries the full value (`assign y = {r, t'd0}`).
//
// Where it pays: a layer whose multipliers M have trailing zeros and no shift (Fashion's logits, S = 0, M = m * 2^t:
// y = A * M + b * M ends in t zeros; 58 flip-flops of the logits' output register at every K). Known trailing zeros
// come from the constants and the operand shifts: a constant's own, an add's least over its operands (operand
// shift included), a requant's when its clamp never triggers (its sum's, less its shift); none otherwise.
// The requant must have a clamp that never triggers (so that it is the exact quotient), no negated operand, and
// only readers that take shifted operands. Stateless, unscheduled graphs; the ranges are computed again.
#pragma once

#include <memory>

#include "passes/ir2_passes.h"

namespace hw::passes::ir2 {

std::unique_ptr<Pass> MakeTrailingZerosPass(const PassOptions& options);

}  // namespace hw::passes::ir2
