// CMVM optimizer driver. The algorithm (details in docs/performance.md, "CMVM optimizer"):
//   1. Every row of W is written as its CSD digits: terms +-(x_c << s).
//   2. Greedy two-term CSE (cmvm_cse.cpp): the most frequent pattern (x_a << i) +- (x_b << j), normalised by
//      relative shift and sign, is materialised as one adder and substituted in every row, with pattern
//      counts maintained incrementally. Under a depth bound a substitution is only made in rows that can still
//      be finished in time (sum 2^depth of the row's terms <= 2^bound).
//   3. Each row's remaining terms are summed by a Huffman-by-depth tree (depth-optimal for the given terms).
//   4. Several seeded tie-breaking orders, on W and (unconstrained) on W^T followed by graph transposition,
//      are tried; the graph with fewest adders, then smallest adder-width sum, is kept. The number of tries
//      depends only on the problem size, so the result is deterministic.
//   Wide matrices are cut into column blocks whose CSE runs independently (bounds time and memory; the block size
//   comes from CmvmOptions::effort); from effort 1 on, the remaining terms of all blocks then go through one more
//   CSE over the whole matrix before each row is reduced.
#include "arith/cmvm.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "arith/cmvm_cse.h"
#include "arith/csd.h"

namespace hw::arith {

using cmvm_detail::FinishRows;
using cmvm_detail::GraphBuilder;
using cmvm_detail::RowTerm;

namespace {

int CeilLog2(uint64_t k) {
  int d = 0;
  while ((uint64_t{1} << d) < k) ++d;
  return d;
}

std::vector<std::vector<RowTerm>> CsdRows(const IntMatrix& w) {
  std::vector<std::vector<RowTerm>> rows(w.rows);
  for (int r = 0; r < w.rows; ++r)
    for (int c = 0; c < w.cols; ++c)
      for (const SignedDigit& d : CsdDigits(w.at(r, c))) rows[r].push_back({c, d.shift, d.neg});
  return rows;
}

IntMatrix Transposed(const IntMatrix& w) {
  IntMatrix t{w.cols, w.rows, std::vector<int64_t>(w.w.size())};
  for (int r = 0; r < w.rows; ++r)
    for (int c = 0; c < w.cols; ++c) t.at(c, r) = w.at(r, c);
  return t;
}

struct Candidate {
  AdderGraph g;
  double width = 0;
};

double WidthSum(const AdderGraph& g, const std::vector<InputRange>& ranges) {
  GraphBuilder b(g.num_inputs, ranges);
  for (const AdderNode& a : g.adders) b.AddAdder(a.a, a.b);
  return b.total_width();
}

// Sum over rows of (#terms)^2 / 2: the size of the pair statistics of one CSE run.
double PairWork(const std::vector<std::vector<RowTerm>>& rows) {
  double s = 0;
  for (const auto& r : rows) s += 0.5 * static_cast<double>(r.size()) * static_cast<double>(r.size());
  return s;
}

// Column-block size limit: pair statistics of one CSE run (sum over rows of #terms^2 / 2). Bigger blocks find
// more sharing (a pattern can only join terms of one block) but cost time and memory, about linearly: ~0.15 s
// and ~15 MB per 1e6 pairs. Effort 0 keeps the old small blocks (a 128 x 784 int8 matrix in < 1 s, 20 % more
// adders); effort 1 (default) solves matrices up to ~128 x 400 int8 whole (~128 x 256 depth-bounded) and keeps
// 128 x 784 within ~30 s and ~1.3 GB; effort >= 2 allows 8e7 pairs per block in both modes.
constexpr double kBlockPairsUnconstrained = 1.0e5;
constexpr double kBlockPairsConstrained = 5.0e4;
struct Blocking {
  double pairs = kBlockPairsUnconstrained;  // pair-work limit of one block
  bool merge = false;                       // one more CSE across the blocks' remaining terms
  bool deep_first = false;                  // CseParams::deep_first for every CSE run
  bool progressive = false;                 // block i's CSE includes the remaining terms of blocks < i
};
Blocking BlockingFor(int effort, bool bounded) {
  if (effort <= 0) return {bounded ? kBlockPairsConstrained : kBlockPairsUnconstrained, false};
  // Effort 1: unconstrained blocks of 8e7 pairs (128 x 392 int8 whole: 51077 -> 49997 adders, 12 s; 128 x 784
  // in two blocks 99529 -> 97491, 25 s); depth-bounded 2.5e7 (the bounded CSE is ~2x slower per pair: 128 x 784
  // min-depth in two blocks would take ~58 s). Progressive blocks (effort >= 2): 128 x 392 int8 in two 2.5e7
  // blocks 51215 -> 50742 adders but 1.3x the time.
  return {effort == 1 && bounded ? 2.5e7 : 8e7, true, false, effort >= 2};
}

// One greedy CSE run on w (rows = outputs) into builder b with one capacity per row (bound on the sum of
// 2^depth of the row's terms; empty = unconstrained); returns the remaining terms of every row (not finished).
// merge: after the column blocks, one more CSE over the remaining terms of whole rows.
std::vector<std::vector<RowTerm>> CseRows(GraphBuilder& b, const IntMatrix& w, const std::vector<uint64_t>& caps,
                                          uint64_t seed, const Blocking& blk, int lookahead) {
  std::vector<std::vector<RowTerm>> rows = CsdRows(w);
  const double work = PairWork(rows);
  const int blocks = work <= blk.pairs
                         ? 1
                         : std::min(w.cols, static_cast<int>(std::ceil(std::sqrt(work / blk.pairs))));
  if (blocks == 1) {
    cmvm_detail::CseParams p;
    p.seed = seed;
    p.deep_first = blk.deep_first;
    p.lookahead = lookahead;
    p.row_capacity = caps;
    RunCse(b, rows, p);
  } else {
    // Column blocks of about equal digit count.
    std::vector<double> col_digits(w.cols, 0);
    double total = 0;
    for (const auto& row : rows)
      for (const RowTerm& t : row) col_digits[t.node] += 1, total += 1;
    std::vector<int> block_of(w.cols);
    double acc = 0;
    for (int c = 0; c < w.cols; ++c) {
      block_of[c] = std::min(blocks - 1, static_cast<int>(acc / total * blocks));
      acc += col_digits[c];
    }
    // progressive: every block's CSE also holds the remaining terms of the blocks before it (sharing across
    // blocks as they go, instead of one CSE across blocks at the end).
    const bool prog = blk.progressive;
    std::vector<std::vector<RowTerm>> remaining(w.rows);
    std::vector<uint64_t> digits_so_far(w.rows, 0);
    for (int bi = 0; bi < blocks; ++bi) {
      std::vector<std::vector<RowTerm>> sub(w.rows);
      if (prog) sub.swap(remaining), remaining.assign(w.rows, {});
      for (int r = 0; r < w.rows; ++r)
        for (const RowTerm& t : rows[r])
          if (block_of[t.node] == bi) sub[r].push_back(t), ++digits_so_far[r];
      cmvm_detail::CseParams p;
      p.seed = seed;
      p.deep_first = blk.deep_first;
      if (!caps.empty()) {
        p.row_capacity.resize(w.rows);
        for (int r = 0; r < w.rows; ++r) {
          const uint64_t cap = caps[r];
          const uint64_t k = rows[r].size(), kb = prog ? digits_so_far[r] : sub[r].size();
          p.row_capacity[r] = k == 0 ? 0 : kb + (cap - k) * kb / k;
        }
      }
      RunCse(b, sub, p);
      for (int r = 0; r < w.rows; ++r) remaining[r].insert(remaining[r].end(), sub[r].begin(), sub[r].end());
    }
    rows.swap(remaining);
    if (blk.merge && !prog) {
      // Sharing across blocks: the blocks' remaining terms of every row (far fewer than the digits) go through
      // one more CSE over the whole matrix, with each row's full capacity.
      cmvm_detail::CseParams p;
      p.seed = seed;
      p.deep_first = blk.deep_first;
      p.lookahead = lookahead;
      p.row_capacity = caps;
      RunCse(b, rows, p);
    }
  }
  return rows;
}

// One greedy CSE solve of w into builder b, rows finished; returns the output terms. depth_bound < 0:
// unconstrained.
std::vector<Term> CseSolve(GraphBuilder& b, const IntMatrix& w, int depth_bound, uint64_t seed,
                           const Blocking& blk, int lookahead) {
  std::vector<uint64_t> caps;
  if (depth_bound >= 0) caps.assign(w.rows, uint64_t{1} << depth_bound);
  return FinishRows(b, CseRows(b, w, caps, seed, blk, lookahead));
}

AdderGraph SolveOnce(const IntMatrix& w, const std::vector<InputRange>& ranges, int depth_bound, uint64_t seed,
                     const Blocking& blk, int lookahead) {
  GraphBuilder b(w.cols, ranges);
  b.graph.outputs = CseSolve(b, w, depth_bound, seed, blk, lookahead);
  return std::move(b.graph);
}

// Number of non-zero CSD digits of v (|v| < 2^62): popcount(((3|v|) xor |v|) >> 1).
int CsdWeight(int64_t v) {
  const uint64_t a = v < 0 ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v);
  return std::popcount(((3 * a) ^ a) >> 1);
}

int RowDigits(const IntMatrix& w, int r, int other, int64_t sign) {
  int k = 0;
  for (int c = 0; c < w.cols; ++c) k += CsdWeight(w.at(r, c) - (other < 0 ? 0 : sign * w.at(other, c)));
  return k;
}

// Row-difference decomposition (unconstrained): rows are linked by a minimum spanning tree over the CSD
// distance min_s digits(w_i - s w_j) (a virtual zero row is the root); every row is computed as the CSE
// solution of its difference to its tree parent plus one adder adding the parent's output.
// Copies graph g (same inputs as b) into b; returns g's outputs as terms of b.
std::vector<Term> AppendGraph(GraphBuilder& b, const AdderGraph& g) {
  std::vector<int> id(g.num_nodes());
  for (int i = 0; i < g.num_inputs; ++i) id[i] = i;
  for (size_t k = 0; k < g.adders.size(); ++k) {
    Term a = g.adders[k].a, c = g.adders[k].b;
    a.node = id[a.node];
    c.node = id[c.node];
    id[g.num_inputs + k] = b.AddAdder(a, c);
  }
  std::vector<Term> out = g.outputs;
  for (Term& t : out)
    if (!t.is_zero()) t.node = id[t.node];
  return out;
}

AdderGraph SolveDecomposed(const IntMatrix& w, const std::vector<InputRange>& ranges, uint64_t seed, int levels,
                           int lookahead, const Blocking& blk) {
  const int n = w.rows;
  std::vector<int> parent(n, -1), best_cost(n), best_from(n, -1);
  std::vector<int64_t> best_sign(n, 1), sign(n, 1);
  std::vector<char> done(n, 0);
  for (int i = 0; i < n; ++i) best_cost[i] = 4 * RowDigits(w, i, -1, 1);
  std::vector<int> order;
  for (int it = 0; it < n; ++it) {
    int pick = -1;
    for (int i = 0; i < n; ++i)
      if (!done[i] && (pick < 0 || best_cost[i] < best_cost[pick])) pick = i;
    done[pick] = 1;
    parent[pick] = best_from[pick];
    sign[pick] = best_sign[pick];
    order.push_back(pick);
    for (int i = 0; i < n; ++i) {
      if (done[i]) continue;
      for (int64_t s : {int64_t{1}, int64_t{-1}}) {
        // distance in quarter digits; seeded runs add up to 7/4 digit of noise to vary the tree
        int c = 4 * RowDigits(w, i, pick, s);
        if (seed != 0) c += static_cast<int>(cmvm_detail::Mix(seed + static_cast<uint64_t>(i * 131 + pick)) >> 61);
        if (c < best_cost[i]) best_cost[i] = c, best_from[i] = pick, best_sign[i] = s;
      }
    }
  }
  IntMatrix d = w;
  for (int i = 0; i < n; ++i)
    if (parent[i] >= 0)
      for (int c = 0; c < w.cols; ++c) d.at(i, c) = w.at(i, c) - sign[i] * w.at(parent[i], c);
  GraphBuilder b(w.cols, ranges);
  std::vector<Term> dt;
  if (levels > 1 && d.rows > 1 && d.cols > 1) {
    dt = AppendGraph(
        b, cmvm_detail::TransposeGraph(SolveDecomposed(Transposed(d), {}, seed, levels - 1, lookahead, blk), ranges));
  } else {
    dt = CseSolve(b, d, -1, seed, blk, lookahead);
  }
  std::vector<Term> y(n);
  for (int i : order) {
    if (parent[i] < 0) {
      y[i] = dt[i];
      continue;
    }
    Term p = y[parent[i]];
    if (sign[i] < 0 && !p.is_zero()) p.neg = !p.neg;
    if (dt[i].is_zero()) {
      y[i] = p;
    } else if (p.is_zero()) {
      y[i] = dt[i];
    } else {
      const RowTerm t = cmvm_detail::Combine(b, {dt[i].node, dt[i].shift, dt[i].neg}, {p.node, p.shift, p.neg});
      y[i] = Term{t.node, t.shift, t.neg};
    }
  }
  b.graph.outputs = y;
  return std::move(b.graph);
}

// Depth-bounded row-difference decomposition (bound D >= 1): a star forest. A "parent" row is solved within
// capacity 2^{D-1}, so its output has depth <= D - 1; a "child" row i of parent p is w_i - s w_p, solved within
// capacity 2^D - 2^{D-1}, and its remaining terms are finished together with +-(output of p) as one more term
// (sum of 2^depth <= 2^D, so the Huffman-by-depth tree meets D). Other rows are solved within 2^D as usual.
// The forest: a greedy choice of edges by digit saving k_i - dist(i, p) - 1 (dist = min_s digits(w_i - s w_p);
// seeded runs add up to 7/4 digit of noise), then a local search over the parent set (add / remove / swap one
// row) on the digit count of the whole forest, every other row taking its best parent or none. Returns false
// when no edge is feasible (the usual case at the minimum depth: every row needs more than 2^{D-1} digits; it
// pays off where the maximum row forces an extra level that most rows do not need, and in min+k modes).
bool SolveDecomposedBounded(const IntMatrix& w, const std::vector<InputRange>& ranges, int bound, uint64_t seed,
                            int lookahead, const Blocking& blk, AdderGraph& out) {
  const int n = w.rows;
  if (n < 2 || bound < 1 || bound > 30) return false;
  const int half = 1 << (bound - 1);
  std::vector<int> k(n);
  for (int i = 0; i < n; ++i) k[i] = RowDigits(w, i, -1, 1);
  struct Edge {
    int gain, child, par;
    int64_t s;
  };
  std::vector<Edge> edges;
  for (int j = 0; j < n; ++j) {
    if (k[j] == 0 || k[j] > half) continue;
    for (int i = 0; i < n; ++i) {
      if (i == j) continue;
      for (int64_t s : {int64_t{1}, int64_t{-1}}) {
        const int dist = RowDigits(w, i, j, s);
        if (dist > half || k[i] - dist - 1 <= 0) continue;
        int g = 4 * (k[i] - dist - 1);
        if (seed != 0) g += static_cast<int>(cmvm_detail::Mix(seed + static_cast<uint64_t>(i * 131 + j * 7 + (s < 0))) >> 61);
        edges.push_back({g, i, j, s});
      }
    }
  }
  if (edges.empty()) return false;
  std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) {
    if (x.gain != y.gain) return x.gain > y.gain;
    if (x.child != y.child) return x.child < y.child;
    if (x.par != y.par) return x.par < y.par;
    return x.s > y.s;
  });
  std::vector<int> role(n, 0), parent(n, -1);  // role: 0 free, 1 parent, 2 child
  std::vector<int64_t> sign(n, 1);
  for (const Edge& e : edges) {
    if (role[e.child] != 0 || role[e.par] == 2) continue;
    role[e.child] = 2;
    role[e.par] = 1;
  }
  // Local search over the parent set P (add / remove / swap one row), cost in quarter digits:
  // sum_{p in P} k_p + sum_{i not in P} min(k_i, min_{p in P} dist(i, p) + 1).
  std::vector<int> cost(static_cast<size_t>(n) * n, std::numeric_limits<int>::max());
  std::vector<int64_t> csign(static_cast<size_t>(n) * n, 1);
  for (const Edge& e : edges) {
    const size_t x = static_cast<size_t>(e.child) * n + e.par;
    const int c = 4 * k[e.child] - e.gain;
    if (c < cost[x]) cost[x] = c, csign[x] = e.s;
  }
  std::vector<char> inP(n);
  for (int i = 0; i < n; ++i) inP[i] = role[i] == 1;
  auto total = [&](const std::vector<char>& in) {
    int64_t t = 0;
    for (int i = 0; i < n; ++i) {
      if (in[i]) {
        t += 4 * k[i];
        continue;
      }
      int best = 4 * k[i];
      for (int j = 0; j < n; ++j)
        if (in[j]) best = std::min(best, cost[static_cast<size_t>(i) * n + j]);
      t += best;
    }
    return t;
  };
  int64_t cur = total(inP);
  // O(n^4) per round: only for the small matrices this path is used for (the greedy choice stands otherwise).
  for (bool improved = n <= 64; improved;) {
    improved = false;
    std::vector<char> best_set;
    int64_t best = cur;
    for (int x = 0; x < n; ++x) {
      if (!inP[x] && k[x] > half) continue;
      std::vector<char> t = inP;
      t[x] = !t[x];
      if (const int64_t c = total(t); c < best) best = c, best_set = t;
      if (!inP[x]) continue;
      for (int y = 0; y < n; ++y) {
        if (inP[y] || k[y] > half) continue;
        std::vector<char> u = inP;
        u[x] = 0;
        u[y] = 1;
        if (const int64_t c = total(u); c < best) best = c, best_set = u;
      }
    }
    if (best < cur) cur = best, inP.swap(best_set), improved = true;
  }
  for (int i = 0; i < n; ++i) {
    role[i] = inP[i] ? 1 : 0;
    if (inP[i]) continue;
    int best = 4 * k[i];
    for (int j = 0; j < n; ++j) {
      const size_t x = static_cast<size_t>(i) * n + j;
      if (inP[j] && cost[x] < best) best = cost[x], parent[i] = j, sign[i] = csign[x];
    }
    if (parent[i] >= 0) role[i] = 2;
  }
  for (int i = 0; i < n; ++i)  // a parent without children is an ordinary row
    if (role[i] == 1 && std::none_of(parent.begin(), parent.end(), [&](int p) { return p == i; })) role[i] = 0;
  IntMatrix d = w;
  std::vector<uint64_t> caps(n, uint64_t{1} << bound);
  for (int i = 0; i < n; ++i) {
    if (role[i] == 1) caps[i] = static_cast<uint64_t>(half);
    if (role[i] != 2) continue;
    caps[i] = (uint64_t{1} << bound) - static_cast<uint64_t>(half);
    for (int c = 0; c < w.cols; ++c) d.at(i, c) = w.at(i, c) - sign[i] * w.at(parent[i], c);
  }
  GraphBuilder b(w.cols, ranges);
  std::vector<std::vector<RowTerm>> rows = CseRows(b, d, caps, seed, blk, lookahead);
  std::vector<std::vector<RowTerm>> first(n), second(n);
  for (int i = 0; i < n; ++i) (role[i] == 2 ? second : first)[i] = std::move(rows[i]);
  std::vector<Term> y = FinishRows(b, first);
  for (int i = 0; i < n; ++i) {
    if (role[i] != 2) continue;
    Term p = y[parent[i]];
    if (!p.is_zero()) second[i].push_back({p.node, p.shift, sign[i] < 0 ? !p.neg : p.neg});
  }
  const std::vector<Term> y2 = FinishRows(b, second);
  for (int i = 0; i < n; ++i)
    if (role[i] == 2) y[i] = y2[i];
  b.graph.outputs = y;
  if (OutputDepth(b.graph) > bound) return false;  // cannot happen (capacities), kept as a guard
  out = std::move(b.graph);
  return true;
}

