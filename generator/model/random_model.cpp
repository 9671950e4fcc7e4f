#include "model/random_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace hw::model {

namespace {

int64_t Pick(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

int BitLen(uint64_t v) {
  int b = 0;
  while (v) ++b, v >>= 1;
  return b;
}

}  // namespace

Model RandomModel(const RandomModelSpec& spec, uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 17);
  Model m;
  m.name = fmt::format("rand{}", seed);
  m.tensors_file = m.name + ".safetensors";
  m.input_length = static_cast<int>(Pick(rng, spec.min_input > 0 ? spec.min_input : spec.min_width,
                                         spec.max_input > 0 ? spec.max_input : spec.max_width));
  m.input = IntType{Pick(rng, 0, 1) == 1, static_cast<int>(Pick(rng, spec.min_input_bits, spec.max_input_bits))};
  const int layers = static_cast<int>(Pick(rng, spec.min_layers, spec.max_layers));
  IntType in_type = m.input;
  int in = m.input_length;
  for (int l = 0; l < layers; ++l) {
    DenseLayer d;
    d.in = in;
    d.out = static_cast<int>(Pick(rng, spec.min_width, spec.max_width));
    const int enc = static_cast<int>(Pick(rng, 0, 9));
    d.encoding = enc == 0 ? WeightEncoding::kBinary : enc == 1 ? WeightEncoding::kTernary
                 : enc == 2 ? WeightEncoding::kUnsigned : WeightEncoding::kSigned;
    if (spec.encoding >= 0) d.encoding = static_cast<WeightEncoding>(spec.encoding);
    d.weight_bits = d.encoding == WeightEncoding::kBinary ? 1 : d.encoding == WeightEncoding::kTernary ? 2
                    : static_cast<int>(Pick(rng, std::max(1, spec.min_weight_bits), spec.max_weight_bits));
    int64_t wlo = -1, whi = 1;
    if (d.encoding == WeightEncoding::kSigned) wlo = -(int64_t{1} << (d.weight_bits - 1)), whi = -wlo - 1;
    if (d.encoding == WeightEncoding::kUnsigned) wlo = 0, whi = (int64_t{1} << d.weight_bits) - 1;
    d.weight = arith::IntMatrix{d.out, d.in, std::vector<int64_t>(static_cast<size_t>(d.out) * d.in)};
    const int zero_row = spec.extremes && d.out > 1 ? static_cast<int>(Pick(rng, 0, d.out - 1)) : -1;
    const int zero_col = spec.extremes && d.in > 1 ? static_cast<int>(Pick(rng, 0, d.in - 1)) : -1;
    std::uniform_real_distribution<double> u01(0, 1);
    for (int o = 0; o < d.out; ++o)
      for (int i = 0; i < d.in; ++i) {
        int64_t v;
        if (d.encoding == WeightEncoding::kBinary) v = Pick(rng, 0, 1) ? 1 : -1;
        else if (o == zero_row || i == zero_col || u01(rng) < spec.zero_weight_fraction) v = 0;
        else if (spec.extremes && Pick(rng, 0, 3) == 0) v = Pick(rng, 0, 1) ? wlo : whi;
        else v = Pick(rng, wlo, whi);
        if (d.encoding == WeightEncoding::kBinary && (o == zero_row)) v = -1;  // binary has no zero
        d.weight.at(o, i) = v;
      }
    d.output.is_signed = Pick(rng, 0, 1) == 1;
    d.output.bits = static_cast<int>(Pick(rng, spec.min_output_bits, spec.max_output_bits));
    const bool relu = Pick(rng, 0, 1) == 1;
    d.clamp_lo = relu ? 0 : d.output.min();
    d.clamp_hi = d.output.max();
    if (!d.output.is_signed) d.clamp_lo = 0;
    d.has_bias = Pick(rng, 0, 2) != 0;
    d.weight_tensor = fmt::format("l{}.weight", l);
    d.bias_tensor = d.has_bias ? fmt::format("l{}.bias", l) : "";
    d.multiplier_tensor = fmt::format("l{}.m", l);
    d.shift_tensor = fmt::format("l{}.s", l);
    for (int o = 0; o < d.out; ++o) {
      int64_t amax = 0;
      for (int i = 0; i < d.in; ++i) {
        const int64_t w = d.weight.at(o, i);
        amax += std::max(std::abs(w * in_type.min()), std::abs(w * in_type.max()));
      }
      // |bias| <= amax, and within I32 (the widest safetensors dtype) for wide accumulators
      const int64_t bmax = std::min<int64_t>(std::max<int64_t>(1, amax), (int64_t{1} << 31) - 1);
      const int64_t b = d.has_bias ? Pick(rng, -bmax, bmax) : 0;
      d.bias.push_back(b);
      int64_t mult = spec.extremes && Pick(rng, 0, 4) == 0 ? (Pick(rng, 0, 1) ? 1 : (int64_t{1} << 31) - 1)
                                                           : Pick(rng, 1, int64_t{1} << Pick(rng, 1, 16));
      // keep |acc| * M + rounding well inside the documented 2^62 limit
      while (mult > 1 && BitLen(static_cast<uint64_t>(amax + std::abs(b) + 1)) + BitLen(static_cast<uint64_t>(mult)) > 60) mult >>= 1;
      d.multiplier.push_back(mult);
      const int scaled_bits = BitLen(static_cast<uint64_t>((amax + std::abs(b) + 1) * mult));
      int s = std::max(0, scaled_bits - d.output.bits + static_cast<int>(Pick(rng, -1, 2)));
      if (spec.extremes && Pick(rng, 0, 5) == 0) s = Pick(rng, 0, 1) ? 0 : 62;
      d.shift.push_back(std::min(s, 62));
    }
    in_type = d.output;
    in = d.out;
    m.layers.push_back(Layer{fmt::format("fc{}", l), std::move(d)});
  }
  if (spec.allow_argmax && Pick(rng, 0, 2) == 0) m.layers.push_back(Layer{"cls", ArgmaxLayer{}});
  return m;
}

