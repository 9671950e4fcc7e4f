// Tests for the CMVM optimizer (generator/arith/cmvm.cpp) and the CSD-tree baseline.
#include "arith/cmvm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "arith/adder_graph.h"
#include "arith/cmvm_cse.h"
#include "arith/csd.h"

namespace hw::arith {
namespace {

IntMatrix Make(int rows, int cols, std::vector<int64_t> v) { return IntMatrix{rows, cols, std::move(v)}; }

IntMatrix RandomMatrix(int rows, int cols, int64_t lo, int64_t hi, uint64_t seed, double zero_prob = 0.0) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::bernoulli_distribution zero(zero_prob);
  IntMatrix m{rows, cols, std::vector<int64_t>(static_cast<size_t>(rows) * cols)};
  for (auto& x : m.w) x = zero(rng) ? 0 : dist(rng);
  return m;
}

IntMatrix GaussianInt8(int rows, int cols, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(0.0, sigma);
  IntMatrix m{rows, cols, std::vector<int64_t>(static_cast<size_t>(rows) * cols)};
  for (auto& x : m.w) x = std::clamp<int64_t>(std::llround(dist(rng)), -128, 127);
  return m;
}

std::string Describe(const IntMatrix& w) {
  std::string s = std::to_string(w.rows) + "x" + std::to_string(w.cols) + " [";
  for (size_t i = 0; i < std::min<size_t>(w.w.size(), 24); ++i) s += std::to_string(w.w[i]) + " ";
  return s + (w.w.size() > 24 ? "...]" : "]");
}

// Every invariant a graph for w must satisfy; depth_bound < 0 means no bound.
void ExpectImplements(const AdderGraph& g, const IntMatrix& w, int depth_bound) {
  ASSERT_EQ(Verify(g, w.rows), "") << Describe(w);
  EXPECT_EQ(g.num_inputs, w.cols);
  const IntMatrix back = ReconstructMatrix(g, w.rows);
  EXPECT_EQ(back.w, w.w) << Describe(w);
  if (depth_bound >= 0) EXPECT_LE(OutputDepth(g), depth_bound) << Describe(w);
  // Both operands of an adder are real nodes and outputs are either zero or a node.
  for (const AdderNode& a : g.adders) {
    EXPECT_GE(a.a.node, 0);
    EXPECT_GE(a.b.node, 0);
  }
  // Evaluate agrees with the matrix on a random vector.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dist(-100, 100);
  std::vector<int64_t> x(w.cols);
  for (auto& v : x) v = dist(rng);
  const std::vector<int64_t> y = Evaluate(g, x);
  for (int r = 0; r < w.rows; ++r) {
    int64_t s = 0;
    for (int c = 0; c < w.cols; ++c) s += w.at(r, c) * x[c];
    EXPECT_EQ(y[r], s) << "row " << r << " of " << Describe(w);
  }
}

size_t CsdDigitCount(const IntMatrix& w) {
  size_t k = 0;
  for (int64_t v : w.w) k += CsdDigits(v).size();
  return k;
}

// Checks all three modes plus the baseline on one matrix.
void CheckAllModes(const IntMatrix& w, uint64_t seed = 1, int effort = 1) {
  SCOPED_TRACE(Describe(w));
  const int dmin = MinimumDepth(w);
  const AdderGraph base = BuildCsdTrees(w);
  ExpectImplements(base, w, dmin);
  EXPECT_EQ(OutputDepth(base), dmin);
  {
    CmvmOptions o;
    o.effort = effort;
    o.seed = seed;
    const AdderGraph g = OptimizeCmvm(w, o);
    ExpectImplements(g, w, -1);
    EXPECT_LE(g.adders.size(), base.adders.size());
  }
  {
    CmvmOptions o;
    o.effort = effort;
    o.depth_mode = DepthMode::kMinimum;
    o.seed = seed;
    const AdderGraph g = OptimizeCmvm(w, o);
    ExpectImplements(g, w, dmin);
    EXPECT_LE(g.adders.size(), base.adders.size());
  }
  for (int k : {1, 2}) {
    CmvmOptions o;
    o.effort = effort;
    o.depth_mode = DepthMode::kMinimumPlusK;
    o.extra_depth = k;
    o.seed = seed;
    const AdderGraph g = OptimizeCmvm(w, o);
    ExpectImplements(g, w, dmin + k);
    EXPECT_LE(g.adders.size(), base.adders.size());
  }
}

TEST(CmvmCsdTrees, AdderCountIsDigitsMinusNonZeroRows) {
  const IntMatrix w = Make(3, 3, {3, 5, 0, 0, 0, 0, -7, 1, 128});
  const AdderGraph g = BuildCsdTrees(w);
  ExpectImplements(g, w, MinimumDepth(w));
  // row 0: 3 = 4-1, 5 = 4+1 -> 4 digits, 3 adders; row 1: zero; row 2: -8+1, 1, 128 -> 4 digits, 3 adders
  EXPECT_EQ(g.adders.size(), 6u);
  EXPECT_TRUE(g.outputs[1].is_zero());
}

TEST(CmvmCsdTrees, DepthEqualsMinimumDepthOnRandomMatrices) {
  for (uint64_t s = 0; s < 40; ++s) {
    const IntMatrix w = RandomMatrix(1 + s % 7, 1 + (s * 3) % 11, -300, 300, s, 0.2);
    const AdderGraph g = BuildCsdTrees(w);
    ExpectImplements(g, w, -1);
    EXPECT_EQ(OutputDepth(g), MinimumDepth(w)) << Describe(w);
    size_t nonzero_rows = 0;
    for (int r = 0; r < w.rows; ++r) {
      bool nz = false;
      for (int c = 0; c < w.cols; ++c) nz |= w.at(r, c) != 0;
      nonzero_rows += nz;
    }
    EXPECT_EQ(g.adders.size(), CsdDigitCount(w) - nonzero_rows);
  }
}

TEST(CmvmMinimumDepth, MatchesDefinition) {
  EXPECT_EQ(MinimumDepth(Make(1, 1, {0})), 0);
  EXPECT_EQ(MinimumDepth(Make(1, 1, {64})), 0);
  EXPECT_EQ(MinimumDepth(Make(1, 1, {3})), 1);         // 4 - 1
  EXPECT_EQ(MinimumDepth(Make(1, 2, {3, 5})), 2);      // 4 digits
  EXPECT_EQ(MinimumDepth(Make(2, 2, {1, 0, 21, 1})), 2);  // row 1: 16+4+1 and 1 -> 4 digits
  EXPECT_EQ(MinimumDepth(Make(1, 1, {0b1010101})), 2);  // 4 digits
  EXPECT_EQ(MinimumDepth(Make(1, 1, {0b101010101})), 3);  // 5 digits
}

TEST(CmvmOptimize, SmallShapes) {
  CheckAllModes(Make(1, 1, {0}));
  CheckAllModes(Make(1, 1, {1}));
  CheckAllModes(Make(1, 1, {-1}));
  CheckAllModes(Make(1, 1, {7}));
  CheckAllModes(Make(1, 1, {-32768}));
  CheckAllModes(Make(1, 1, {0b1011011101}));
  CheckAllModes(Make(0, 0, {}));
  CheckAllModes(Make(2, 0, {}));
  CheckAllModes(Make(0, 3, {}));
  CheckAllModes(Make(1, 5, {3, -3, 5, 0, 7}));
  CheckAllModes(Make(5, 1, {3, -3, 5, 0, 7}));
}

TEST(CmvmOptimize, ZeroRowsAndColumns) {
  CheckAllModes(Make(3, 3, {0, 0, 0, 0, 0, 0, 0, 0, 0}));
  CheckAllModes(Make(3, 4, {0, 5, 0, 7, 0, 0, 0, 0, 0, -3, 0, 11}));
  for (uint64_t s = 0; s < 10; ++s) {
    IntMatrix w = RandomMatrix(6, 7, -128, 127, 100 + s, 0.3);
    for (int c = 0; c < w.cols; ++c) w.at(static_cast<int>(s % 6), c) = 0;
    for (int r = 0; r < w.rows; ++r) w.at(r, static_cast<int>(s % 7)) = 0;
    CheckAllModes(w, s);
  }
}

TEST(CmvmOptimize, DuplicateColumnsAndDuplicateOrNegatedRows) {
  for (uint64_t s = 0; s < 10; ++s) {
    IntMatrix w = RandomMatrix(8, 8, -128, 127, 200 + s);
    for (int r = 0; r < w.rows; ++r) w.at(r, 5) = w.at(r, 1);  // duplicate column
    for (int c = 0; c < w.cols; ++c) {
      w.at(3, c) = w.at(0, c);   // duplicate row
      w.at(6, c) = -w.at(2, c);  // negated row
      w.at(7, c) = 4 * w.at(1, c);  // shifted row
    }
    CheckAllModes(w, s);
    // A matrix of identical rows should cost no more than one row.
    IntMatrix same = RandomMatrix(1, 10, -128, 127, 300 + s);
    IntMatrix rep{5, 10, {}};
    for (int r = 0; r < 5; ++r) rep.w.insert(rep.w.end(), same.w.begin(), same.w.end());
    CmvmOptions o;
    EXPECT_LE(OptimizeCmvm(rep, o).adders.size(), BuildCsdTrees(same).adders.size());
  }
}

TEST(CmvmOptimize, WeightKinds) {
  for (uint64_t s = 0; s < 8; ++s) {
    CheckAllModes(RandomMatrix(6, 9, 0, 1, 400 + s), s);          // binary
    CheckAllModes(RandomMatrix(7, 5, -1, 1, 500 + s), s);         // ternary
    CheckAllModes(RandomMatrix(5, 6, -1, 0, 600 + s), s);         // 1-bit signed
    CheckAllModes(RandomMatrix(6, 6, -32768, 32767, 700 + s), s);  // 16-bit
    IntMatrix ext = RandomMatrix(4, 5, -32768, 32767, 800 + s);
    ext.at(0, 0) = -32768;
    ext.at(1, 2) = -32768;
    ext.at(3, 4) = 32767;
    CheckAllModes(ext, s);
    CheckAllModes(RandomMatrix(3, 3, -(int64_t{1} << 40), int64_t{1} << 40, 900 + s), s);  // wide weights
  }
}

TEST(CmvmOptimize, ManySeededRandomMatrices) {
  for (uint64_t s = 0; s < 60; ++s) {
    std::mt19937_64 rng(s);
    const int rows = 1 + static_cast<int>(rng() % 12), cols = 1 + static_cast<int>(rng() % 12);
    const int64_t mag = int64_t{1} << (1 + rng() % 12);
    CheckAllModes(RandomMatrix(rows, cols, -mag, mag, 1000 + s, (rng() % 4) * 0.15), s);
  }
}

TEST(CmvmOptimize, PublishedProtocolMatrix) {
  // N x N uniform in [129, 255]: the optimizer must share a lot (CSD trees need about 871 for N = 16).
  for (uint64_t s = 0; s < 3; ++s) {
    const IntMatrix w = RandomMatrix(16, 16, 129, 255, 2000 + s);
    CheckAllModes(w, s);
    CmvmOptions o;
    EXPECT_LT(OptimizeCmvm(w, o).adders.size(), BuildCsdTrees(w).adders.size() * 45 / 100);
  }
}

TEST(CmvmOptimize, InputRangesOnlyAffectSecondaryCost) {
  const IntMatrix w = RandomMatrix(8, 8, -128, 127, 3000);
  CmvmOptions a;
  CmvmOptions b;
  b.input_ranges.assign(8, InputRange{0, 15});
  const AdderGraph ga = OptimizeCmvm(w, a), gb = OptimizeCmvm(w, b);
  ExpectImplements(ga, w, -1);
  ExpectImplements(gb, w, -1);
  CmvmOptions bad;
  bad.input_ranges.assign(3, InputRange{0, 1});
  EXPECT_THROW(OptimizeCmvm(w, bad), std::invalid_argument);
}

TEST(CmvmOptimize, DeterministicForSameSeed) {
  const IntMatrix w = RandomMatrix(12, 12, -128, 127, 4000);
  for (DepthMode mode : {DepthMode::kUnconstrained, DepthMode::kMinimum}) {
    CmvmOptions o;
    o.depth_mode = mode;
    o.seed = 42;
    const AdderGraph g1 = OptimizeCmvm(w, o), g2 = OptimizeCmvm(w, o);
    EXPECT_EQ(g1.adders, g2.adders);
    EXPECT_EQ(g1.outputs, g2.outputs);
  }
}

TEST(CmvmOptimize, ResultDoesNotDependOnEarlierCalls) {
  // The CSE engine reuses per-thread buffers between runs; no state may leak from one problem to the next.
  const IntMatrix a = RandomMatrix(16, 16, 129, 255, 4100), b = RandomMatrix(9, 13, -300, 300, 4101, 0.2);
  for (DepthMode mode : {DepthMode::kUnconstrained, DepthMode::kMinimum}) {
    CmvmOptions o;
    o.depth_mode = mode;
    const AdderGraph first = OptimizeCmvm(a, o);
    (void)OptimizeCmvm(b, o);
    CmvmOptions fast = o;
    fast.effort = 0;
    (void)OptimizeCmvm(GaussianInt8(40, 600, 30.0, 4102), fast);  // column-block path, bigger tables
    const AdderGraph again = OptimizeCmvm(a, o);
    EXPECT_EQ(first.adders, again.adders);
    EXPECT_EQ(first.outputs, again.outputs);
  }
}

TEST(CmvmOptimize, PublishedProtocolQualityGuard) {
  // Regression guard for the optimizer's quality on the published protocol (16 x 16 uniform in [129, 255]).
  // The bench (20 matrices, seed 2025) measures about 330 unconstrained and 418 at minimum depth; these four
  // matrices are held to a looser bound so that only a real regression fails.
  double un = 0, md = 0;
  for (uint64_t s = 0; s < 4; ++s) {
    const IntMatrix w = RandomMatrix(16, 16, 129, 255, 7000 + s);
    CmvmOptions o;
    un += static_cast<double>(OptimizeCmvm(w, o).adders.size());
    o.depth_mode = DepthMode::kMinimum;
    const AdderGraph g = OptimizeCmvm(w, o);
    ExpectImplements(g, w, MinimumDepth(w));
    md += static_cast<double>(g.adders.size());
  }
  EXPECT_LE(un / 4, 338.0);
  EXPECT_LE(md / 4, 432.0);
}

TEST(CmvmOptimize, DepthBoundedRowDifferences) {
  // Rows that fit in half the depth capacity are shared as parents: row i = +-(parent output) + difference.
  // 1) One long row forces the depth; the other rows are near-copies of row 0 (one entry off by a power of 2).
  IntMatrix w{9, 8, std::vector<int64_t>(72)};
  const std::vector<int64_t> base = {171, 229, 143, 201, 187, 157, 245, 133};
  for (int c = 0; c < 8; ++c) {
    w.at(0, c) = base[c];
    w.at(8, c) = 0x555;  // 6 CSD digits each: 48 digits, minimum depth 6
  }
  for (int r = 1; r < 8; ++r)
    for (int c = 0; c < 8; ++c) w.at(r, c) = (r % 2 ? 1 : -1) * (base[c] + (c == r ? (int64_t{1} << r) : 0));
  CmvmOptions o;
  o.depth_mode = DepthMode::kMinimum;
  const AdderGraph g = OptimizeCmvm(w, o);
  ExpectImplements(g, w, MinimumDepth(w));
  EXPECT_LE(g.adders.size(), 52u);  // 44 measured; 62 without the row differences
  // 2) min + 1 on the published protocol: every row fits in half the capacity.
  double sum = 0;
  for (uint64_t s = 0; s < 2; ++s) {
    const IntMatrix m = RandomMatrix(16, 16, 129, 255, 7100 + s);
    CmvmOptions p;
    p.depth_mode = DepthMode::kMinimumPlusK;
    p.extra_depth = 1;
    const AdderGraph gp = OptimizeCmvm(m, p);
    ExpectImplements(gp, m, MinimumDepth(m) + 1);
    sum += static_cast<double>(gp.adders.size());
  }
  EXPECT_LE(sum / 2, 380.0);  // 354.5 measured; 404.5 without the row differences
}

TEST(CmvmOptimize, MinDepthSharedOffsets) {
  // Rows written as +-2^s * (sum of a group of inputs) + residuals (SolveOffsetTree in cmvm.cpp): at the minimum
  // depth of the published protocol's matrices (16 x 16 uniform in [129, 255], D = 6, rows of ~55 digits against
  // capacity 64) the leading digits of every row go into one shared tree of depth 4. Exact depth, W rebuilt,
  // deterministic; the adder counts are held below what the search without the offsets reached.
  double sum = 0;
  for (uint64_t s = 0; s < 4; ++s) {
    const IntMatrix w = RandomMatrix(16, 16, 129, 255, 7000 + s);
    CmvmOptions o;
    o.depth_mode = DepthMode::kMinimum;
    const AdderGraph g = OptimizeCmvm(w, o);
    ExpectImplements(g, w, MinimumDepth(w));
    EXPECT_EQ(OutputDepth(g), MinimumDepth(w));
    if (s == 0) {
      const AdderGraph again = OptimizeCmvm(w, o);
      EXPECT_EQ(g.adders, again.adders);
      EXPECT_EQ(g.outputs, again.outputs);
    }
    sum += static_cast<double>(g.adders.size());
  }
  EXPECT_LE(sum / 4, 400.0);  // 384.0 measured (377, 385, 379, 395); 426.25 without the offsets
  // A fixed 12 x 12 matrix (D = 6 as well).
  const IntMatrix w12 = RandomMatrix(12, 12, 129, 255, 7200);
  CmvmOptions o;
  o.depth_mode = DepthMode::kMinimum;
  const AdderGraph g12 = OptimizeCmvm(w12, o);
  ExpectImplements(g12, w12, MinimumDepth(w12));
  EXPECT_EQ(OutputDepth(g12), MinimumDepth(w12));
  EXPECT_LE(g12.adders.size(), 235u);  // 222 measured; 249 without the offsets
}

TEST(CmvmOptimize, GaussianLayerBeatsBaselineAndScales) {
  // A Fashion-MNIST-like dense layer (64 x 196, int8 Gaussian weights).
  const IntMatrix w = GaussianInt8(64, 196, 30.0, 5000);
  CmvmOptions o;
  const AdderGraph g = OptimizeCmvm(w, o);
  ExpectImplements(g, w, -1);
  const size_t base = BuildCsdTrees(w).adders.size();
  EXPECT_LT(static_cast<double>(g.adders.size()), 0.65 * static_cast<double>(base));
  CmvmOptions md;
  md.depth_mode = DepthMode::kMinimum;
  const AdderGraph gm = OptimizeCmvm(w, md);
  ExpectImplements(gm, w, MinimumDepth(w));
  EXPECT_LT(gm.adders.size(), base);
}

TEST(CmvmOptimize, WideMatrixUsesColumnBlocks) {
  // Big enough to take the column-block path at effort 0 (many small blocks); checks correctness there in every
  // mode. At the default effort the same path (with the CSE across blocks) starts at ~8e7 pairs (2.5e7
  // depth-bounded), too slow for a unit test, so a small block size is forced; it must still beat effort 0's tiny
  // blocks.
  const IntMatrix w = GaussianInt8(40, 600, 30.0, 6000);
  CheckAllModes(w, 1, 0);
  const IntMatrix v = GaussianInt8(24, 300, 30.0, 6001);
  CmvmOptions fast;
  fast.effort = 0;
  for (DepthMode mode : {DepthMode::kUnconstrained, DepthMode::kMinimum}) {
    CmvmOptions o;
    o.depth_mode = mode;
    o.block_pairs = 2e5;
    fast.depth_mode = mode;
    const AdderGraph g = OptimizeCmvm(v, o);
    ExpectImplements(g, v, mode == DepthMode::kMinimum ? MinimumDepth(v) : -1);
    EXPECT_LT(g.adders.size(), OptimizeCmvm(v, fast).adders.size());
  }
}

TEST(CmvmCse, PairStorageDoesNotChangeTheGraph) {
  // The pair statistics live in a dense array (pairs of the rows' initial nodes) and a hash map, and the first
  // count may be made by sorting in several passes; none of that may change which patterns are extracted.
  const IntMatrix w = RandomMatrix(20, 40, -128, 127, 6200);
  std::vector<std::vector<cmvm_detail::RowTerm>> rows0(w.rows);
  for (int r = 0; r < w.rows; ++r)
    for (int c = 0; c < w.cols; ++c)
      for (const SignedDigit& d : CsdDigits(w.at(r, c))) rows0[r].push_back({c, d.shift, d.neg});
  for (bool bounded : {false, true}) {
    for (int look : {1, 4}) {
      std::vector<AdderGraph> graphs;
      std::vector<std::vector<std::vector<cmvm_detail::RowTerm>>> rests;
      for (int variant = 0; variant < 3; ++variant) {
        cmvm_detail::CseParams p;
        p.lookahead = look;
        p.deep_first = !bounded;
        if (bounded) p.row_capacity.assign(w.rows, uint64_t{1} << MinimumDepth(w));
        if (variant >= 1) p.dense_entries = 0;  // hash map only
        if (variant == 2) p.sort_first_count = 1, p.sort_pass_keys = 500;  // sorted first count, many passes
        cmvm_detail::GraphBuilder b(w.cols, {});
        auto rows = rows0;
        cmvm_detail::RunCse(b, rows, p);
        b.graph.outputs = cmvm_detail::FinishRows(b, rows);
        ExpectImplements(b.graph, w, bounded ? MinimumDepth(w) : -1);
        graphs.push_back(b.graph);
        rests.push_back(rows);
      }
      EXPECT_LT(graphs[0].adders.size(), BuildCsdTrees(w).adders.size() * 3 / 4);
      for (int v = 1; v < 3; ++v) {
        EXPECT_EQ(graphs[v].adders, graphs[0].adders) << "variant " << v << " bounded " << bounded;
        EXPECT_EQ(graphs[v].outputs, graphs[0].outputs) << "variant " << v << " bounded " << bounded;
        EXPECT_EQ(rests[v].size(), rests[0].size());
      }
    }
  }
}

TEST(CmvmOptimize, MediumMatrixCandidates) {
  // 64 x 64 int4 (pair work ~3e5) takes the medium path from effort 1 (two seeds of the row-difference
  // candidates of W and W^T plus plain W); 96 x 40 int8 (~1e6) two row-difference candidates.
  for (const IntMatrix& w : {RandomMatrix(64, 64, -8, 7, 6300), RandomMatrix(96, 40, -128, 127, 6301)}) {
    CmvmOptions o, old;
    old.effort = 0;
    const AdderGraph g = OptimizeCmvm(w, o), again = OptimizeCmvm(w, o);
    ExpectImplements(g, w, -1);
    EXPECT_EQ(g.adders, again.adders);
    EXPECT_LE(g.adders.size(), OptimizeCmvm(w, old).adders.size()) << Describe(w);
  }
}

TEST(CmvmOptimize, EffortIsDeterministic) {
  // The same (matrix, options) gives the same graph at every effort; the result never depends on time.
  const IntMatrix w = RandomMatrix(24, 40, -128, 127, 6100);
  for (int effort : {0, 1, 2}) {
    CmvmOptions o;
    o.effort = effort;
    const AdderGraph a = OptimizeCmvm(w, o), b = OptimizeCmvm(w, o);
    ExpectImplements(a, w, -1);
    EXPECT_EQ(a.adders, b.adders);
    EXPECT_EQ(a.outputs, b.outputs);
  }
}

}  // namespace
}  // namespace hw::arith