// Depth-bounded shared offsets ("virtual parent" rows). The columns are halved recursively (in a seeded order;
// identity for seed 0) into groups: the whole row, its halves, quarters, ... down to pairs. The sum
// S_g = sum_{c in g} x_c of a group is built from its halves' sums (depth ceil(log2 |g|)), so every sub-sum of a
// built group is free. A row may write its entries of g as m + (w - m) with m = +-2^s common to the group: one
// term +-(S_g << s), whose depth-load is 2^{depth S_g}, plus the CSD digits of the residuals w - m. Offsets are
// chosen greedily per row: the one saving the most terms (then adding the least load), again on the residuals,
// at most `max_offsets` per (row, group), as long as it saves at least `min_gain` terms and the row's load stays
// within 2^D. A group is built when two rows or more use it (or it is part of a built group's tree); other
// offsets are undone. The residual matrix then goes through the bounded CSE with the S_g terms as ordinary
// (deeper) row terms. This is a row difference against a virtual parent row that costs |g| units of capacity
// instead of half of it, so it fits where the real-row differences cannot: a [129, 255] row at D = 6 (~55 digits,
// load ~55 of 64) becomes one S term plus ~2.8 digits per entry (~46 terms, load ~61), and the leading digits of
// all rows share one tree. Returns false when no group is used by two rows.
// Measured at N = 16 min-depth (20 matrices, seeds 2025 / 777, 6 solves per matrix unless noted): flat groups
// (whole row and halves, built separately, 3 seeds x 2) 396.35 / 397.35; the halving tree with at most one offset
// per (row, group) 393.85 / 392.85 (3 solves), two offsets and gain >= 2 393.30 / 392.85 (3 solves), two offsets
// and gain >= 1 387.75 / 388.35 (3 solves); seeded column orders 385.55 / 385.80 (3 solves), 382.35 / 383.75
// (6 solves, kept), 381.30 / 382.50 (10), 380.45 / 380.95 (16).
constexpr int kMaxOffsets = 2;
constexpr int kOffsetMinGain = 1;
bool SolveOffsetTree(const IntMatrix& w, const std::vector<InputRange>& ranges, int bound, uint64_t seed,
                     int lookahead, int min_gain, int max_offsets, double min_saving, AdderGraph& out) {
  const int n = w.rows, m = w.cols;
  if (n < 2 || m < 2 || bound < 1 || bound > 30) return false;
  const uint64_t cap = uint64_t{1} << bound;
  int64_t maxabs = 1;
  for (int64_t v : w.w) maxabs = std::max(maxabs, v < 0 ? -v : v);
  // Offsets stack (up to max_offsets per group on every level of the halving): keep the residuals far from
  // CsdWeight's 2^62 limit.
  if (maxabs >= (int64_t{1} << 40)) return false;
  const int top = CeilLog2(static_cast<uint64_t>(maxabs)) + 1;
  // Column order of the halving: identity for seed 0, else a seeded shuffle (the restarts' variety).
  std::vector<int> col(m);
  for (int c = 0; c < m; ++c) col[c] = c;
  if (seed != 0)
    for (int c = m - 1; c > 0; --c) std::swap(col[c], col[static_cast<int>(cmvm_detail::Mix(seed + c) % static_cast<uint64_t>(c + 1))]);
  struct Group {
    int c0, c1, parent, left = -1, right = -1, depth = 0;
  };
  std::vector<Group> gr;
  auto rec = [&](auto&& self, int c0, int c1, int parent) -> int {
    const int id = static_cast<int>(gr.size());
    gr.push_back({c0, c1, parent});
    if (c1 - c0 >= 2) {
      const int mid = c0 + (c1 - c0 + 1) / 2;
      const int l = self(self, c0, mid, id);
      const int r = self(self, mid, c1, id);
      gr[id].left = l;
      gr[id].right = r;
      gr[id].depth = 1 + std::max(gr[l].depth, gr[r].depth);
    }
    return id;
  };
  rec(rec, 0, m, -1);
  const int ng = static_cast<int>(gr.size());
  struct Off {
    int g, s;
    bool neg;
  };
  std::vector<std::vector<Off>> offs(n);
  IntMatrix res = w;
  // Per row, the residual digit counts of every group (k0) and of every group after every offset (kk) are cached
  // and recomputed only for the groups overlapping the last offset's group.
  const int ns = 2 * (top + 1);
  std::vector<int> k0(ng), kk(static_cast<size_t>(ng) * ns), used(ng);
  std::vector<char> dirty(ng);
  for (int r = 0; r < n; ++r) {
    int64_t load = 0;
    for (int c = 0; c < m; ++c) load += CsdWeight(w.at(r, c));
    std::fill(dirty.begin(), dirty.end(), 1);
    std::fill(used.begin(), used.end(), 0);
    for (;;) {
      int best_gain = 0, bg = -1, bs = 0;
      bool bneg = false;
      int64_t best_dl = 0;
      for (int g = 0; g < ng; ++g) {
        if (gr[g].c1 - gr[g].c0 < 2 || used[g] >= max_offsets) continue;
        int* kg = &kk[static_cast<size_t>(g) * ns];
        if (dirty[g]) {
          dirty[g] = 0;
          k0[g] = 0;
          for (int c = gr[g].c0; c < gr[g].c1; ++c) k0[g] += CsdWeight(res.at(r, col[c]));
          for (int s = 0; s <= top; ++s)
            for (int sg = 0; sg < 2; ++sg) {
              const int64_t mm = sg ? -(int64_t{1} << s) : (int64_t{1} << s);
              int k = 0;
              for (int c = gr[g].c0; c < gr[g].c1; ++c) k += CsdWeight(res.at(r, col[c]) - mm);
              kg[2 * s + sg] = k;
            }
        }
        const int64_t sload = int64_t{1} << gr[g].depth;
        for (int s = 0; s <= top; ++s)
          for (int sg = 0; sg < 2; ++sg) {
            const int k = kg[2 * s + sg];
            const int gain = k0[g] - 1 - k;
            const int64_t dl = sload + k - k0[g];
            if (gain < min_gain || load + dl > static_cast<int64_t>(cap)) continue;
            if (bg < 0 || gain > best_gain || (gain == best_gain && dl < best_dl))
              best_gain = gain, best_dl = dl, bg = g, bs = s, bneg = sg != 0;
          }
      }
      if (bg < 0) break;
      offs[r].push_back({bg, bs, bneg});
      ++used[bg];
      load += best_dl;
      const int64_t mm = bneg ? -(int64_t{1} << bs) : (int64_t{1} << bs);
      for (int c = gr[bg].c0; c < gr[bg].c1; ++c) res.at(r, col[c]) -= mm;
      for (int g = 0; g < ng; ++g)
        if (gr[g].c0 < gr[bg].c1 && gr[bg].c0 < gr[g].c1) dirty[g] = 1;
    }
  }
  std::vector<int> users(ng, 0);
  for (int r = 0; r < n; ++r) {
    std::vector<char> seen(ng, 0);
    for (const Off& o : offs[r]) seen[o.g] = 1;
    for (int g = 0; g < ng; ++g) users[g] += seen[g];
  }
  std::vector<char> need(ng, 0);
  bool any = false;
  for (int g = 0; g < ng; ++g) {  // parents come before their children
    need[g] = users[g] >= 2 || (gr[g].parent >= 0 && need[gr[g].parent]);
    any |= users[g] >= 2;
  }
  if (!any) return false;
  GraphBuilder b(m, ranges);
  std::vector<int> snode(ng, -1);
  auto build = [&](auto&& self, int g) -> int {
    if (snode[g] >= 0) return snode[g];
    if (gr[g].left < 0) return snode[g] = col[gr[g].c0];
    const int l = self(self, gr[g].left), rr = self(self, gr[g].right);
    return snode[g] = b.AddAdder(Term{l, 0, false}, Term{rr, 0, false});
  };
  for (int g = 0; g < ng; ++g)
    if (need[g]) build(build, g);
  std::vector<std::vector<RowTerm>> rows(n);
  size_t digits = 0, terms = 0;
  for (int r = 0; r < n; ++r) {
    for (const Off& o : offs[r]) {
      if (!need[o.g]) {  // dropped group: undo the offset
        const int64_t mm = o.neg ? -(int64_t{1} << o.s) : (int64_t{1} << o.s);
        for (int c = gr[o.g].c0; c < gr[o.g].c1; ++c) res.at(r, col[c]) += mm;
        continue;
      }
      rows[r].push_back({snode[o.g], o.s, o.neg});
    }
    for (int c = 0; c < m; ++c)
      for (const SignedDigit& d : CsdDigits(res.at(r, c))) rows[r].push_back({c, d.shift, d.neg});
    for (int c = 0; c < m; ++c) digits += CsdWeight(w.at(r, c));
    terms += rows[r].size();
  }
  // Not worth a CSE run when the offsets remove too few terms (min_saving: a fraction of the CSD digits).
  if (static_cast<double>(terms) > (1.0 - min_saving) * static_cast<double>(digits)) return false;
  cmvm_detail::CseParams p;
  p.seed = seed;
  p.lookahead = lookahead;
  p.row_capacity.assign(n, cap);
  RunCse(b, rows, p);
  b.graph.outputs = FinishRows(b, rows);
  if (OutputDepth(b.graph) > bound) return false;
  out = std::move(b.graph);
  return true;
}


