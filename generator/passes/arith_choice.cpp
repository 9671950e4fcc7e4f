#include "passes/arith_choice.h"

#include <fmt/format.h>

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
  o.input_ranges.assign(d.in, arith::InputRange{input_type.min(), input_type.max()});
  return arith::OptimizeCmvm(d.weight, o);
}

}  // namespace hw::passes
