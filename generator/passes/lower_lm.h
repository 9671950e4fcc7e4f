// Lowering of graph-model (language-model) ops to IR v2 (docs/semantics.md, "Language-model ops", is what
// every builder must compute bit for bit). Each builder appends nodes to a graph and returns the Uses of the
// op's output elements; weight matrices go through the CMVM optimizer (shift-and-add, no multipliers), and
// multipliers appear only between two activations.
#pragma once

#include <cstdint>
#include <vector>

#include "arith/cmvm.h"
#include "ir2/ir.h"
#include "ir2/timing.h"
#include "model/lm_model.h"
#include "passes/ir2_passes.h"

namespace hw::passes::lm {

using hw::ir2::Use;
using UseVec = std::vector<Use>;

// Small helpers that append one node each (constants are shared).
class Builder {
 public:
  explicit Builder(hw::ir2::Graph& g) : g_(g) {}
  hw::ir2::Graph& graph() { return g_; }
  Use Input(const std::string& name, int bits, bool is_signed);
  void Output(const std::string& name, Use u);
  Use Const(int64_t v);
  Use Add(const UseVec& terms);  // terms may carry shift / neg
  Use Sum(const UseVec& terms);  // a balanced tree of two-input adds (0 for no terms)
  Use Neg(Use a) { a.neg = !a.neg; return a; }
  Use Shifted(Use a, int s) { a.shift += s; return a; }
  Use Mul(Use a, Use b);
  Use ConstMul(Use a, int64_t m);  // canonical signed digits: a tree of shifted adds
  Use Requant(Use a, int64_t add, int shift, int64_t lo, int64_t hi);  // a may be shifted / negated
  Use Clamp(Use a, int64_t lo, int64_t hi) { return Requant(a, 0, 0, lo, hi); }
  Use Max(Use a, Use b);
  Use MaxTree(const UseVec& v);
  Use Cmp(Use a, Use b, const char* pred);
  Use Select(Use c, Use a, Use b);
  Use Lut(Use a, int64_t offset, const std::vector<int64_t>& table);
  Use Shl(Use a, Use b);
  Use Shr(Use a, Use b);
  Use Bitlen(Use a);
  Use And(Use a, Use b);
  Use Xor(Use a, Use b);
  Use StreamId();
  // Nodes appended from now on implement model op `name` (reports attribute them to it).
  void SetGroup(const std::string& name);
  // Appends a node as built by the caller (in the current group); returns its id.
  int Push(hw::ir2::Node n);
  Use StateRead(const std::string& state, Use sid);
  void StateNext(const std::string& state, Use sid, Use value, Use enable);
  // A whole word of a state with lanes: lane l <- values[l].
  void StateNextRow(const std::string& state, Use sid, const UseVec& values, Use enable);
  Use MemRead(const std::string& mem, Use sid, Use addr);
  void MemWrite(const std::string& mem, Use sid, Use addr, Use data, Use enable);

 private:
  Use Node1(hw::ir2::Node n);
  hw::ir2::Graph& g_;
  int group_ = -1;
  std::vector<std::pair<int64_t, int>> consts_;
};

// requant(acc * M + 2^(S-1) >> S), clamped: the dense/attention output step.
Use ScaleRequant(Builder& b, Use acc, int64_t m, int64_t s, int64_t lo, int64_t hi);

UseVec LowerEmbedding(Builder& b, const model::LmOp& op, Use index);
UseVec LowerAdd(Builder& b, const model::LmOp& op, const UseVec& x, const UseVec& y);
UseVec LowerRmsNorm(Builder& b, const model::LmOp& op, const UseVec& x);
UseVec LowerDense(Builder& b, const model::LmOp& op, const UseVec& x, const arith::CmvmOptions& cmvm);
UseVec LowerTable(Builder& b, const model::LmOp& op, const UseVec& x);
// Attention probabilities of one head: scores[j] for j = 0 .. n-1, valid[j] a 0/1 mask (valid[0] must be 1).
UseVec LowerProbabilities(Builder& b, const model::LmOp& op, const UseVec& scores, const UseVec& valid);
// The greedy choice: index of the largest logit, lowest index on ties.
Use LowerArgmax(Builder& b, const UseVec& logits);
// The sampled choice given the already advanced random state `r` (32-bit).
Use LowerSampled(Builder& b, const model::LmOp& sample, const UseVec& logits, Use r);
// x ^= x << 13; x ^= x >> 17; x ^= x << 5, modulo 2^32.
Use LowerXorshift32(Builder& b, Use x);

}  // namespace hw::passes::lm

namespace hw::passes::lm {

struct LmLowerOptions {
  int streams = 0;           // S; 0: the smallest S that fits the longest feedback loop
  int adders_per_stage = 1;  // K
  double clock_ns = 0;       // > 0: a clock target instead of K (ir2/timing.h)
  bool asic = false;         // with clock_ns: the asic delay model instead of the fpga one
  hw::ir2::AsicLibrary asic_library{};
  arith::CmvmOptions cmvm;
};

// Ports of the lowered model (also written to interface.json by the CLI):
//   inputs  prompt_valid (u1): this slot's token comes from prompt_token instead of the stream's last output
//           prompt_first (u1): with prompt_valid, the first token of a new prompt (position 0, the stream
//                              becomes live and its random state is seeded from `seed`)
//           prompt_token, seed (u32), greedy (u1: argmax instead of sampling)
//   outputs token (the chosen next token), token_valid (the stream was live and its context not full),
//           stream, position (of the token that was fed), done (this was the context's last position),
//           tap_<value> (the sum of a residual-stream value's elements, for locating a mismatch)
// Token slot n belongs to stream n mod S. Per-stream state: pos, live, last, rng and the K/V rows of every
// position of every attention op.
// The pipeline options (K or the clock target and its delay model) of `o`.
passes::ir2::PassOptions PassOptionsOf(const LmLowerOptions& o);
inline hw::ir2::TimingModel Timing(const LmLowerOptions& o) { return PassOptionsOf(o).Timing(); }

hw::ir2::Graph LowerLmModel(const model::LmModel& m, const LmLowerOptions& options);

}  // namespace hw::passes::lm
