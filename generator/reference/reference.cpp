#include "reference/reference.h"

#include <algorithm>

#include "common/diag.h"

namespace hw::reference {

int64_t Requantize(int64_t acc, int64_t m, int64_t s, int64_t lo, int64_t hi) {
  int64_t p = acc * m;
  if (s > 0) p = (p + (int64_t{1} << (s - 1))) >> s;  // >> on a negative int64 is arithmetic (C++20)
  return std::clamp(p, lo, hi);
}

void CheckInputs(const model::Model& model, const Batch& x, const std::string& source) {
  if (x.cols() != model.input_length)
    throw Error(Location{source, "", ""}, "vectors have " + std::to_string(x.cols()) + " elements, model '" +
                                               model.name + "' expects " + std::to_string(model.input_length));
  const int64_t lo = model.input.min(), hi = model.input.max();
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      if (x(r, c) < lo || x(r, c) > hi)
        throw Error(Location{source, "", ""}, "vector " + std::to_string(r) + " element " + std::to_string(c) + ": value " +
                                                   std::to_string(x(r, c)) + " outside the input range [" +
                                                   std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

namespace {

Batch RunDense(const model::DenseLayer& d, const Batch& x) {
  Eigen::Map<const Batch> w(d.weight.w.data(), d.out, d.in);
  Batch acc = x * w.transpose();  // exact: int64 products and sums (validated to stay below 2^62)
  if (d.has_threshold) {
    const int64_t L = d.thresholds_per_channel();
    for (Eigen::Index r = 0; r < acc.rows(); ++r)
      for (int o = 0; o < d.out; ++o) {
        const int64_t a = acc(r, o) + d.bias[o];
        int64_t n = 0;
        for (int64_t k = 0; k < L; ++k) n += a >= d.threshold[o * L + k];
        acc(r, o) = d.clamp_lo + n;
      }
    return acc;
  }
  for (Eigen::Index r = 0; r < acc.rows(); ++r)
    for (int o = 0; o < d.out; ++o)
      acc(r, o) = Requantize(acc(r, o) + d.bias[o], d.multiplier[o], d.shift[o], d.clamp_lo, d.clamp_hi);
  return acc;
}

Batch RunArgmax(const Batch& x) {
  Batch y(x.rows(), 1);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    Eigen::Index best = 0;
    for (Eigen::Index c = 1; c < x.cols(); ++c)
      if (x(r, c) > x(r, best)) best = c;  // strict: ties keep the lowest index
    y(r, 0) = best;
  }
  return y;
}

}  // namespace

Trace Run(const model::Model& model, const Batch& inputs) {
  CheckInputs(model, inputs, "inputs");
  Trace t;
  t.layers.reserve(model.layers.size());  // `cur` points into it
  const Batch* cur = &inputs;
  for (const model::Layer& l : model.layers) {
    if (const auto* d = std::get_if<model::DenseLayer>(&l.op)) t.layers.push_back(RunDense(*d, *cur));
    else t.layers.push_back(RunArgmax(*cur));
    cur = &t.layers.back();
  }
  return t;
}

}  // namespace hw::reference
