// The `clamp-early` pass (issue 13): a layer's saturation applied to the accumulator too, before the multiply.
//
// A neuron's output is y = clamp(((A * M + c) >> S), lo, hi): every accumulator A below some a0 gives lo, every
// one above some a1 gives hi (y is monotone in A), so only A in [a0, a1] needs all its bits. The pass finds that
// interval for each requant whose operand is a multiply tree of one value A (adds read only there, with constants,
// A and its bit-inverted copy as leaves), and, when A is wider than the interval needs, inserts a saturation
// A_s = clamp(A, lo', hi') with bounds a saturation tests by bits (lo' = 0 or -2^k <= a0, hi' = 2^m - 1 >= a1: no
// comparator, 0 adder levels) and lets the multiply tree read A_s instead: y is the same for every A, and the
// register in front of the multiply holds the narrower A_s. It works on whatever encoding offset-encode chose
// for A (the interval is found on the stored value). Stateless graphs only; the ranges are computed again.
//
// Offset binary puts many intervals away from 0, where such bounds cannot narrow A. Then a window may: the
// smallest [L, L + 2^k - 1] around [a0, a1] with L a multiple of 2^k, and A_s = clamp(A - L, 0, 2^k - 1), which
// needs no adder either (A - L has A's low k bits; below and above compare A's bits from k up with L / 2^k:
// ir2::RequantClamp::window). The tree then reads A_s + L: one of its constants grows by what L contributed
// (a new const node; used when a tree has a constant and the change divides exactly). On Fashion at K = 2 with
// `--registers min`: fc1's accumulators 736 -> 685 bits.
#pragma once

#include <memory>

#include "passes/ir2_passes.h"

namespace hw::passes::ir2 {

std::unique_ptr<Pass> MakeClampEarlyPass(const PassOptions& options);

}  // namespace hw::passes::ir2
