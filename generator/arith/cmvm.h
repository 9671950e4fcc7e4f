// Constant matrix-vector multiplication (CMVM) optimizer: builds a shared shift-add graph for y = W x that
// minimises the number of adders (first cost) and the sum of adder widths (second cost) under an optional
// adder-depth constraint.
#pragma once

#include <cstdint>
#include <vector>

#include "arith/adder_graph.h"

namespace hw::arith {

struct InputRange {
  int64_t lo = 0;
  int64_t hi = 0;
};

enum class DepthMode {
  kUnconstrained,  // minimise adders only
  kMinimum,        // output depth must equal the minimum possible depth of the matrix
  kMinimumPlusK,   // output depth <= minimum + extra_depth
};

struct CmvmOptions {
  DepthMode depth_mode = DepthMode::kUnconstrained;
  int extra_depth = 0;                 // used with kMinimumPlusK
  std::vector<InputRange> input_ranges;  // optional, one per column; used for the adder-width cost
  uint64_t seed = 1;                   // for any randomised tie-breaking; same seed -> same graph
  // Search effort: 1 (default) is the fast path; higher values spend more time (more restarts, wider pattern
  // statistics) for fewer adders. The result is deterministic for a given (matrix, options) including effort.
  int effort = 1;
  // Column-block size override (pair work per block, see docs/performance.md); 0 = from effort. For tests and
  // experiments: lets a small matrix take the block path.
  double block_pairs = 0;
  // Only plain CSE restarts (the seeded tie-breaks of the greedy CSE on W): no shared offsets, no row
  // differences, no transposed solve. A faster, narrower search for callers that judge graphs by another cost:
  // `--registers min` (passes/register_choice.h) solves W^T this way, whose other candidates never carried fewer
  // pipeline flip-flop bits on the benched models (docs/performance.md, "Pipeline flip-flops").
  bool plain_only = false;
};

// Per-weight canonical-signed-digit trees: every output is a balanced adder tree of its own
// non-zero digits, nothing shared. The baseline every optimizer is measured against.
AdderGraph BuildCsdTrees(const IntMatrix& w);

// Minimum possible adder depth for w: max over rows of ceil(log2(number of CSD digits in the row)).
int MinimumDepth(const IntMatrix& w);

// Sum over adders of the bits of the value interval each adder produces (inputs in `ranges`, one per column;
// empty = signed 8-bit): the optimizer's second cost, "adder bits" in the benches.
double AdderWidthSum(const AdderGraph& g, const std::vector<InputRange>& ranges);

// The optimizer. The result always satisfies ReconstructMatrix(result, w.rows) == w.
AdderGraph OptimizeCmvm(const IntMatrix& w, const CmvmOptions& options);

}  // namespace hw::arith
