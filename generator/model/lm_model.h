// In-memory form of a graph model (manifest version 2, docs/model-format.md "Graph models"): a token-level
// network such as the tiny language model, written as a list of ops over named integer vectors.
// What each op computes is defined in docs/semantics.md ("Language-model ops").
#pragma once

#include <cstdint>
#include <string>
#include <vector>


namespace hw::model {

enum class LmOpKind { kEmbedding, kAdd, kRmsNorm, kDense, kAttention, kTable, kSample };
const char* ToString(LmOpKind k);

// Built-in values every graph model can read: the current token id and its position in the stream.
inline constexpr const char* kTokenValue = "token";
inline constexpr const char* kPositionValue = "position";

// An integer (M, S) pair: requant(acc) = (acc * M + 2^(S-1)) >> S (S = 0: acc * M), docs/semantics.md.
struct Requant {
  std::vector<int64_t> multiplier;  // one per channel, or a single value for all
  std::vector<int64_t> shift;
  int64_t M(size_t c) const { return multiplier.size() == 1 ? multiplier[0] : multiplier[c]; }
  int64_t S(size_t c) const { return shift.size() == 1 ? shift[0] : shift[c]; }
};

struct LmOp {
  LmOpKind kind = LmOpKind::kAdd;
  std::string name;               // also the name of the value it defines
  std::vector<int> inputs;        // value ids (see LmModel::values); attention: q, k, v
  int length = 0;                 // elements of the output vector (sample: 1)
  int64_t lo = 0, hi = 0;         // output range (clamp bounds, or the table's range)
  // embedding: table [rows, length]; table: lookup [hi_in - lo_in + 1]; rmsnorm: rsqrt [192];
  // attention / sample: exp2 [2^G]; attention: reciprocal [256].
  std::vector<int64_t> table;
  int table_rows = 0;             // embedding
  std::vector<int64_t> weight;    // dense, row-major [length, in_length]
  int in_length = 0;              // dense
  int weight_bits = 0;
  Requant requant;                // dense (per channel), attention output (scalar)
  Requant score;                  // attention / sample: (max - s) -> exp2 argument, scalar
  std::vector<int64_t> reciprocal;
  int frac_bits = 0;              // rmsnorm F
  int exp_frac_bits = 0;          // G = log2(exp2 table size)
  int prob_bits = 0;              // attention P
  int heads = 0;
  int64_t input_lo = 0;           // table: the input's lowest value (index offset)
};

struct LmValue {
  std::string name;
  int length = 0;
  int64_t lo = 0, hi = 0;
  int producer = -1;  // op index; -1 for token / position
};

struct LmModel {
  std::string name;
  std::string manifest_path;
  std::string tensors_file;
  std::vector<std::string> vocab;  // token id -> symbol (one character each)
  int context = 0;                 // positions 0 .. context-1
  std::vector<LmValue> values;     // 0 = token, 1 = position, then one per op (except sample)
  std::vector<LmOp> ops;           // in evaluation order; the last one is the sample op
  int output_op = -1;              // index of the sample op

  int vocab_size() const { return static_cast<int>(vocab.size()); }
  const LmOp& sample() const { return ops[output_op]; }
  int ValueId(const std::string& name) const;  // -1 if absent
  // The residual stream where a norm reads it (the embedding sum, and the add closing each half-block), for taps.
  std::vector<int> BlockBoundaries() const;
  // Number of weights in dense matrices.
  int64_t MatrixWeights() const;
};

}  // namespace hw::model
