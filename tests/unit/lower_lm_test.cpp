// LM op lowering to IR v2: every builder, run by the IR interpreter, equals the C++ reference kernels on
// random inputs (ops taken from a random language model).
#include "passes/lower_lm.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "ir2/interpreter.h"
#include "ir2/text.h"
#include "model/lm_model_io.h"
#include "model/random_lm.h"
#include "passes/ir2_passes.h"
#include "reference/lm_reference.h"

namespace hw::passes::lm {
namespace {

using model::LmModel;
using model::LmOp;

LmModel Model(uint64_t seed) {
  const model::RandomLmFiles f = model::RandomLm(model::RandomLmSpec{}, seed);
  return model::ParseLmModel(f.manifest, "lm.json", model::SerializeSafetensors(f.tensors), "lm.safetensors");
}
const LmOp& OpNamed(const LmModel& m, const std::string& n) {
  for (const LmOp& op : m.ops)
    if (op.name == n) return op;
  throw std::runtime_error("no op " + n);
}

// A graph with `n` signed inputs of `bits` bits, built by `body`, lowered with K = 2.
struct Harness {
  hw::ir2::Graph g;
  Harness(int n, int bits, const std::function<UseVec(Builder&, const UseVec&)>& body) {
    g.name = "t";
    g.streams = 1;
    Builder b(g);
    UseVec in;
    for (int i = 0; i < n; ++i) in.push_back(b.Input("x" + std::to_string(i), bits, true));
    const UseVec out = body(b, in);
    for (size_t i = 0; i < out.size(); ++i) b.Output("y" + std::to_string(i), out[i]);
    passes::ir2::PassManager pm(passes::ir2::DefaultPipeline(), {2});
    pm.Run(g);
  }
  std::vector<int64_t> Run(const std::vector<int64_t>& x) {
    hw::ir2::Interpreter in(g);
    return in.Step(x);
  }
};

std::vector<int64_t> Random(std::mt19937_64& rng, int n, int64_t lo, int64_t hi) {
  std::vector<int64_t> v(n);
  for (auto& x : v) x = std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  return v;
}

TEST(LowerLm, RmsNormEqualsTheKernel) {
  const LmModel m = Model(1);
  const LmOp& op = OpNamed(m, "b0_norm1");
  Harness h(16, 8, [&](Builder& b, const UseVec& x) { return LowerRmsNorm(b, op, x); });
  std::mt19937_64 rng(1);
  for (int t = 0; t < 300; ++t) {
    const int64_t amp = t % 4 == 0 ? 1 : t % 4 == 1 ? 5 : 128;  // tiny, small and full-range vectors
    std::vector<int64_t> x = Random(rng, 16, -amp, std::min<int64_t>(amp, 127));
    if (t == 0) std::fill(x.begin(), x.end(), 0);
    EXPECT_EQ(h.Run(x), reference::kernels::RmsNorm(x, op.table, op.frac_bits, op.lo, op.hi)) << "vector " << t;
  }
}

TEST(LowerLm, DenseThroughCmvmEqualsTheMatrixProduct) {
  const LmModel m = Model(2);
  for (const char* name : {"b0_q", "b0_ffn2", "logits"}) {
    const LmOp& op = OpNamed(m, name);
    Harness h(op.in_length, 8, [&](Builder& b, const UseVec& x) { return LowerDense(b, op, x, arith::CmvmOptions{}); });
    std::mt19937_64 rng(2);
    for (int t = 0; t < 100; ++t) {
      const std::vector<int64_t> x = Random(rng, op.in_length, -128, 127);
      std::vector<int64_t> want(op.length);
      for (int r = 0; r < op.length; ++r) {
        int64_t acc = 0;
        for (int c = 0; c < op.in_length; ++c) acc += op.weight[static_cast<size_t>(r) * op.in_length + c] * x[c];
        want[r] = std::clamp(reference::kernels::Requant(acc, op.requant.M(r), op.requant.S(r)), op.lo, op.hi);
      }
      EXPECT_EQ(h.Run(x), want) << name << " vector " << t;
    }
  }
}

TEST(LowerLm, ProbabilitiesEqualTheKernelUnderTheCausalMask) {
  const LmModel m = Model(3);
  const LmOp& op = OpNamed(m, "b0_attn");
  const int n = 8;
  // inputs: 8 scores (20-bit) and the current position (as a 20-bit value too)
  Harness h(n + 1, 20, [&](Builder& b, const UseVec& x) {
    UseVec scores(x.begin(), x.begin() + n), valid;
    for (int j = 0; j < n; ++j) valid.push_back(b.Cmp(b.Const(j), x[n], "le"));
    return LowerProbabilities(b, op, scores, valid);
  });
  std::mt19937_64 rng(3);
  for (int t = 0; t < 300; ++t) {
    const int pos = t % n;
    std::vector<int64_t> x = Random(rng, n, -30000, 30000);
    if (t % 3 == 0) x = Random(rng, n, -40, 40);
    std::vector<int64_t> valid_scores(x.begin(), x.begin() + pos + 1);
    std::vector<int64_t> want = reference::kernels::Probabilities(valid_scores, op.score.M(0), op.score.S(0), op.table, op.exp_frac_bits,
                                                                  op.reciprocal, op.prob_bits);
    want.resize(n, 0);
    x.push_back(pos);
    EXPECT_EQ(h.Run(x), want) << "vector " << t;
  }
}

TEST(LowerLm, GreedyAndSampledChoicesEqualTheReference) {
  const LmModel m = Model(4);
  const LmOp& s = m.sample();
  const int v = m.vocab_size();
  Harness h(v + 1, 33, [&](Builder& b, const UseVec& x) {
    UseVec logits(x.begin(), x.begin() + v);
    return UseVec{LowerArgmax(b, logits), LowerSampled(b, s, logits, b.Clamp(x[v], 0, 0xFFFFFFFFll))};
  });
  std::mt19937_64 rng(4);
  for (int t = 0; t < 500; ++t) {
    std::vector<int64_t> logits = Random(rng, v, -2048, 2047);
    if (t % 5 == 0) logits[t % v] = logits[(t + 1) % v] = 2047;  // ties
    uint32_t state = reference::SeedState(static_cast<uint64_t>(t), t % 3);
    const int greedy = reference::ChooseToken(s, logits, nullptr);
    const int sampled = reference::ChooseToken(s, logits, &state);  // advances state, then draws with it
    std::vector<int64_t> x = logits;
    x.push_back(state);
    EXPECT_EQ(h.Run(x), (std::vector<int64_t>{greedy, sampled})) << "case " << t;
  }
}

TEST(LowerLm, Xorshift32EqualsTheReference) {
  Harness h(1, 33, [&](Builder& b, const UseVec& x) { return UseVec{LowerXorshift32(b, b.Clamp(x[0], 0, 0xFFFFFFFFll))}; });
  uint32_t s = 1;
  for (int t = 0; t < 200; ++t) {
    EXPECT_EQ(h.Run({s}), (std::vector<int64_t>{reference::Xorshift32(s)}));
    s = reference::Xorshift32(s) ^ static_cast<uint32_t>(t * 2654435761u);
  }
}

TEST(LowerLm, EmbeddingTableAndAdd) {
  const LmModel m = Model(5);
  const LmOp& emb = OpNamed(m, "tok_emb");
  const LmOp& act = OpNamed(m, "b0_act");
  const LmOp& add = OpNamed(m, "x0");
  Harness h(1 + 16, 9, [&](Builder& b, const UseVec& x) {
    UseVec e = LowerEmbedding(b, emb, x[0]);
    UseVec z(x.begin() + 1, x.end());
    UseVec s = LowerAdd(b, add, e, z);
    UseVec clamped;
    for (const Use& u : s) clamped.push_back(u);
    UseVec out = LowerTable(b, act, clamped);
    out.insert(out.end(), s.begin(), s.end());
    return out;
  });
  std::mt19937_64 rng(5);
  for (int t = 0; t < 100; ++t) {
    const int tok = t % m.vocab_size();
    std::vector<int64_t> z = Random(rng, 16, -128, 127), x = {tok};
    x.insert(x.end(), z.begin(), z.end());
    std::vector<int64_t> s(16), a(16);
    for (int i = 0; i < 16; ++i) {
      s[i] = std::clamp(emb.table[static_cast<size_t>(tok) * 16 + i] + z[i], add.lo, add.hi);
      a[i] = act.table[s[i] - act.input_lo];
    }
    a.insert(a.end(), s.begin(), s.end());
    EXPECT_EQ(h.Run(x), a) << "token " << tok;
  }
}

}  // namespace
}  // namespace hw::passes::lm
