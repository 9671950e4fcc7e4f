// The adder-graph evaluator proves that a graph computes W*x exactly: random and extreme inputs, plus the
// symbolic reconstruction of W, for the per-weight CSD trees and the CMVM optimizer.
#include <gtest/gtest.h>

#include <random>

#include "arith/adder_graph.h"
#include "arith/cmvm.h"

namespace hw::arith {
namespace {

IntMatrix RandomMatrix(int rows, int cols, int bits, uint64_t seed) {
  std::mt19937_64 rng(seed);
  IntMatrix w{rows, cols, std::vector<int64_t>(static_cast<size_t>(rows) * cols)};
  const int64_t lo = -(int64_t{1} << (bits - 1)), hi = (int64_t{1} << (bits - 1)) - 1;
  for (auto& v : w.w) v = (rng() % 5 == 0) ? 0 : std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  return w;
}

std::vector<int64_t> MatVec(const IntMatrix& w, const std::vector<int64_t>& x) {
  std::vector<int64_t> y(w.rows, 0);
  for (int r = 0; r < w.rows; ++r)
    for (int c = 0; c < w.cols; ++c) y[r] += w.at(r, c) * x[c];
  return y;
}

void CheckGraph(const AdderGraph& g, const IntMatrix& w, uint64_t seed) {
  ASSERT_EQ(Verify(g, w.rows), "");
  EXPECT_EQ(ReconstructMatrix(g, w.rows).w, w.w);
  std::mt19937_64 rng(seed);
  const int64_t lo = -32768, hi = 32767;
  for (int t = 0; t < 200; ++t) {
    std::vector<int64_t> x(w.cols);
    for (int c = 0; c < w.cols; ++c) {
      if (t == 0) x[c] = lo;
      else if (t == 1) x[c] = hi;
      else if (t == 2) x[c] = c % 2 ? lo : hi;
      else x[c] = std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    }
    ASSERT_EQ(Evaluate(g, x), MatVec(w, x)) << "trial " << t;
  }
}

TEST(AdderGraph, EvaluateHandExample) {
  // y = 3*x0 + 5*x1, written out as in the header comment
  AdderGraph g;
  g.num_inputs = 2;
  g.adders = {{{0, 0, false}, {0, 1, false}}, {{2, 0, false}, {1, 2, false}}, {{3, 0, false}, {1, 0, false}}};
  g.outputs = {{4, 0, false}};
  EXPECT_EQ(Evaluate(g, {2, 10}), std::vector<int64_t>{56});
  EXPECT_EQ(ReconstructMatrix(g, 1).w, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(OutputDepth(g), 3);
}

TEST(AdderGraph, VerifyRejectsForwardReference) {
  AdderGraph g;
  g.num_inputs = 1;
  g.adders = {{{0, 0, false}, {1, 0, false}}};  // reads itself
  g.outputs = {{1, 0, false}};
  EXPECT_NE(Verify(g, 1), "");
  EXPECT_THROW(ReconstructMatrix(g, 1), std::runtime_error);
}

TEST(AdderGraph, CsdTreesComputeTheMatrix) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const int rows = 1 + seed % 9, cols = 1 + (seed * 7) % 13, bits = 1 + seed % 12;
    const IntMatrix w = RandomMatrix(rows, cols, std::max(2, bits), seed);
    const AdderGraph g = BuildCsdTrees(w);
    CheckGraph(g, w, seed);
    EXPECT_EQ(OutputDepth(g), MinimumDepth(w)) << "seed " << seed;
  }
}

TEST(AdderGraph, CmvmGraphsComputeTheMatrix) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const int rows = 1 + seed % 11, cols = 1 + (seed * 5) % 17;
    const IntMatrix w = RandomMatrix(rows, cols, 2 + seed % 10, seed);
    CmvmOptions o;
    CheckGraph(OptimizeCmvm(w, o), w, seed);
    o.depth_mode = DepthMode::kMinimum;
    const AdderGraph g = OptimizeCmvm(w, o);
    CheckGraph(g, w, seed);
    EXPECT_LE(OutputDepth(g), MinimumDepth(w));
  }
}

}  // namespace
}  // namespace hw::arith
