#include "model/random_lm.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <random>

#include "common/file_util.h"

namespace hw::model {

using json = nlohmann::json;

namespace {

Tensor Make(std::vector<int64_t> shape, std::vector<int64_t> values) {
  Tensor t;
  t.shape = std::move(shape);
  t.dtype = SmallestSignedDType(values);
  t.values = std::move(values);
  return t;
}

}  // namespace

RandomLmFiles RandomLm(const RandomLmSpec& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uni = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  RandomLmFiles out;
  TensorMap& t = out.tensors;
  json ops = json::array();
  const int64_t wmax = (int64_t{1} << (s.weight_bits - 1)) - 1;
  auto random_vec = [&](size_t n, int64_t lo, int64_t hi) {
    std::vector<int64_t> v(n);
    for (auto& x : v) x = uni(lo, hi);
    return v;
  };
  // (M, S) ~ 1 / (scale): M in [2^14, 2^15), S so that M / 2^S ~ target.
  auto ms = [&](double target) {
    int sh = 14 - static_cast<int>(std::floor(std::log2(target)));
    return std::pair<int64_t, int64_t>{uni(1 << 14, (1 << 15) - 1), std::clamp(sh, 0, 62)};
  };
  t["tok_emb"] = Make({s.vocab, s.d}, random_vec(static_cast<size_t>(s.vocab) * s.d, -100, 100));
  t["pos_emb"] = Make({s.context, s.d}, random_vec(static_cast<size_t>(s.context) * s.d, -30, 30));
  std::vector<int64_t> exp2, recip;
  for (int f = 0; f < 64; ++f) exp2.push_back(std::llround(32768.0 * std::pow(2.0, -f / 64.0)));
  for (int i = 0; i < 256; ++i) recip.push_back(std::llround(std::ldexp(1.0, 24) / (256 + i + 0.5)));
  t["exp2"] = Make({64}, exp2);
  t["reciprocal"] = Make({256}, recip);
  ops.push_back({{"op", "embedding"}, {"name", "tok_emb"}, {"index", "token"}, {"table", {{"tensor", "tok_emb"}}}});
  ops.push_back({{"op", "embedding"}, {"name", "pos_emb"}, {"index", "position"}, {"table", {{"tensor", "pos_emb"}}}});
  ops.push_back({{"op", "add"}, {"name", "x0"}, {"inputs", {"tok_emb", "pos_emb"}}, {"clamp", {-128, 127}}});
  auto rmsnorm = [&](const std::string& name, const std::string& in) {
    std::vector<int64_t> table;
    const double c = std::sqrt(static_cast<double>(s.d)) * 40.0;  // normalised values ~ +-40
    const int f = static_cast<int>(std::floor(std::log2(65535.0 / (c / std::sqrt(64.5)))));
    for (int j = 0; j < 192; ++j) table.push_back(std::llround(std::ldexp(c, f) / std::sqrt(64 + j + 0.5)));
    t[name + ".rsqrt"] = Make({192}, table);
    ops.push_back({{"op", "rmsnorm"}, {"name", name}, {"input", in}, {"rsqrt", {{"tensor", name + ".rsqrt"}}},
                   {"frac_bits", f}, {"clamp", {-128, 127}}});
  };
  auto dense = [&](const std::string& name, const std::string& in, int rows, int cols, int out_bits) {
    t[name + ".weight"] = Make({rows, cols}, random_vec(static_cast<size_t>(rows) * cols, -wmax - 1, wmax));
    std::vector<int64_t> m, sh;
    for (int r = 0; r < rows; ++r) {
      auto [mm, ss] = ms(1.0 / (std::sqrt(static_cast<double>(cols)) * wmax * 0.6));
      m.push_back(mm);
      sh.push_back(ss);
    }
    t[name + ".multiplier"] = Make({rows}, m);
    t[name + ".shift"] = Make({rows}, sh);
    const int64_t hi = (int64_t{1} << (out_bits - 1)) - 1;
    ops.push_back({{"op", "dense"}, {"name", name}, {"input", in},
                   {"weight", {{"tensor", name + ".weight"}, {"encoding", "signed"}, {"bits", s.weight_bits}}},
                   {"requant", {{"multiplier", {{"tensor", name + ".multiplier"}}}, {"shift", {{"tensor", name + ".shift"}}}}},
                   {"clamp", {-hi - 1, hi}}});
  };
  std::string x = "x0";
  const int hd = s.d / s.heads;
  for (int b = 0; b < s.blocks; ++b) {
    const std::string p = fmt::format("b{}_", b);
    rmsnorm(p + "norm1", x);
    for (const char* n : {"q", "k", "v"}) dense(p + n, p + "norm1", s.d, s.d, 8);
    auto [sm, ss] = ms(64.0 / (std::sqrt(static_cast<double>(hd)) * 40 * 40) * uni(1, 8));
    auto [om, os] = ms(1.0 / 4096);
    ops.push_back({{"op", "attention"}, {"name", p + "attn"}, {"q", p + "q"}, {"k", p + "k"}, {"v", p + "v"},
                   {"heads", s.heads}, {"score", {{"multiplier", sm}, {"shift", ss}}}, {"exp2", {{"tensor", "exp2"}}},
                   {"reciprocal", {{"tensor", "reciprocal"}}}, {"prob_bits", 12},
                   {"requant", {{"multiplier", om}, {"shift", os}}}, {"clamp", {-128, 127}}});
    dense(p + "o", p + "attn", s.d, s.d, 8);
    ops.push_back({{"op", "add"}, {"name", p + "res1"}, {"inputs", {x, p + "o"}}, {"clamp", {-128, 127}}});
    rmsnorm(p + "norm2", p + "res1");
    dense(p + "ffn1", p + "norm2", s.ffn, s.d, 8);
    std::vector<int64_t> act(256);
    for (int i = 0; i < 256; ++i) act[i] = std::max<int64_t>(-20, i - 128) + uni(-2, 2);  // a noisy ReLU-like curve
    t[p + "act.table"] = Make({256}, act);
    ops.push_back({{"op", "table"}, {"name", p + "act"}, {"input", p + "ffn1"}, {"table", {{"tensor", p + "act.table"}}}});
    dense(p + "ffn2", p + "act", s.d, s.ffn, 8);
    ops.push_back({{"op", "add"}, {"name", p + "res2"}, {"inputs", {p + "res1", p + "ffn2"}}, {"clamp", {-128, 127}}});
    x = p + "res2";
  }
  rmsnorm("final_norm", x);
  dense("logits", "final_norm", s.vocab, s.d, 12);
  auto [lm, ls] = ms(64.0 / 200.0);
  ops.push_back({{"op", "sample"}, {"name", "next"}, {"input", "logits"}, {"score", {{"multiplier", lm}, {"shift", ls}}},
                 {"exp2", {{"tensor", "exp2"}}}});
  json vocab = json::array();
  for (int i = 0; i < s.vocab; ++i) vocab.push_back(std::string(1, static_cast<char>(i < 26 ? 'a' + i : '0' + (i - 26) % 10)));
  json root = {{"format", "hardwire-model"}, {"version", 2},       {"name", "random_lm"},
               {"tensors", "random_lm.safetensors"}, {"vocab", vocab}, {"context", s.context},
               {"ops", ops},                     {"output", "next"}};
  out.manifest = root.dump(1) + "\n";
  return out;
}

void WriteRandomLm(const RandomLmSpec& spec, uint64_t seed, const std::string& dir) {
  const RandomLmFiles f = RandomLm(spec, seed);
  std::filesystem::create_directories(dir);
  WriteFileOrThrow(dir + "/model.json", f.manifest);
  WriteFileOrThrow(dir + "/random_lm.safetensors", SerializeSafetensors(f.tensors));
}

}  // namespace hw::model