bool Better(const Candidate& x, const Candidate& y) {
  if (x.g.adders.size() != y.g.adders.size()) return x.g.adders.size() < y.g.adders.size();
  return x.width < y.width;
}

}  // namespace

double AdderWidthSum(const AdderGraph& g, const std::vector<InputRange>& ranges) { return WidthSum(g, ranges); }

AdderGraph BuildCsdTrees(const IntMatrix& w) {
  GraphBuilder b(w.cols, {});
  b.graph.outputs = FinishRows(b, CsdRows(w));
  return std::move(b.graph);
}

int MinimumDepth(const IntMatrix& w) {
  int d = 0;
  for (int r = 0; r < w.rows; ++r) {
    uint64_t k = 0;
    for (int c = 0; c < w.cols; ++c) k += CsdDigits(w.at(r, c)).size();
    d = std::max(d, CeilLog2(k));
  }
  return d;
}

AdderGraph OptimizeCmvm(const IntMatrix& w, const CmvmOptions& options) {
  if (w.rows < 0 || w.cols < 0 || w.w.size() != static_cast<size_t>(w.rows) * w.cols)
    throw std::invalid_argument("OptimizeCmvm: matrix size does not match its dimensions");
  if (!options.input_ranges.empty() && static_cast<int>(options.input_ranges.size()) != w.cols)
    throw std::invalid_argument("OptimizeCmvm: input_ranges must have one entry per column");
  int depth_bound = -1;
  if (options.depth_mode == DepthMode::kMinimum) depth_bound = MinimumDepth(w);
  if (options.depth_mode == DepthMode::kMinimumPlusK) depth_bound = MinimumDepth(w) + std::max(0, options.extra_depth);
  const std::vector<InputRange>& ranges = options.input_ranges;
  Blocking blk = BlockingFor(options.effort, depth_bound >= 0);
  if (options.block_pairs > 0) blk.pairs = options.block_pairs;

  // Effort: number of seeded restarts and the CSE lookahead, from the problem size only (deterministic, never
  // wall-clock based). Small problems (<= about 16 x 16 int8) get a wide lookahead and few restarts: the
  // lookahead improves every restart, which pays more than extra restarts at the same cost.
  const double work = PairWork(CsdRows(w));
  int tries = 1, lookahead = 1;
  if (work <= 1.5e5) tries = 3, lookahead = 4;
  // Unconstrained small problems: 2 seeds at effort 0, 3 from effort 1 (N = 16 protocol 329.5 -> 329.0 for
  // 1.5x the time; 16 x 16 int8 356.8 -> 355.1), 4 from effort 2.
  if (work <= 4e4) tries = depth_bound < 0 ? std::clamp(options.effort + 2, 2, 4) : 3, lookahead = 32;
  // Effort >= 2: the large single-solve path gets a lookahead among tied patterns (about -0.5 % adders for +35 %
  // time) and a row-difference candidate up to a larger size; effort 3 a wider lookahead.
  const int effort = options.effort;
  // Medium unconstrained problems (1.5e5 < work <= 5e5, e.g. 64 x 64 int4) from effort 1: two seeds of the
  // small-problem candidates (row differences of W and of W^T) with lookahead 4, plus plain W (64 x 64 int4,
  // numpy seed 12: 2742.3 -> 2720.0 adders, 0.07 -> 0.16 s; da4ml 2733.7).
  const bool medium = depth_bound < 0 && effort >= 1 && work > 1.5e5 && work <= 5e5;
  if (medium) tries = effort >= 2 ? 3 : 2, lookahead = 4;
  const int big_lookahead = effort >= 3 ? 16 : effort >= 2 ? 4 : 1;
  if (tries == 1) lookahead = std::max(lookahead, big_lookahead);
  const double decomposed_work = effort >= 2 ? 3e7 : 2e6;
  // Deeper-operands-first tie-break from effort 1 on: unconstrained always; depth-bounded on the large
  // single-solve path only (at N = 16 min-depth it is +0.1 adder, on 128 x 98 int8 -0.5 %).
  blk.deep_first = effort >= 1 && (depth_bound < 0 || tries == 1);

  Candidate best;
  bool have = false;
  auto consider = [&](AdderGraph&& g) {
    Candidate c{std::move(g), 0};
    if (have && c.g.adders.size() > best.g.adders.size()) return;
    c.width = WidthSum(c.g, ranges);
    if (!have || Better(c, best)) {
      best = std::move(c);
      have = true;
    }
  };
  auto seed_of = [&](int t, uint64_t salt) {
    return t == 0 ? uint64_t{0} : cmvm_detail::Mix(options.seed * 0x9E3779B97F4A7C15ULL + salt * 1000 + t);
  };
  // Plain CSE on W: the only candidate for big matrices, one of several in bounded modes; never competitive
  // with the row-difference decompositions unconstrained, so skipped there when those run.
  if (options.plain_only || tries == 1 || depth_bound >= 0 || w.rows <= 1 || medium)
    consider(SolveOnce(w, ranges, depth_bound, seed_of(0, 0), blk, lookahead));
  // Medium depth-bounded problems on the single-solve path (1.5e5 < pair work <= 5e5, e.g. 32 x 32 [129, 255],
  // 64 x 64 int4): one shared-offset solve as well when the offsets remove at least 30 % of the terms (N = 32
  // min-depth: 40 % of the terms, 1529.0 -> 1400.2 adders, 17 -> 31 ms per matrix; 64 x 64 int4: 22 %, and the
  // solve never won there, 2784.4 either way, 21 -> 50 ms without the threshold). Not above 5e5 pairs: 128 x 49
  // int8 gained 3 adders of 7253 for 2x the time.
  if (options.plain_only) {
    for (int t = 1; t < tries; ++t) consider(SolveOnce(w, ranges, depth_bound, seed_of(t, 3), blk, lookahead));
    return std::move(best.g);
  }
  if (effort >= 1 && tries == 1 && depth_bound >= 0 && work <= 5e5) {
    AdderGraph g;
    if (SolveOffsetTree(w, ranges, depth_bound, 0, lookahead, kOffsetMinGain, kMaxOffsets, 0.3, g))
      consider(std::move(g));
  }
  // Larger sizes: one row-difference decomposition as well (it pays off when rows are alike), from effort 1 also
  // with lookahead 4 (128 x 49 int8, numpy seed 12: 7035.5 -> 7021.5 adders for +30 % time; da4ml 7027.5).
  if (tries == 1 && depth_bound < 0 && w.rows > 1 && work <= decomposed_work) {
    consider(SolveDecomposed(w, ranges, 0, 1, lookahead, blk));
    if (effort >= 1 && lookahead < 4) consider(SolveDecomposed(w, ranges, 0, 1, 4, blk));
  }
  if (tries > 1) {
    const IntMatrix wt = Transposed(w);
    const std::vector<InputRange> no_ranges;  // W^T's inputs are W's outputs: no ranges known
    // Depth-bounded shared offsets (SolveOffsetTree), 2 x tries solves (column orders and tie-breaks seeded), from
    // effort 1 (effort 0 keeps the earlier candidates and graphs).
    // When they beat plain CSE (seed 0), the plain restarts on W and W^T are skipped: at N = 16 min-depth they
    // never won against the offsets, and skipping them pays for the offset solves (N = 16 min-depth, seed 2025:
    // 418.45 -> 382.35 adders, 22 -> 16 ms per matrix).
    bool offsets_lead = false;
    if (depth_bound >= 0 && effort >= 1) {
      const size_t before = best.g.adders.size();
      bool any = false;
      for (int t = 0; t < 2 * tries; ++t) {
        AdderGraph g;
        if (SolveOffsetTree(w, ranges, depth_bound, seed_of(t, 8), lookahead, kOffsetMinGain, kMaxOffsets, 0.0, g)) {
          consider(std::move(g));
          any = true;
        }
      }
      offsets_lead = any && best.g.adders.size() < before;
    }
    for (int t = 0; t < tries; ++t) {
      if (depth_bound < 0) {
        // Row-difference decomposition on W and on W^T (transposed back); levels alternate between 1 and 2.
        if (w.rows > 1) consider(SolveDecomposed(w, ranges, seed_of(t, 1), 1 + (t & 1), lookahead, blk));
        if (w.rows > 1 && w.cols > 1)
          consider(cmvm_detail::TransposeGraph(
              SolveDecomposed(wt, no_ranges, seed_of(t, 2), 1 + ((t >> 1) & 1), lookahead, blk), ranges));
      } else {
        // Depth-bounded: plain CSE with other tie-breaking on W, and on W^T when the transposed graph
        // happens to meet the bound.
        if (t > 0 && !offsets_lead) consider(SolveOnce(w, ranges, depth_bound, seed_of(t, 3), blk, lookahead));
        // Depth-bounded row differences (pay off when some rows fit in half the capacity).
        if (AdderGraph g; SolveDecomposedBounded(w, ranges, depth_bound, seed_of(t, 5), lookahead, blk, g))
          consider(std::move(g));
        if (w.rows > 1 && w.cols > 1 && !offsets_lead) {
          AdderGraph g = cmvm_detail::TransposeGraph(
              SolveOnce(wt, no_ranges, depth_bound, seed_of(t, 4), blk, lookahead), ranges);
          if (OutputDepth(g) <= depth_bound) consider(std::move(g));
        }
      }
    }
  }
  return std::move(best.g);
}

}  // namespace hw::arith
