#include "passes/arith_choice.h"

#include <fmt/format.h>

#include "arith/cmvm_cse.h"
#include "arith/csd.h"

namespace hw::passes {

const char* ToString(ArithMode m) { return m == ArithMode::kCsd ? "csd" : "cmvm"; }

std::string NeuronNote(const model::DenseLayer& d, int o) {
  std::string s;
  if (d.has_threshold) {
    const int64_t L = d.thresholds_per_channel();
    s = fmt::format("neuron {}: bias {}, thresholds", o, d.bias[o]);
    for (int64_t k = 0; k < L && k < 16; ++k) s += fmt::format(" {}", d.threshold[o * L + k]);
    if (L > 16) s += " ...";
    s += fmt::format(", output {} + count", d.clamp_lo);
  } else s = fmt::format("neuron {}: bias {}, M {} ({}), S {}, clamp [{}, {}]", o, d.bias[o], d.multiplier[o],
                              arith::CsdToString(arith::CsdDigits(d.multiplier[o])), d.shift[o], d.clamp_lo, d.clamp_hi);
  int nz = 0;
  std::string w;
  for (int i = 0; i < d.in; ++i) {
    const int64_t v = d.weight.at(o, i);
    if (v == 0) continue;
    ++nz;
    w += fmt::format("\n  x{}*{} = {}", i, v, arith::CsdToString(arith::CsdDigits(v)));
  }
  return s + fmt::format("; {} nonzero weights{}", nz, w);
}

arith::AdderGraph BuildLayerGraph(const model::DenseLayer& d, const model::IntType& input_type,
                                  const ArithChoice& choice) {
  if (choice.mode == ArithMode::kCsd) return arith::BuildCsdTrees(d.weight);
  arith::CmvmOptions o;
  o.depth_mode = choice.depth;
  o.extra_depth = choice.extra_depth;
  o.effort = choice.effort;
  o.plain_only = choice.plain_only;
  o.input_ranges.assign(d.in, arith::InputRange{input_type.min(), input_type.max()});
  if (!choice.transposed) return arith::OptimizeCmvm(d.weight, o);
  // W^T's inputs are W's outputs: no ranges known for them (the width cost of the W^T solve is unranged).
  arith::IntMatrix t{d.weight.cols, d.weight.rows, std::vector<int64_t>(d.weight.w.size())};
  for (int r = 0; r < d.weight.rows; ++r)
    for (int c = 0; c < d.weight.cols; ++c) t.at(c, r) = d.weight.at(r, c);
  const std::vector<arith::InputRange> ranges = std::move(o.input_ranges);
  o.input_ranges.clear();
  return arith::cmvm_detail::TransposeGraph(arith::OptimizeCmvm(t, o), ranges);
}

}  // namespace hw::passes
