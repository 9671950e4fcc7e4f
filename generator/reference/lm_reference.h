// Bit-exact integer reference for graph models (docs/semantics.md, "Language-model ops"): one stream steps
// token by token with its own KV cache, exactly as a stream slot of the hardware will. Computed from the
// model's tensors directly. No floating point is used in the forward pass (only in CrossEntropy, which
// measures the model).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/lm_model.h"

namespace hw::reference {

// The integer kernels of docs/semantics.md ("Language-model ops"), exposed for tests and worked examples.
namespace kernels {
// (acc * m + 2^(s-1)) >> s, or acc * m when s = 0.
int64_t Requant(int64_t acc, int64_t m, int64_t s);
// rmsnorm of x with the 192-entry rsqrt table and F = frac_bits, clamped to [lo, hi].
std::vector<int64_t> RmsNorm(const std::vector<int64_t>& x, const std::vector<int64_t>& rsqrt, int frac_bits, int64_t lo, int64_t hi);
// exp2[u mod 2^g] >> min(u >> g, 31).
int64_t Exp2Weight(const std::vector<int64_t>& exp2, int g, int64_t u);
// Fixed-point probabilities p_j (units of 2^-prob_bits) of scores s_j: max-subtract, scale (m, s), exp2, sum,
// reciprocal by table.
std::vector<int64_t> Probabilities(const std::vector<int64_t>& scores, int64_t m, int64_t s, const std::vector<int64_t>& exp2,
                                   int g, const std::vector<int64_t>& reciprocal, int prob_bits);
}  // namespace kernels

// One stream: its position and the K/V rows of every position it has seen, per attention op.
class LmStream {
 public:
  explicit LmStream(const model::LmModel& m);
  // Feeds `token` at position position() and evaluates every op. Returns the logits (the sample op's input).
  // Throws hw::Error if the context is full or the token is out of range.
  const std::vector<int64_t>& Step(int token);
  int position() const { return position_; }
  bool full() const { return position_ >= model_->context; }
  // The value of `id` (see LmModel::values) computed by the last Step.
  const std::vector<int64_t>& value(int id) const { return values_[id]; }
  void Reset() { position_ = 0; }

 private:
  const model::LmModel* model_;
  int position_ = 0;
  std::vector<std::vector<int64_t>> values_;
  std::vector<std::vector<int64_t>> k_cache_, v_cache_;  // per op (empty for non-attention ops)
};

// Per-stream random generator state for sampling (docs/semantics.md, "sample"): xorshift32 seeded from
// (seed, stream); never 0.
uint32_t SeedState(uint64_t seed, int stream);
uint32_t Xorshift32(uint32_t x);

// The next token from `logits`: argmax (lowest index on ties) when `state` is null, otherwise sampled from
// the integer softmax, advancing *state once.
int ChooseToken(const model::LmOp& sample, const std::vector<int64_t>& logits, uint32_t* state);

// Symbols -> token ids. Throws hw::Error naming `source` and the character position for unknown symbols.
std::vector<int> Encode(const model::LmModel& m, const std::string& text, const std::string& source);
std::string Decode(const model::LmModel& m, const std::vector<int>& ids);

struct Generation {
  std::vector<int> prompt, generated;
  bool context_full = false;
};

// Runs several streams, one token each in round-robin order (as the chip interleaves them), until each has
// `max_tokens` new tokens or its context is full. Greedy when `seed` is empty; stream i samples with
// SeedState(*seed, i).
std::vector<Generation> Generate(const model::LmModel& m, const std::vector<std::vector<int>>& prompts, int max_tokens,
                                 std::optional<uint64_t> seed);

// Mean -ln p(target) in nats over every position of `windows` (each of context+1 tokens at most: inputs are
// all but the last, targets all but the first), with p the softmax of logits * M / 2^S / 2^G * ln 2 (the
// sample op's scale). If `logits_out` is set, every logit of every position is appended (row per position).
double CrossEntropy(const model::LmModel& m, const std::vector<std::vector<int>>& windows,
                    std::vector<std::vector<int64_t>>* logits_out = nullptr);

}  // namespace hw::reference
