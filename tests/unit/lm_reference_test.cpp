// The integer language-model reference: docs/semantics.md's worked examples, and generation properties.
#include "reference/lm_reference.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/diag.h"
#include "model/lm_model_io.h"
#include "model/random_lm.h"

namespace hw::reference {
namespace {

using model::LmModel;

std::vector<int64_t> Exp2Table() {
  std::vector<int64_t> t;
  for (int f = 0; f < 64; ++f) t.push_back(std::llround(32768.0 * std::pow(2.0, -f / 64.0)));
  return t;
}
std::vector<int64_t> ReciprocalTable() {
  std::vector<int64_t> t;
  for (int i = 0; i < 256; ++i) t.push_back(std::llround(std::ldexp(1.0, 24) / (256 + i + 0.5)));
  return t;
}

TEST(LmKernels, RmsNormWorkedExamples) {
  std::vector<int64_t> r;
  for (int j = 0; j < 192; ++j) r.push_back(std::llround(std::ldexp(64.0, 13) / std::sqrt(64 + j + 0.5)));
  EXPECT_EQ(r[0], 65281);
  EXPECT_EQ(r[105], 40270);
  EXPECT_EQ(kernels::RmsNorm({3, -4, 12, 0}, r, 13, -128, 127), (std::vector<int64_t>{15, -20, 59, 0}));
  EXPECT_EQ(kernels::RmsNorm({100, -50, 30, 7}, r, 13, -128, 127), (std::vector<int64_t>{55, -28, 17, 4}));
  EXPECT_EQ(kernels::RmsNorm({1, 0, 0, 0}, r, 13, -128, 127), (std::vector<int64_t>{64, 0, 0, 0}));
  EXPECT_EQ(kernels::RmsNorm({0, 0, 0, 0}, r, 13, -128, 127), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(kernels::RmsNorm({3, -4, 12, 0}, r, 13, -10, 10), (std::vector<int64_t>{10, -10, 10, 0}));
}

TEST(LmKernels, ProbabilitiesWorkedExample) {
  const auto x = Exp2Table(), c = ReciprocalTable();
  EXPECT_EQ(x[23], 25543);
  EXPECT_EQ(c[94], 47867);
  EXPECT_EQ(kernels::Probabilities({40, 10, 35}, 3, 2, x, 6, c, 12), (std::vector<int64_t>{1496, 1166, 1432}));
  // One position: all the mass on it (up to the reciprocal table's midpoint rounding).
  EXPECT_EQ(kernels::Probabilities({-7}, 3, 2, x, 6, c, 12), (std::vector<int64_t>{4088}));
  // Far below the maximum: exp2 underflows to exactly 0.
  EXPECT_EQ(kernels::Probabilities({0, -100000}, 3, 2, x, 6, c, 12)[1], 0);
}

TEST(LmKernels, XorshiftAndSeeds) {
  EXPECT_EQ(Xorshift32(1), 270369u);
  EXPECT_EQ(SeedState(1, 0), 0x9E3779B8u);
  EXPECT_EQ(Xorshift32(0x9E3779B8u), 1359504952u);
  EXPECT_NE(SeedState(0x9E3779B9u, 0), 0u);  // the zero state is replaced
}

TEST(LmKernels, SampleWorkedExample) {
  model::LmOp s;
  s.kind = model::LmOpKind::kSample;
  s.table = Exp2Table();
  s.exp_frac_bits = 6;
  s.score.multiplier = {23};
  s.score.shift = {2};
  EXPECT_EQ(ChooseToken(s, {5, 9, 9, -3}, nullptr), 1);
  uint32_t state = SeedState(1, 0);
  EXPECT_EQ(ChooseToken(s, {5, 9, 9, -3}, &state), 1);
  EXPECT_EQ(state, 1359504952u);
}

LmModel RandomModel(uint64_t seed, model::RandomLmSpec spec = {}) {
  const model::RandomLmFiles f = model::RandomLm(spec, seed);
  return model::ParseLmModel(f.manifest, "lm.json", model::SerializeSafetensors(f.tensors), "lm.safetensors");
}

TEST(LmReference, InterleavedStreamsEqualStreamsAlone) {
  const LmModel m = RandomModel(5);
  const std::vector<std::vector<int>> prompts = {{1, 2, 3}, {4}, {5, 6, 7, 8, 9}, {0, 0}};
  for (std::optional<uint64_t> seed : {std::optional<uint64_t>(), std::optional<uint64_t>(42)}) {
    const auto together = Generate(m, prompts, 100, seed);
    for (size_t i = 0; i < prompts.size(); ++i) {
      // Alone, stream i must use stream i's random state: run it as the i-th of i+1 streams with the others
      // given one-token prompts and asked for nothing more than they produce.
      const auto alone = Generate(m, {prompts[i]}, 100, seed ? std::optional<uint64_t>(*seed ^ ((0u + 1) * 0x9E3779B9u) ^ ((i + 1) * 0x9E3779B9u)) : seed);
      EXPECT_EQ(alone[0].generated, together[i].generated) << "stream " << i;
      EXPECT_TRUE(together[i].context_full);
      EXPECT_EQ(together[i].prompt.size() + together[i].generated.size(), static_cast<size_t>(m.context) + 1);
    }
  }
}

TEST(LmReference, GreedyIsArgmaxOfTheLogits) {
  const LmModel m = RandomModel(6);
  LmStream s(m);
  const auto gen = Generate(m, {{3}}, 1, std::nullopt);
  const std::vector<int64_t> logits = s.Step(3);
  int best = 0;
  for (size_t j = 1; j < logits.size(); ++j)
    if (logits[j] > logits[best]) best = static_cast<int>(j);
  EXPECT_EQ(gen[0].generated[0], best);
}

TEST(LmReference, SamplingFollowsTheIntegerSoftmax) {
  // Over many successive draws of one stream's generator, token frequencies follow e_j / E.
  const LmModel m = RandomModel(7);
  LmStream s(m);
  const std::vector<int64_t> logits = s.Step(2);
  const model::LmOp& op = m.sample();
  std::vector<double> e(logits.size());
  double total = 0;
  const int64_t mx = *std::max_element(logits.begin(), logits.end());
  for (size_t j = 0; j < e.size(); ++j)
    total += e[j] = static_cast<double>(kernels::Exp2Weight(op.table, op.exp_frac_bits, kernels::Requant(mx - logits[j], op.score.M(0), op.score.S(0))));
  std::vector<int> count(logits.size());
  const int n = 20000;
  uint32_t st = SeedState(11, 0);
  for (int i = 0; i < n; ++i) ++count[ChooseToken(op, logits, &st)];
  for (size_t j = 0; j < e.size(); ++j) {
    const double p = e[j] / total;
    EXPECT_NEAR(count[j] / static_cast<double>(n), p, 5 * std::sqrt(p * (1 - p) / n) + 1e-3) << "token " << j;
  }
}

TEST(LmReference, RefusesBadPromptsAndFullContexts) {
  const LmModel m = RandomModel(8);
  EXPECT_THROW(Encode(m, "abz!", "--prompt 1"), Error);
  try {
    Encode(m, "ab!", "--prompt 1");
  } catch (const Error& e) {
    EXPECT_NE(e.messages()[0].find("--prompt 1: character '!' at offset 2 is not in the model's vocabulary"), std::string::npos)
        << e.messages()[0];
  }
  EXPECT_THROW(Generate(m, {std::vector<int>(9, 1)}, 4, std::nullopt), Error);  // longer than the context (8)
  EXPECT_THROW(Generate(m, {{}}, 4, std::nullopt), Error);
  LmStream s(m);
  for (int i = 0; i < m.context; ++i) s.Step(1);
  EXPECT_THROW(s.Step(1), Error);
  LmStream t(m);
  EXPECT_THROW(t.Step(m.vocab_size()), Error);
}

TEST(LmReference, CrossEntropyOfAUniformModelIsLogVocab) {
  // With every logit equal, p = 1/vocab at every position.
  LmModel m = RandomModel(9);
  for (model::LmOp& op : m.ops)
    if (op.name == "logits") std::fill(op.weight.begin(), op.weight.end(), 0);
  const double ce = CrossEntropy(m, {{1, 2, 3, 4, 5}, {0, 0, 0}});
  EXPECT_NEAR(ce, std::log(12.0), 1e-12);
}

}  // namespace
}  // namespace hw::reference
