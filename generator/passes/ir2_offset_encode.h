// The `offset-encode` pass (issue 13): sums stored in offset binary, so that subtractions do not cost sign bits.
//
// A sum like a - b with a, b in [0, 15] needs a sign bit in two's complement ([-15, 15]: 5 bits), and so does every
// partial sum of a layer's adder graph that subtracts. Offset binary stores v + O instead, O a constant known when
// the RTL is generated, chosen so that the stored value is never negative. The subtraction becomes an addition of
// the inverted bits, ~b = (2^w - 1) - b for a w-bit b >= 0, which is what an adder does inside `a - b` anyway
// (a - b = a + ~b + 1): the stored sum is a + ~b = (a - b) + (2^w - 1), in [0, 30]. Offsets add up along the
// graph like the values do, and the pass may also store a sum negated (-v + O) when that is narrower; where a
// value must be exact again (a requant or an output reads it), the accumulated offset is taken out by the
// constant the layer adds there anyway (the multiply tree's rounding constant, or the requant's own), so no adder
// is added. A sum is re-encoded only if that makes it narrower (the width of p * v + O over v's exact range, p =
// +-1); otherwise it stays as it was. What the registers and adders hold changes; what the graph computes does not
// (the interpreter evaluates the inverted bits as `xor x, 2^w - 1`, whose meaning is exact).
//
// Sums whose reader must see the exact value and that have no constant to take the offset out (nor a child with
// one) are left exact, and so are the sums they read. Applies to stateless graphs (the dense chain).
#pragma once

#include <memory>

#include "passes/ir2_passes.h"

namespace hw::passes::ir2 {

std::unique_ptr<Pass> MakeOffsetEncodePass(const PassOptions& options);

}  // namespace hw::passes::ir2