namespace {
constexpr int kSweepCategories = 10;
}

const char* SweepCategory(int index) {
  static const char* names[kSweepCategories] = {
      "signed weights, width cycling 1..16",   "unsigned weights, width cycling 1..16",
      "binary weights, extremes",              "ternary weights, extremes",
      "wide fan-in (up to 4096), few outputs", "16-bit inputs and weights, outputs up to 32 bits, extremes",
      "all-zero weights, extremes",            "deep chain (3..4 layers), outputs 1..16 bits",
      "extremes of M, S, weights and inputs",  "default spec"};
  return names[((index % kSweepCategories) + kSweepCategories) % kSweepCategories];
}

RandomModelSpec SweepSpec(int index) {
  RandomModelSpec s;
  const int cat = ((index % kSweepCategories) + kSweepCategories) % kSweepCategories;
  const int round = index / kSweepCategories;
  switch (cat) {
    case 0:
    case 1:
      s.encoding = static_cast<int>(cat == 0 ? WeightEncoding::kSigned : WeightEncoding::kUnsigned);
      s.min_weight_bits = s.max_weight_bits = 1 + round % 16;
      s.max_input_bits = 12;
      s.extremes = round % 2 == 1;
      break;
    case 2:
    case 3:
      s.encoding = static_cast<int>(cat == 2 ? WeightEncoding::kBinary : WeightEncoding::kTernary);
      s.max_width = 24;
      s.extremes = true;
      s.max_input_bits = 16;
      break;
    case 4:
      // Every fourth wide model has the full fan-in of 4096, the others 64..1024; one layer with 1..4 outputs
      // keeps the Verilator builds reasonable.
      s.min_input = s.max_input = round % 4 == 0 ? 4096 : 64 << (round % 5);
      s.min_width = 1, s.max_width = 4;
      s.min_layers = s.max_layers = 1;
      s.max_weight_bits = 8;
      s.extremes = round % 4 == 0;
      break;
    case 5:
      s.min_input_bits = 12, s.max_input_bits = 16;
      s.min_weight_bits = 12, s.max_weight_bits = 16;
      s.min_output_bits = 16, s.max_output_bits = 32;
      s.max_layers = 2;
      s.extremes = true;
      break;
    case 6:
      s.zero_weight_fraction = 1.0;
      s.extremes = true;
      s.max_input_bits = 16;
      break;
    case 7:
      s.min_layers = 3, s.max_layers = 4;
      s.min_output_bits = 1, s.max_output_bits = 16;
      s.max_weight_bits = 16;
      break;
    case 8:
      s.extremes = true;
      s.min_weight_bits = 1, s.max_weight_bits = 16;
      s.max_input_bits = 16;
      s.min_output_bits = 1, s.max_output_bits = 32;
      s.zero_weight_fraction = 0.05;
      break;
    default:
      break;
  }
  return s;
}

void UseRandomThresholds(Model& m, int index, uint64_t seed) {
  auto& d = std::get<DenseLayer>(m.layers[index].op);
  std::mt19937_64 rng(seed);
  d.has_threshold = true;
  d.threshold_tensor = m.layers[index].name + ".threshold";
  const int bits = static_cast<int>(Pick(rng, 2, 3));
  d.output = IntType{false, bits};
  d.clamp_lo = 0;
  d.clamp_hi = (int64_t{1} << bits) - 1;
  std::fill(d.multiplier.begin(), d.multiplier.end(), 1);
  std::fill(d.shift.begin(), d.shift.end(), 0);
  const int64_t L = d.thresholds_per_channel();
  d.threshold.assign(static_cast<size_t>(d.out * L), 0);
  for (int o = 0; o < d.out; ++o) {
    const auto row = d.threshold.begin() + o * L;
    for (int64_t k = 0; k < L; ++k) row[k] = Pick(rng, -200, 200);
    std::sort(row, row + L);
  }
}

}  // namespace hw::model
