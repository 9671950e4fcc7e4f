// Internal building blocks of the CMVM optimizer (cmvm.cpp): a graph builder that tracks node depth and
// value interval, the greedy two-term common-subexpression elimination (CSE) engine, the final per-row
// depth-balanced reduction, and graph transposition. Not part of the public interface; see cmvm.h.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "arith/adder_graph.h"
#include "arith/cmvm.h"

namespace hw::arith::cmvm_detail {

// A signed, shifted occurrence of a node inside one output row (one "digit" of the row after CSE).
struct RowTerm {
  int32_t node = 0;
  int32_t shift = 0;
  bool neg = false;
};

// Builds an AdderGraph while tracking, per node, its adder depth and the interval of values it can take
// (doubles: only used for the adder-width cost, so rounding of huge intervals is harmless).
class GraphBuilder {
 public:
  GraphBuilder(int num_inputs, const std::vector<InputRange>& ranges);

  // Adds node = a + b (terms as in AdderNode); returns its id.
  int AddAdder(const Term& a, const Term& b);
  int depth(int node) const { return depth_[node]; }
  double lo(int node) const { return lo_[node]; }
  double hi(int node) const { return hi_[node]; }
  int num_nodes() const { return static_cast<int>(depth_.size()); }
  // Bits needed for the interval of the node (the width cost of an adder producing it).
  int Width(int node) const;
  double total_width() const { return total_width_; }

  AdderGraph graph;

 private:
  std::vector<int> depth_;
  std::vector<double> lo_, hi_;
  double total_width_ = 0;
};

// Bits needed to hold every integer of [lo, hi] (unsigned if lo >= 0, else two's complement).
int IntervalBits(double lo, double hi);

// 64-bit finaliser (splitmix/murmur3 style); used for seeded tie-breaking and hashing.
inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

struct CseParams {
  // Per-row capacity for the depth constraint: the row's terms (depths d_i) must keep
  // sum_i 2^{d_i} <= row_capacity[r] so that the row can be finished within depth log2(capacity).
  // Empty = unconstrained.
  std::vector<uint64_t> row_capacity;
  uint64_t seed = 0;      // 0 = deterministic preference order, otherwise random tie-breaking
  int min_count = 2;
  // Tie-breaking among the patterns of the top score: up to `lookahead` of them are compared and the one whose
  // substitution destroys the fewest repeated pairs is taken (1 = take the first).
  int lookahead = 1;      // a pattern is extracted only if it saves at least min_count - 1 adders
  // Tie-break among patterns of equal score: false = narrow first (small relative shift); true = deeper operands
  // first (sum of the two operands' adder depths), i.e. extend the subexpressions already built before pairing
  // fresh digits. Worth 2-3 % of the adders on layer-sized matrices (128 x 196 int8: 26972 -> 26198).
  bool deep_first = false;
  // Storage of the pair statistics. The graph does not depend on these (tests compare the variants); they trade
  // memory for speed. Dense array for the pairs of the rows' initial nodes when it needs at most `dense_entries`
  // entries (4 bytes each, twice); first count by sorting: -1 = when the dense array is not used and the keys
  // are mostly distinct (see SparseKeys in cmvm_cse.cpp), 0 = never, 1 = always (unless dense); the sort runs in
  // passes of at most `sort_pass_keys` keys (8 bytes each).
  size_t dense_entries = size_t{1} << 24;
  int sort_first_count = -1;
  double sort_pass_keys = 8e6;
};

// Greedy CSE: repeatedly extracts the most frequent two-term pattern (x_a << i) +- (x_b << j) (normalised by
// relative shift and sign) over all rows, materialises it as a new adder node in `b`, and substitutes it.
// `rows` is rewritten in place to the remaining terms of every row.
void RunCse(GraphBuilder& b, std::vector<std::vector<RowTerm>>& rows, const CseParams& params);

// Adds one adder computing t + u; returns the row term equal to t + u.
RowTerm Combine(GraphBuilder& b, RowTerm t, RowTerm u);

// Sums each row's remaining terms with a depth-balanced (Huffman-by-depth, then narrowest-first) adder tree
// and returns the output term of every row (Term{-1} for an empty row).
std::vector<Term> FinishRows(GraphBuilder& b, const std::vector<std::vector<RowTerm>>& rows);

// Transposition principle: given a graph computing y = W x (W has `rows` rows), returns a graph computing
// z = W^T u. Adder count changes by rows - num_inputs (equal for square matrices) when every node is used.
AdderGraph TransposeGraph(const AdderGraph& g, const std::vector<InputRange>& ranges_of_new_inputs);

}  // namespace hw::arith::cmvm_detail
