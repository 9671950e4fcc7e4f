#include "explain/cone.h"

#include <fmt/format.h>

#include <set>

#include "ir2/op_table.h"

namespace hw::explain {

using hw::ir2::Graph;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::TypeOf;
using hw::ir2::Use;

std::string TypeText(const Node& n) {
  const hw::ir2::Type t = TypeOf(n.range[0]);
  return fmt::format("{}{}", t.is_signed ? 's' : 'u', t.width);
}

namespace {

// "x3", "(%12 << 2)" for one operand (without its sign).
std::string OperandText(const Graph& g, const Use& u) {
  const Node& n = g.nodes[u.node];
  std::string s = n.op == Op::kInput ? n.symbol : n.op == Op::kConst ? fmt::format("{}", n.value) : fmt::format("%{}", u.node);
  if (u.shift) s = fmt::format("({} << {})", s, u.shift);
  return s;
}

}  // namespace

NeuronExplanation ExplainCone(const Graph& g, const std::vector<Use>& outputs, int which, const ConeOptions& o) {
  // Which outputs each node feeds (a node in several cones is a shared subexpression).
  std::vector<std::set<int>> feeds(g.nodes.size());
  std::vector<int> cone;
  for (int k = 0; k < static_cast<int>(outputs.size()); ++k) {
    std::vector<int> stack = {outputs[k].node};
    std::set<int> seen;
    while (!stack.empty()) {
      const int id = stack.back();
      stack.pop_back();
      if (!seen.insert(id).second) continue;
      feeds[id].insert(k);
      for (const Use& u : g.nodes[id].operands) stack.push_back(u.node);
    }
    if (k == which) cone.assign(seen.begin(), seen.end());
  }

  NeuronExplanation e;
  for (const Node& n : g.nodes) e.op_adders += n.op == Op::kAdd;
  const Node& out = g.nodes[outputs[which].node];
  e.stages = g.StageOf(outputs[which].node);
  std::string rows;
  for (int id : cone) {
    const Node& n = g.nodes[id];
    if (n.op == Op::kAdd) {
      ++e.adders;
      const bool shared = feeds[id].size() > 1;
      e.shared_adders += shared;
      std::string expr;
      for (size_t k = 0; k < n.operands.size(); ++k)
        expr += (k == 0 ? (n.operands[k].neg ? "-" : "") : (n.operands[k].neg ? " - " : " + ")) + OperandText(g, n.operands[k]);
      rows += fmt::format("  %{:<6} = {:<34} {:>4}  stage {:<3} [{}, {}]  {}\n", id, expr, TypeText(n), g.StageOf(id), n.range[0].lo,
                          n.range[0].hi, shared ? fmt::format("shared (feeds {} outputs)", feeds[id].size()) : "own");
    } else if (n.op == Op::kRequant) {
      const Use& a = n.operands[0];
      rows += fmt::format("  %{:<6} = clamp(({}{} + {}) >> {}, {}, {})  {}  stage {}  (requant)\n", id, a.neg ? "-" : "",
                          OperandText(g, a), n.add, n.shift, n.lo, n.hi, TypeText(n), g.StageOf(id));
    } else if (n.op == Op::kCmp) {
      rows += fmt::format("  %{:<6} = {} {} {}  ? 1 : 0   stage {}  (threshold test)\n", id, OperandText(g, n.operands[0]),
                          hw::ir2::kPredicates[n.pred], OperandText(g, n.operands[1]), g.StageOf(id));
    }
  }
  std::string& t = e.text;
  if (out.op == Op::kConst)
    t += fmt::format("this output is the constant {} (no adders: every weight is zero and the requantization folds)\n", out.value);
  t += fmt::format("adder tree: {} adders ({} shared with other neurons; the whole layer has {}), output computed in pipeline stage {}\n",
                   e.adders, e.shared_adders, e.op_adders, e.stages);
  t += "  node      expression                          type  stage  range  role\n" + rows;

  // Graphviz: one cluster per stage, inputs on top; red edges subtract.
  std::string& d = e.dot;
  d += o.dot_comment + "\ndigraph neuron {\n  rankdir=TB;\n  node [shape=box, fontname=monospace];\n";
  d += fmt::format("  labelloc=t; label=\"{}\";\n", DotEscape(o.title + "; red edge = subtract"));
  std::set<int> stages;
  for (int id : cone) stages.insert(g.nodes[id].op == Op::kInput ? -1 : g.StageOf(id));
  for (int stage : stages) {
    d += fmt::format("  subgraph cluster_stage{} {{\n    label=\"{}\"; style=dashed; color=gray;\n", stage + 1,
                     stage < 0 ? "inputs (registered upstream)" : fmt::format("stage {}", stage));
    for (int id : cone) {
      const Node& n = g.nodes[id];
      if ((n.op == Op::kInput ? -1 : g.StageOf(id)) != stage || n.op == Op::kConst) continue;
      std::string label;
      if (n.op == Op::kInput) label = o.input_label(n);
      else if (n.op == Op::kRequant)
        label = fmt::format("%{} = requant\\n(+{}) >> {}, clamp [{}, {}]\\n{}, stage {}", id, n.add, n.shift, n.lo, n.hi, TypeText(n), g.StageOf(id));
      else if (n.op == Op::kCmp)
        label = fmt::format("%{} = cmp {}\\n{}, stage {}", id, hw::ir2::kPredicates[n.pred], TypeText(n), g.StageOf(id));
      else
        label = fmt::format("%{} = {}\\n{}, stage {}", id, hw::ir2::Info(n.op).name, TypeText(n), g.StageOf(id));
      const bool shared = feeds[id].size() > 1;
      d += fmt::format("    n{} [label=\"{}\"{}];\n", id, label, shared ? ", style=filled, fillcolor=lightyellow" : "");
    }
    d += "  }\n";
  }
  for (int id : cone)
    for (const Use& u : g.nodes[id].operands) {
      if (g.nodes[u.node].op == Op::kConst) continue;
      const std::string lab = u.shift ? fmt::format("<<{}", u.shift) : "";
      d += fmt::format("  n{} -> n{} [label=\"{}\"{}];\n", u.node, id, lab, u.neg ? ", color=red, fontcolor=red" : "");
    }
  d += "}\n";
  return e;
}

}  // namespace hw::explain
