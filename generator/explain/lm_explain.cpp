#include "explain/lm_explain.h"

#include <fmt/format.h>

#include "arith/csd.h"
#include "common/diag.h"
#include "explain/cone.h"
#include "passes/ir2_passes.h"
#include "passes/lower_lm.h"

namespace hw::explain {

using hw::ir2::Graph;
using hw::ir2::Node;
using hw::ir2::TypeOf;

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

  ConeOptions co;
  co.title = fmt::format("{} neuron {}: M = {}, S = {}", op->name, neuron, op->requant.M(neuron), op->requant.S(neuron));
  co.dot_comment = fmt::format("// hardwire explain: op '{}' neuron {} of {}", op->name, neuron, m.name);
  co.input_label = [&](const Node& n) {
    const int i = std::stoi(n.symbol.substr(1));
    return fmt::format("{}\\n{}\\nw = {}", n.symbol, TypeText(n), op->weight[static_cast<size_t>(neuron) * op->in_length + i]);
  };
  NeuronExplanation e = ExplainCone(g, y, neuron, co);
  const int64_t mult = op->requant.M(neuron), shift = op->requant.S(neuron);
  std::string t;
  t += fmt::format("op '{}' (dense {} -> {}) of {}, neuron {}, {} adder level(s) per pipeline stage\n", op->name, op->in_length,
                   op->length, m.name, neuron, adders_per_stage);
  t += fmt::format("y[{}] = clamp(((sum_i W[{}][i] * x[i]) * {} + {}) >> {}, {}, {})   x: {} in [{}, {}]\n\n", neuron, neuron, mult,
                   shift > 0 ? (int64_t{1} << (shift - 1)) : 0, shift, op->lo, op->hi, in.name, in.lo, in.hi);
  t += WeightTable(op->weight.data() + static_cast<size_t>(neuron) * op->in_length, op->in_length);
  t += fmt::format("multiplier M = {} = {}, shift S = {}\n\n", mult, arith::CsdToString(arith::CsdDigits(mult)), shift);
  e.text = t + e.text;
  return e;
}

}  // namespace hw::explain
