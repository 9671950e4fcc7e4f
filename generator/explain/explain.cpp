#include "explain/explain.h"

#include <fmt/format.h>

#include <algorithm>

#include "arith/csd.h"
#include "common/diag.h"
#include "explain/cone.h"
#include "passes/ir2_passes.h"
#include "passes/lower_layer_ir2.h"
#include "passes/register_choice.h"

namespace hw::explain {

std::string DotEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

int FindLayer(const model::Model& model, const std::string& key) {
  for (size_t i = 0; i < model.layers.size(); ++i)
    if (model.layers[i].name == key) return static_cast<int>(i);
  if (!key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const int i = std::stoi(key);
    if (i < static_cast<int>(model.layers.size())) return i;
  }
  std::string names;
  for (const model::Layer& l : model.layers) names += (names.empty() ? "" : ", ") + l.name;
  throw Error(Location{model.manifest_path, "", "--layer"}, fmt::format("no layer '{}' (layers: {})", key, names));
}

std::string WeightTable(const int64_t* row, int length) {
  long nonzero = 0, digits = 0;
  std::string wl;
  for (int i = 0; i < length; ++i) {
    if (row[i] == 0) continue;
    const auto dg = arith::CsdDigits(row[i]);
    ++nonzero, digits += static_cast<long>(dg.size());
    wl += fmt::format("  x{:<5} {:>6}   {}\n", i, row[i], arith::CsdToString(dg));
  }
  return fmt::format("weights: {} nonzero of {}, {} signed digits (CSD) -> at most {} adders before sharing\n", nonzero, length, digits,
                     std::max(0L, digits - 1)) +
         "  input   weight   signed digits\n" + wl;
}

NeuronExplanation ExplainNeuron(const model::Model& model, int layer, int neuron, const passes::ArithChoice& choice,
                                int adders_per_stage) {
  if (layer < 0 || layer >= static_cast<int>(model.layers.size()))
    throw Error(Location{model.manifest_path, "", "--layer"}, fmt::format("layer index {} out of range", layer));
  const model::Layer& L = model.layers[layer];
  const auto* d = std::get_if<model::DenseLayer>(&L.op);
  const Location loc{model.manifest_path, fmt::format("layer '{}' (layers[{}])", L.name, layer), "--neuron"};
  if (!d) throw Error(loc, fmt::format("explain needs a dense layer; this one is {}", L.kind()));
  if (neuron < 0 || neuron >= d->out) throw Error(loc, fmt::format("neuron {} out of range 0..{}", neuron, d->out - 1));
  if (adders_per_stage < 1) throw Error(Location{"", "", "--adders-per-stage"}, "must be at least 1");

  // The layer alone, lowered and scheduled as in `generate` (no registers materialized, so every node keeps its
  // id and the stage where it is computed).
  hw::ir2::Graph g = passes::LowerLayerToIr2(model, layer, passes::ChooseForRegisters(model, layer, choice, {adders_per_stage}));
  passes::ir2::PassManager({"range-analysis", "schedule", "sink"}, {adders_per_stage}).Run(g);
  std::vector<hw::ir2::Use> y(d->out);
  for (const hw::ir2::Node& n : g.nodes)
    if (n.op == hw::ir2::Op::kOutput) y[std::stoi(n.symbol.substr(1))] = n.operands[0];

  const int64_t* w = d->weight.w.data() + static_cast<size_t>(neuron) * d->in;
  ConeOptions co;
  co.title = d->has_threshold ? fmt::format("layer {} neuron {}: bias {}, thresholds", L.name, neuron, d->bias[neuron])
                              : fmt::format("layer {} neuron {}: M = {}, S = {}", L.name, neuron, d->multiplier[neuron], d->shift[neuron]);
  co.dot_comment = fmt::format("// hardwire explain: layer '{}' neuron {} (module {})", L.name, neuron, g.name);
  co.input_label = [&](const hw::ir2::Node& n) {
    return fmt::format("{}\\n{}\\nw = {}", n.symbol, TypeText(n), w[std::stoi(n.symbol.substr(1))]);
  };
  NeuronExplanation e = ExplainCone(g, y, neuron, co);
  std::string t = fmt::format("layer '{}' (dense {} -> {}), neuron {} of module {}, {} adder level(s) per pipeline stage\n", L.name, d->in,
                              d->out, neuron, g.name, adders_per_stage);
  if (d->has_threshold) {
    const int64_t n = d->thresholds_per_channel();
    std::string th;
    for (int64_t k = 0; k < n; ++k) th += fmt::format("{}{}", k ? ", " : "", d->threshold[neuron * n + k]);
    t += fmt::format("y[{}] = {} + #{{k : {} + sum_i W[{}][i] * x[i] >= T[k]}},  T = [{}]\n\n", neuron, d->clamp_lo, d->bias[neuron],
                     neuron, th);
  } else {
    t += fmt::format("y[{}] = clamp((({} + sum_i W[{}][i] * x[i]) * {} + {}) >> {}, {}, {})\n\n", neuron, d->bias[neuron], neuron,
                     d->multiplier[neuron], d->shift[neuron] > 0 ? (int64_t{1} << (d->shift[neuron] - 1)) : 0, d->shift[neuron],
                     d->clamp_lo, d->clamp_hi);
  }
  t += WeightTable(w, d->in);
  if (!d->has_threshold)
    t += fmt::format("multiplier M = {} = {}, shift S = {}, bias {}\n\n", d->multiplier[neuron],
                     arith::CsdToString(arith::CsdDigits(d->multiplier[neuron])), d->shift[neuron], d->bias[neuron]);
  e.text = t + "\n" + e.text;
  return e;
}

}  // namespace hw::explain
