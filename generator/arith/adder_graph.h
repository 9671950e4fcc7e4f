// Shift-and-add graphs: the multiplier-free form of a constant matrix-vector product.
//
// An AdderGraph computes y = W * x for a fixed integer matrix W (rows = outputs, cols = inputs)
// using only additions, subtractions and constant shifts. Node ids [0, num_inputs) are the inputs
// x[0..n); node id num_inputs + k is adders[k]. Every adder reads nodes with smaller ids, so the
// vector is already in topological order.
//
//   Example: W = [[3, 5]]  (y = 3*x0 + 5*x1)
//     n2 = x0 + (x0 << 1)          // 3*x0
//     n3 = n2 + (x1 << 2)          // 3*x0 + 4*x1
//     n4 = n3 + x1                 // 3*x0 + 5*x1
//     outputs[0] = {node 4, shift 0, neg false}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hw::arith {

// A signed, shifted reference to a node: value = (neg ? -1 : 1) * (node_value << shift).
struct Term {
  int32_t node = -1;  // -1 means "the constant zero" (only meaningful for outputs)
  int32_t shift = 0;  // >= 0
  bool neg = false;
  bool is_zero() const { return node < 0; }
  bool operator==(const Term&) const = default;
};

// One two-input adder: value = a + b, where either term may be negated and shifted.
// Both terms must reference existing nodes (never zero).
struct AdderNode {
  Term a;
  Term b;
  bool operator==(const AdderNode&) const = default;
};

// Dense integer matrix in row-major order: w[r * cols + c].
struct IntMatrix {
  int rows = 0;
  int cols = 0;
  std::vector<int64_t> w;
  int64_t at(int r, int c) const { return w[static_cast<size_t>(r) * cols + c]; }
  int64_t& at(int r, int c) { return w[static_cast<size_t>(r) * cols + c]; }
};

struct AdderGraph {
  int num_inputs = 0;
  std::vector<AdderNode> adders;
  std::vector<Term> outputs;  // one per matrix row; Term{-1} means the output is constant 0

  int num_nodes() const { return num_inputs + static_cast<int>(adders.size()); }
  const AdderNode& adder(int node) const { return adders[node - num_inputs]; }
};

// Adder depth of every node (inputs have depth 0, an adder is 1 + max depth of its operands).
std::vector<int> NodeDepths(const AdderGraph& g);
// Maximum depth over all outputs (0 if every output is an input or zero).
int OutputDepth(const AdderGraph& g);

// Evaluates the graph on one input vector (exact int64; callers keep values within range).
std::vector<int64_t> Evaluate(const AdderGraph& g, const std::vector<int64_t>& x);

// Recovers the matrix the graph computes, by tracking each node's coefficient vector symbolically.
// Graph equals W iff ReconstructMatrix(g) == W. Throws std::runtime_error on a malformed graph.
IntMatrix ReconstructMatrix(const AdderGraph& g, int rows);

// Checks structural invariants (operand ids in range and topological, shifts >= 0, output count).
// Returns an empty string if valid, else a description of the first violation.
std::string Verify(const AdderGraph& g, int expected_outputs);

}  // namespace hw::arith
