#include "reference/lm_reference.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "common/diag.h"

namespace hw::reference {

using model::LmModel;
using model::LmOp;
using model::LmOpKind;

namespace kernels {

int64_t Requant(int64_t acc, int64_t m, int64_t s) {
  const int64_t p = acc * m;
  return s > 0 ? (p + (int64_t{1} << (s - 1))) >> s : p;
}

int64_t Exp2Weight(const std::vector<int64_t>& exp2, int g, int64_t u) {
  const int64_t frac = u & ((int64_t{1} << g) - 1);
  const int64_t whole = std::min<int64_t>(u >> g, 31);  // entries are <= 2^15: a shift of 16 or more gives 0
  return exp2[frac] >> whole;
}

std::vector<int64_t> RmsNorm(const std::vector<int64_t>& x, const std::vector<int64_t>& rsqrt, int frac_bits, int64_t lo, int64_t hi) {
  int64_t ss = 0;
  for (int64_t v : x) ss += v * v;
  std::vector<int64_t> y(x.size(), std::clamp<int64_t>(0, lo, hi));
  if (ss == 0) return y;
  int e = static_cast<int>(std::bit_width(static_cast<uint64_t>(ss))) - 8;
  if (e & 1) ++e;  // even, so that the square root of 2^e is a shift
  const int64_t m = e >= 0 ? ss >> e : ss << -e;  // 64 <= m < 256
  const int64_t r = rsqrt[m - 64];
  const int t = frac_bits + e / 2;
  for (size_t i = 0; i < x.size(); ++i) y[i] = std::clamp((x[i] * r + (int64_t{1} << (t - 1))) >> t, lo, hi);
  return y;
}

std::vector<int64_t> Probabilities(const std::vector<int64_t>& scores, int64_t m, int64_t s, const std::vector<int64_t>& exp2,
                                   int g, const std::vector<int64_t>& reciprocal, int prob_bits) {
  const int64_t mx = *std::max_element(scores.begin(), scores.end());
  std::vector<int64_t> e(scores.size());
  int64_t total = 0;
  for (size_t j = 0; j < scores.size(); ++j) total += e[j] = Exp2Weight(exp2, g, Requant(mx - scores[j], m, s));
  const int b = static_cast<int>(std::bit_width(static_cast<uint64_t>(total)));
  const int64_t mant = b >= 9 ? total >> (b - 9) : total << (9 - b);  // 256 <= mant < 512
  const int64_t rc = reciprocal[mant - 256];
  const int sh = b + 15 - prob_bits;
  for (int64_t& v : e) v = (v * rc + (int64_t{1} << (sh - 1))) >> sh;
  return e;
}

}  // namespace kernels

using kernels::Requant;

LmStream::LmStream(const LmModel& m) : model_(&m), values_(m.values.size()), k_cache_(m.ops.size()), v_cache_(m.ops.size()) {
  for (size_t i = 0; i < m.values.size(); ++i) values_[i].assign(m.values[i].length, 0);
  for (size_t i = 0; i < m.ops.size(); ++i)
    if (m.ops[i].kind == LmOpKind::kAttention) {
      k_cache_[i].assign(static_cast<size_t>(m.context) * m.ops[i].length, 0);
      v_cache_[i].assign(static_cast<size_t>(m.context) * m.ops[i].length, 0);
    }
}

const std::vector<int64_t>& LmStream::Step(int token) {
  const LmModel& m = *model_;
  if (full()) throw Error(Location{m.manifest_path, "", "context"}, fmt::format("the stream's context of {} tokens is full", m.context));
  if (token < 0 || token >= m.vocab_size()) throw Error(Location{m.manifest_path, "", "vocab"}, fmt::format("token id {} out of range", token));
  const int t = position_;
  values_[0][0] = token;
  values_[1][0] = t;
  int vid = 2;
  for (size_t oi = 0; oi < m.ops.size(); ++oi) {
    const LmOp& op = m.ops[oi];
    if (op.kind == LmOpKind::kSample) break;
    std::vector<int64_t>& y = values_[vid++];
    switch (op.kind) {
      case LmOpKind::kEmbedding: {
        const int64_t row = values_[op.inputs[0]][0];
        std::copy_n(op.table.begin() + row * op.length, op.length, y.begin());
        break;
      }
      case LmOpKind::kAdd: {
        const auto &a = values_[op.inputs[0]], &b = values_[op.inputs[1]];
        for (int i = 0; i < op.length; ++i) y[i] = std::clamp(a[i] + b[i], op.lo, op.hi);
        break;
      }
      case LmOpKind::kRmsNorm:
        y = kernels::RmsNorm(values_[op.inputs[0]], op.table, op.frac_bits, op.lo, op.hi);
        break;
      case LmOpKind::kDense: {
        const auto& x = values_[op.inputs[0]];
        for (int r = 0; r < op.length; ++r) {
          const int64_t* w = op.weight.data() + static_cast<size_t>(r) * op.in_length;
          int64_t acc = 0;
          for (int c = 0; c < op.in_length; ++c) acc += w[c] * x[c];
          y[r] = std::clamp(Requant(acc, op.requant.M(r), op.requant.S(r)), op.lo, op.hi);
        }
        break;
      }
      case LmOpKind::kAttention: {
        const auto &q = values_[op.inputs[0]], &k = values_[op.inputs[1]], &v = values_[op.inputs[2]];
        const int len = op.length, hd = len / op.heads;
        std::copy(k.begin(), k.end(), k_cache_[oi].begin() + static_cast<size_t>(t) * len);
        std::copy(v.begin(), v.end(), v_cache_[oi].begin() + static_cast<size_t>(t) * len);
        std::vector<int64_t> s(t + 1);
        for (int h = 0; h < op.heads; ++h) {
          for (int j = 0; j <= t; ++j) {
            const int64_t* kj = k_cache_[oi].data() + static_cast<size_t>(j) * len + h * hd;
            int64_t acc = 0;
            for (int d = 0; d < hd; ++d) acc += q[h * hd + d] * kj[d];
            s[j] = acc;
          }
          const std::vector<int64_t> p =
              kernels::Probabilities(s, op.score.M(0), op.score.S(0), op.table, op.exp_frac_bits, op.reciprocal, op.prob_bits);
          for (int d = 0; d < hd; ++d) y[h * hd + d] = 0;
          for (int j = 0; j <= t; ++j) {
            const int64_t* vj = v_cache_[oi].data() + static_cast<size_t>(j) * len + h * hd;
            for (int d = 0; d < hd; ++d) y[h * hd + d] += p[j] * vj[d];
          }
          for (int d = 0; d < hd; ++d)
            y[h * hd + d] = std::clamp(Requant(y[h * hd + d], op.requant.M(0), op.requant.S(0)), op.lo, op.hi);
        }
        break;
      }
      case LmOpKind::kTable: {
        const auto& x = values_[op.inputs[0]];
        for (int i = 0; i < op.length; ++i) y[i] = op.table[x[i] - op.input_lo];
        break;
      }
      case LmOpKind::kSample:
        break;
    }
  }
  ++position_;
  return values_[m.sample().inputs[0]];
}

uint32_t Xorshift32(uint32_t x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

uint32_t SeedState(uint64_t seed, int stream) {
  const uint32_t s = static_cast<uint32_t>(seed) ^ (static_cast<uint32_t>(stream + 1) * 0x9E3779B9u);
  return s != 0 ? s : 0x6D2B79F5u;
}

int ChooseToken(const LmOp& sample, const std::vector<int64_t>& logits, uint32_t* state) {
  const auto mx_it = std::max_element(logits.begin(), logits.end());  // first maximum: lowest index on ties
  if (!state) return static_cast<int>(mx_it - logits.begin());
  const int64_t mx = *mx_it;
  std::vector<int64_t> e(logits.size());
  int64_t total = 0;
  for (size_t j = 0; j < logits.size(); ++j) total += e[j] = kernels::Exp2Weight(sample.table, sample.exp_frac_bits, Requant(mx - logits[j], sample.score.M(0), sample.score.S(0)));
  *state = Xorshift32(*state);
  const int64_t threshold = static_cast<int64_t>((static_cast<uint64_t>(*state) * static_cast<uint64_t>(total)) >> 32);
  int64_t acc = 0;
  for (size_t j = 0; j < e.size(); ++j)
    if ((acc += e[j]) > threshold) return static_cast<int>(j);
  HW_CHECK(false, "sampling threshold beyond the sum of weights");
  return 0;
}

std::vector<int> Encode(const LmModel& m, const std::string& text, const std::string& source) {
  std::vector<int> ids;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto it = std::find(m.vocab.begin(), m.vocab.end(), std::string(1, text[i]));
    if (it == m.vocab.end()) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      const std::string shown = c >= 32 && c < 127 ? fmt::format("'{}'", text[i]) : fmt::format("byte 0x{:02x}", c);
      throw Error(Location{source, "", ""}, fmt::format("character {} at offset {} is not in the model's vocabulary", shown, i));
    }
    ids.push_back(static_cast<int>(it - m.vocab.begin()));
  }
  return ids;
}

