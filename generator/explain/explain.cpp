#include "explain/explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "arith/csd.h"
#include "common/diag.h"

namespace hw::explain {

std::string DotEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

namespace {

// "x3", "s_l2_7 << 2", "-n5_l3_0" for one operand.
std::string OperandText(const ir::Module& m, const ir::Operand& op) {
  const ir::Node& src = m.nodes[op.node];
  std::string s = src.kind == ir::NodeKind::kConst ? fmt::format("{}", src.value) : src.name;
  if (op.shift) s = fmt::format("({} << {})", s, op.shift);
  return s;
}

std::string TypeText(const ir::Node& n) { return fmt::format("{}{}", n.is_signed ? 's' : 'u', n.width); }

}  // namespace

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

NeuronExplanation ExplainNeuron(const model::Model& model, const ir::Module& m, int layer, int neuron) {
  if (layer < 0 || layer >= static_cast<int>(model.layers.size()))
    throw Error(Location{model.manifest_path, "", "--layer"}, fmt::format("layer index {} out of range", layer));
  const model::Layer& L = model.layers[layer];
  const auto* d = std::get_if<model::DenseLayer>(&L.op);
  const Location loc{model.manifest_path, fmt::format("layer '{}' (layers[{}])", L.name, layer), "--neuron"};
  if (!d) throw Error(loc, fmt::format("explain needs a dense layer; this one is {}", L.kind()));
  if (neuron < 0 || neuron >= d->out) throw Error(loc, fmt::format("neuron {} out of range 0..{}", neuron, d->out - 1));
  HW_CHECK(static_cast<int>(m.outputs.size()) == d->out, "module/layer output count mismatch");

  // The cone of the output node.
  std::set<int> cone;
  std::vector<int> stack = {m.outputs[neuron]};
  while (!stack.empty()) {
    const int id = stack.back();
    stack.pop_back();
    if (!cone.insert(id).second) continue;
    for (const ir::Operand& op : m.nodes[id].ops) stack.push_back(op.node);
  }
  // Which other outputs each node feeds (for "shared").
  std::vector<std::set<int>> feeds(m.nodes.size());
  for (size_t o = 0; o < m.outputs.size(); ++o) {
    std::vector<int> st = {m.outputs[o]};
    std::set<int> seen;
    while (!st.empty()) {
      const int id = st.back();
      st.pop_back();
      if (!seen.insert(id).second) continue;
      feeds[id].insert(static_cast<int>(o));
      for (const ir::Operand& op : m.nodes[id].ops) st.push_back(op.node);
    }
  }

  NeuronExplanation e;
  const ir::Node& out = m.nodes[m.outputs[neuron]];
  e.stages = out.stage;
  std::string& t = e.text;
  t += fmt::format("layer '{}' (dense {} -> {}), neuron {} of module {}\n", L.name, d->in, d->out, neuron, m.name);
  std::string thresholds;
  if (d->has_threshold) {
    const int L = d->thresholds_per_channel();
    for (int k = 0; k < L; ++k) {
      if (k == 24 && L > 32) {
        thresholds += fmt::format(", ... ({} more)", L - 25);
        k = L - 2;
        continue;
      }
      thresholds += fmt::format("{}{}", k ? ", " : "", d->threshold[static_cast<size_t>(neuron) * L + k]);
    }
    t += fmt::format("y[{}] = {} + #{{k : acc >= T[{}][k]}},  acc = {} + sum_i W[{}][i] * x[i]   (threshold activation)\n", neuron,
                     d->clamp_lo, neuron, d->bias[neuron], neuron);
    t += fmt::format("T[{}] = [{}]\n\n", neuron, thresholds);
  } else {
    t += fmt::format("y[{}] = clamp((({} + sum_i W[{}][i] * x[i]) * {} + {}) >> {}, {}, {})\n\n", neuron, d->bias[neuron],
                     neuron, d->multiplier[neuron], d->shift[neuron] > 0 ? (int64_t{1} << (d->shift[neuron] - 1)) : 0,
                     d->shift[neuron], d->clamp_lo, d->clamp_hi);
  }
  long nonzero = 0, digits = 0;
  std::string wl;
  for (int i = 0; i < d->in; ++i) {
    const int64_t w = d->weight.at(neuron, i);
    if (w == 0) continue;
    const auto dg = arith::CsdDigits(w);
    ++nonzero, digits += static_cast<long>(dg.size());
    wl += fmt::format("  x{:<5} {:>6}   {}\n", i, w, arith::CsdToString(dg));
  }
  const auto mdg = arith::CsdDigits(d->multiplier[neuron]);
  t += fmt::format("weights: {} nonzero of {}, {} signed digits (CSD) -> at most {} adders before sharing\n", nonzero, d->in,
                   digits, std::max(0L, digits - 1));
  t += "  input   weight   signed digits\n" + wl;
  if (d->has_threshold)
    t += fmt::format("{} thresholds: each one comparison (a shift-0 hw_requant node clamp(acc + 1 - T, 0, 1)), summed by an adder tree; bias {}\n\n",
                     d->thresholds_per_channel(), d->bias[neuron]);
  else
    t += fmt::format("multiplier M = {} = {}, shift S = {}, bias {}\n\n", d->multiplier[neuron], arith::CsdToString(mdg),
                     d->shift[neuron], d->bias[neuron]);

  // Adder listing in topological (id) order.
  std::string rows;
  for (int id : cone) {
    const ir::Node& n = m.nodes[id];
    if (n.kind == ir::NodeKind::kAdd) {
      ++e.adders;
      const bool shared = feeds[id].size() > 1;
      if (shared) ++e.shared_adders;
      const std::string a = OperandText(m, n.ops[0]), b = OperandText(m, n.ops[1]);
      const std::string expr = fmt::format("{}{} {} {}", n.ops[0].neg ? "-" : "", a, n.ops[1].neg ? "-" : "+", b);
      const char* role = n.role == ir::Role::kScale ? "times M" : shared ? "shared" : "own";
      rows += fmt::format("  {:<14} = {:<34} {:>4}  stage {:<3} [{}, {}]  {}{}\n", n.name, expr, TypeText(n), n.stage, n.lo,
                          n.hi, role, shared ? fmt::format(" (feeds {} outputs)", feeds[id].size()) : "");
    } else if (n.kind == ir::NodeKind::kRequant) {
      const std::string in = n.ops.empty() ? "0" : (n.ops[0].neg ? "-" : "") + OperandText(m, n.ops[0]);
      rows += fmt::format("  {:<14} = clamp(({} + {}) >> {}, {}, {})  {}  stage {}  (hw_requant)\n", n.name, in, n.rq.add,
                          n.rq.shift, n.rq.lo, n.rq.hi, TypeText(n), n.stage);
    }
  }
  if (out.kind == ir::NodeKind::kConst)
    t += fmt::format("this output is the constant {} (no adders: every weight is zero and the requantization folds)\n",
                     out.value);
  t += fmt::format("adder tree: {} adders ({} shared with other neurons), output after {} pipeline stage(s)\n", e.adders,
                   e.shared_adders, e.stages);
  t += "  node             expression                          type  stage  range  role\n" + rows;

  // Graphviz: inputs on top, one rank per pipeline stage.
  std::string& g = e.dot;
  g += fmt::format("// hardwire explain: layer '{}' neuron {} (module {})\n", L.name, neuron, m.name);
  g += "digraph neuron {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
       "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  g += fmt::format("  labelloc=t; label=\"{}\";\n",
                   DotEscape(d->has_threshold
                                 ? fmt::format("layer {} neuron {}: {} adders ({} shared), {} thresholds; red edge = subtract", L.name,
                                               neuron, e.adders, e.shared_adders, d->thresholds_per_channel())
                                 : fmt::format("layer {} neuron {}: {} adders ({} shared), M = {}, S = {}; red edge = subtract",
                                               L.name, neuron, e.adders, e.shared_adders, d->multiplier[neuron], d->shift[neuron])));
  std::map<int, std::vector<int>> by_stage;
  for (int id : cone) {
    const ir::Node& n = m.nodes[id];
    if (n.kind == ir::NodeKind::kConst) continue;
    by_stage[n.kind == ir::NodeKind::kInput ? -1 : n.stage].push_back(id);
  }
  for (const auto& [stage, ids] : by_stage) {
    g += fmt::format("  subgraph cluster_stage{} {{\n    label=\"{}\"; style=dashed; color=gray;\n", stage + 1,
                     stage < 0 ? "inputs (registered upstream)" : fmt::format("stage {}", stage));
    for (int id : ids) {
      const ir::Node& n = m.nodes[id];
      std::string label, attrs;
      if (n.kind == ir::NodeKind::kInput) {
        const int64_t w = d->weight.at(neuron, n.input_index);
        label = fmt::format("x{}\\n{}\\nw = {}", n.input_index, TypeText(n), w);
        attrs = "shape=box, style=filled, fillcolor=\"#e8f0ff\"";
      } else if (n.kind == ir::NodeKind::kAdd) {
        const bool shared = feeds[id].size() > 1;
        label = fmt::format("{}\\n{}{}{}\\n{} bits, stage {}", DotEscape(n.name), n.ops[0].neg ? "-a" : "a",
                            n.ops[1].neg ? " - b" : " + b", n.role == ir::Role::kScale ? " (x M)" : "", n.width, n.stage);
        attrs = shared ? "shape=ellipse, style=filled, fillcolor=\"#ffe9b0\""
                       : n.role == ir::Role::kScale ? "shape=ellipse, style=filled, fillcolor=\"#e0ffe0\""
                                                    : "shape=ellipse";
      } else if (n.kind == ir::NodeKind::kRequant) {
        label = fmt::format("{} = requant\\n(+{}) >> {}, clamp [{}, {}]\\n{} bits, stage {}", DotEscape(n.name), n.rq.add,
                            n.rq.shift, n.rq.lo, n.rq.hi, n.width, n.stage);
        attrs = "shape=doubleoctagon, style=filled, fillcolor=\"#ffd0d0\"";
      } else {
        label = DotEscape(n.name);
        attrs = "shape=box";
      }
      g += fmt::format("    n{} [label=\"{}\", {}];\n", id, label, attrs);
    }
    g += "  }\n";
  }
  for (int id : cone) {
    const ir::Node& n = m.nodes[id];
    for (size_t k = 0; k < n.ops.size(); ++k) {
      const ir::Operand& op = n.ops[k];
      if (m.nodes[op.node].kind == ir::NodeKind::kConst) continue;
      std::string lab = n.kind == ir::NodeKind::kAdd ? (k == 0 ? "a" : "b") : "";
      if (op.shift) lab += fmt::format(" <<{}", op.shift);
      if (op.neg) lab += " (-)";
      g += fmt::format("  n{} -> n{} [label=\"{}\"{}];\n", op.node, id, lab, op.neg ? ", color=red, fontcolor=red" : "");
    }
  }
  g += "}\n";
  return e;
}

}  // namespace hw::explain
