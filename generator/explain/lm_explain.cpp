#include "explain/lm_explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "arith/csd.h"
#include "common/diag.h"
#include "ir2/op_table.h"
#include "passes/ir2_passes.h"
#include "passes/lower_lm.h"

namespace hw::explain {

using hw::ir2::Graph;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::TypeOf;
using hw::ir2::Use;

namespace {


std::string TypeText(const Node& n) {
  const hw::ir2::Type t = TypeOf(n.range[0]);
  return fmt::format("{}{}", t.is_signed ? 's' : 'u', t.width);
}

// "x3", "%12 << 2" for one operand (without its sign).
std::string OperandText(const Graph& g, const Use& u) {
  const Node& n = g.nodes[u.node];
  std::string s = n.op == Op::kInput ? n.symbol : n.op == Op::kConst ? fmt::format("{}", n.value) : fmt::format("%{}", u.node);
  if (u.shift) s = fmt::format("({} << {})", s, u.shift);
  return s;
}

}  // namespace

NeuronExplanation ExplainLmNeuron(const model::LmModel& m, const std::string& op_name, int neuron, int adders_per_stage,
                                  const arith::CmvmOptions& cmvm) {
  const model::LmOp* op = nullptr;
  std::string dense;
  for (const model::LmOp& o : m.ops) {
    if (o.kind == model::LmOpKind::kDense) dense += (dense.empty() ? "" : ", ") + o.name;
    if (o.name == op_name) op = &o;
  }
  if (!op) throw Error(Location{m.manifest_path, "", "--layer"}, fmt::format("no op '{}' (dense ops: {})", op_name, dense));
  const Location loc{m.manifest_path, fmt::format("op '{}'", op->name), "--neuron"};
  if (op->kind != model::LmOpKind::kDense)
    throw Error(Location{m.manifest_path, fmt::format("op '{}'", op->name), "--layer"}, fmt::format("explain needs a dense op; this one is {} (dense ops: {})", model::ToString(op->kind), dense));
  if (neuron < 0 || neuron >= op->length) throw Error(loc, fmt::format("neuron {} out of range 0..{}", neuron, op->length - 1));

  // The op alone: its inputs as ports, lowered as in the whole model, scheduled (no registers materialized,
  // so every node keeps its id and the stage where it is computed).
  Graph g;
  g.name = op->name;
  passes::lm::Builder b(g);
  const model::LmValue& in = m.values[op->inputs[0]];
  const hw::ir2::Type in_type = TypeOf({in.lo, in.hi});
  passes::lm::UseVec x;
  for (int i = 0; i < op->in_length; ++i) x.push_back(b.Input(fmt::format("x{}", i), in_type.width, in_type.is_signed));
  const passes::lm::UseVec y = passes::lm::LowerDense(b, *op, x, cmvm);
  for (int o = 0; o < op->length; ++o) b.Output(fmt::format("y{}", o), y[o]);
  passes::ir2::PassManager({"range-analysis", "schedule", "sink"}, {adders_per_stage}).Run(g);

  // Which outputs each node feeds (a node in several cones is a shared subexpression).
  std::vector<std::set<int>> feeds(g.nodes.size());
  std::vector<std::vector<int>> cones(op->length);
  for (int o = 0; o < op->length; ++o) {
    std::vector<int> stack = {y[o].node};
    std::set<int> seen;
    while (!stack.empty()) {
      const int id = stack.back();
      stack.pop_back();
      if (!seen.insert(id).second) continue;
      feeds[id].insert(o);
      for (const Use& u : g.nodes[id].operands) stack.push_back(u.node);
    }
    cones[o].assign(seen.begin(), seen.end());
  }

  NeuronExplanation e;
  for (const Node& n : g.nodes) e.op_adders += n.op == Op::kAdd;
  const Node& out = g.nodes[y[neuron].node];
  e.stages = out.stage;
  const int64_t mult = op->requant.M(neuron), shift = op->requant.S(neuron);
  std::string& t = e.text;
  t += fmt::format("op '{}' (dense {} -> {}) of {}, neuron {}, {} adder level(s) per pipeline stage\n", op->name, op->in_length,
                   op->length, m.name, neuron, adders_per_stage);
  t += fmt::format("y[{}] = clamp(((sum_i W[{}][i] * x[i]) * {} + {}) >> {}, {}, {})   x: {} in [{}, {}]\n\n", neuron, neuron, mult,
                   shift > 0 ? (int64_t{1} << (shift - 1)) : 0, shift, op->lo, op->hi, in.name, in.lo, in.hi);
  long nonzero = 0, digits = 0;
  std::string wl;
  for (int i = 0; i < op->in_length; ++i) {
    const int64_t w = op->weight[static_cast<size_t>(neuron) * op->in_length + i];
    if (w == 0) continue;
    const auto dg = arith::CsdDigits(w);
    ++nonzero, digits += static_cast<long>(dg.size());
    wl += fmt::format("  x{:<5} {:>6}   {}\n", i, w, arith::CsdToString(dg));
  }
  t += fmt::format("weights: {} nonzero of {}, {} signed digits (CSD) -> at most {} adders before sharing\n", nonzero, op->in_length,
                   digits, std::max(0L, digits - 1));
  t += "  input   weight   signed digits\n" + wl;
  t += fmt::format("multiplier M = {} = {}, shift S = {}\n\n", mult, arith::CsdToString(arith::CsdDigits(mult)), shift);

  std::string rows;
  for (int id : cones[neuron]) {
    const Node& n = g.nodes[id];
    if (n.op == Op::kAdd) {
      ++e.adders;
      const bool shared = feeds[id].size() > 1;
      e.shared_adders += shared;
      std::string expr;
      for (size_t k = 0; k < n.operands.size(); ++k)
        expr += (k == 0 ? (n.operands[k].neg ? "-" : "") : (n.operands[k].neg ? " - " : " + ")) + OperandText(g, n.operands[k]);
      rows += fmt::format("  %{:<6} = {:<34} {:>4}  stage {:<3} [{}, {}]  {}\n", id, expr, TypeText(n), n.stage, n.range[0].lo,
                          n.range[0].hi, shared ? fmt::format("shared (feeds {} outputs)", feeds[id].size()) : "own");
    } else if (n.op == Op::kRequant) {
      const Use& a = n.operands[0];
      rows += fmt::format("  %{:<6} = clamp(({}{} + {}) >> {}, {}, {})  {}  stage {}  (requant)\n", id, a.neg ? "-" : "",
                          OperandText(g, a), n.add, n.shift, n.lo, n.hi, TypeText(n), n.stage);
    }
  }
  if (out.op == Op::kConst)
    t += fmt::format("this output is the constant {} (no adders: every weight is zero and the requantization folds)\n", out.value);
  t += fmt::format("adder tree: {} adders ({} shared with other neurons; the whole op has {}), output computed in pipeline stage {}\n",
                   e.adders, e.shared_adders, e.op_adders, e.stages);
  t += "  node      expression                          type  stage  range  role\n" + rows;

  // Graphviz: one cluster per stage, inputs on top; red edges subtract.
  std::string& d = e.dot;
  d += fmt::format("// hardwire explain: op '{}' neuron {} of {}\ndigraph explain {{\n  rankdir=TB;\n  node [shape=box, fontname=monospace];\n",
                   op->name, neuron, m.name);
  d += fmt::format("  labelloc=t; label=\"{}\";\n",
                   DotEscape(fmt::format("{} neuron {}: {} adders ({} shared), M = {}, S = {}; red edge = subtract", op->name, neuron, e.adders,
                                       e.shared_adders, mult, shift)));
  std::set<int> stages;
  for (int id : cones[neuron]) stages.insert(g.nodes[id].op == Op::kInput ? -1 : g.nodes[id].stage);
  for (int stage : stages) {
    d += fmt::format("  subgraph cluster_stage{} {{\n    label=\"{}\"; style=dashed; color=gray;\n", stage + 1,
                     stage < 0 ? "inputs (registered upstream)" : fmt::format("stage {}", stage));
    for (int id : cones[neuron]) {
      const Node& n = g.nodes[id];
      if ((n.op == Op::kInput ? -1 : n.stage) != stage || n.op == Op::kConst) continue;
      std::string label;
      if (n.op == Op::kInput) {
        const int i = std::stoi(n.symbol.substr(1));
        label = fmt::format("{}\\n{}\\nw = {}", n.symbol, TypeText(n), op->weight[static_cast<size_t>(neuron) * op->in_length + i]);
      } else if (n.op == Op::kRequant) {
        label = fmt::format("%{} = requant\\n(+{}) >> {}, clamp [{}, {}]\\n{}, stage {}", id, n.add, n.shift, n.lo, n.hi, TypeText(n), n.stage);
      } else {
        label = fmt::format("%{} = {}\\n{}, stage {}", id, hw::ir2::Info(n.op).name, TypeText(n), n.stage);
      }
      const bool shared = feeds[id].size() > 1;
      d += fmt::format("    n{} [label=\"{}\"{}];\n", id, label, shared ? ", style=filled, fillcolor=lightyellow" : "");
    }
    d += "  }\n";
  }
  for (int id : cones[neuron])
    for (const Use& u : g.nodes[id].operands) {
      if (g.nodes[u.node].op == Op::kConst) continue;
      const std::string lab = u.shift ? fmt::format("<<{}", u.shift) : "";
      d += fmt::format("  n{} -> n{} [label=\"{}\"{}];\n", u.node, id, lab, u.neg ? ", color=red, fontcolor=red" : "");
    }
  d += "}\n";
  return e;
}

}  // namespace hw::explain