std::string Decode(const LmModel& m, const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += m.vocab.at(id);
  return s;
}

std::vector<Generation> Generate(const LmModel& m, const std::vector<std::vector<int>>& prompts, int max_tokens,
                                 std::optional<uint64_t> seed) {
  const size_t n = prompts.size();
  std::vector<Generation> out(n);
  std::vector<LmStream> streams(n, LmStream(m));
  std::vector<uint32_t> state(n);
  std::vector<size_t> fed(n, 0);
  std::vector<int> next(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const Location where{fmt::format("--prompt {}", i + 1), "", ""};
    if (prompts[i].empty()) throw Error(where, "the prompt is empty (a stream starts from at least one token)");
    if (static_cast<int>(prompts[i].size()) > m.context)
      throw Error(where, fmt::format("the prompt has {} tokens; the model's context is {}", prompts[i].size(), m.context));
    out[i].prompt = prompts[i];
    if (seed) state[i] = SeedState(*seed, static_cast<int>(i));
  }
  auto active = [&](size_t i) { return static_cast<int>(out[i].generated.size()) < max_tokens && !out[i].context_full; };
  for (bool any = true; any;) {
    any = false;
    for (size_t i = 0; i < n; ++i) {  // one token of each active stream per round, like the chip's slots
      if (!active(i)) continue;
      any = true;
      const int token = fed[i] < prompts[i].size() ? prompts[i][fed[i]] : next[i];
      ++fed[i];
      const std::vector<int64_t>& logits = streams[i].Step(token);
      // Every step chooses a token (so the random state advances once per step, as in the chip, which cannot
      // tell a prompt's last token from the others); during prefill the choice is discarded.
      const int chosen = ChooseToken(m.sample(), logits, seed ? &state[i] : nullptr);
      if (fed[i] < prompts[i].size()) continue;
      next[i] = chosen;
      out[i].generated.push_back(next[i]);
      if (streams[i].full()) out[i].context_full = true;
    }
  }
  return out;
}

double CrossEntropy(const LmModel& m, const std::vector<std::vector<int>>& windows, std::vector<std::vector<int64_t>>* logits_out) {
  const LmOp& s = m.sample();
  const double scale = static_cast<double>(s.score.M(0)) / std::ldexp(1.0, static_cast<int>(s.score.S(0)) + s.exp_frac_bits) * std::log(2.0);
  double total = 0;
  int64_t count = 0;
  LmStream stream(m);
  std::vector<double> z(m.vocab_size());
  for (const std::vector<int>& w : windows) {
    stream.Reset();
    for (size_t j = 0; j + 1 < w.size(); ++j) {
      const std::vector<int64_t>& logits = stream.Step(w[j]);
      if (logits_out) logits_out->push_back(logits);
      const int64_t mx = *std::max_element(logits.begin(), logits.end());
      double sum = 0;
      for (size_t c = 0; c < logits.size(); ++c) sum += std::exp(static_cast<double>(logits[c] - mx) * scale);
      total -= static_cast<double>(logits[w[j + 1]] - mx) * scale - std::log(sum);
      ++count;
    }
  }
  return count ? total / static_cast<double>(count) : 0.0;
}

}  // namespace hw::reference
