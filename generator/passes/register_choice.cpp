#include "passes/register_choice.h"

#include <algorithm>

#include "passes/lower_layer_ir2.h"

namespace hw::passes {

ArithChoice ChooseForRegisters(const model::Model& model, int index, const ArithChoice& choice, const ir2::PassOptions& po,
                               hw::ir2::Graph* lowered) {
  ArithChoice plain = choice;
  plain.fewest_registers = false;
  if (!choice.fewest_registers || choice.mode != ArithMode::kCmvm ||
      !std::holds_alternative<model::DenseLayer>(model.layers[index].op)) {
    if (lowered) *lowered = LowerLayerToIr2(model, index, plain);
    return plain;
  }
  // Candidates in order of preference on ties; one that equals an earlier one (e.g. min-depth when that is the
  // choice already) is not solved twice.
  std::vector<ArithChoice> candidates;
  auto add = [&](const ArithChoice& c) {
    const auto same = [&](const ArithChoice& o) {
      return o.depth == c.depth && o.transposed == c.transposed && o.effort == c.effort && o.plain_only == c.plain_only &&
             (c.depth != arith::DepthMode::kMinimumPlusK || o.extra_depth == c.extra_depth);
    };
    if (std::none_of(candidates.begin(), candidates.end(), same)) candidates.push_back(c);
  };
  auto shape = [&](bool transposed, arith::DepthMode depth, int extra_depth, int effort, bool plain_only) {
    ArithChoice c = plain;
    c.transposed = transposed, c.depth = depth, c.extra_depth = extra_depth, c.effort = effort;
    c.plain_only = plain_only;
    return c;
  };
  using arith::DepthMode;
  const auto& dense = std::get<model::DenseLayer>(model.layers[index].op);
  const bool small = static_cast<long>(dense.weight.rows) * dense.weight.cols <= 4096;
  add(plain);
  for (const bool t : {false, true})
    for (const bool p : {false, true}) {
      if (t && !p && !small) continue;
      add(shape(t, DepthMode::kMinimum, 0, plain.effort, p));
      add(shape(t, DepthMode::kMinimumPlusK, 1, plain.effort, p));
      add(shape(t, DepthMode::kUnconstrained, 0, plain.effort, p));
      if (!p) add(shape(t, DepthMode::kMinimum, 0, 0, false));
    }
  struct Figures {
    long bits = 0, adders = 0;
    int latency = 0;
    hw::ir2::Graph lowered;  // before the pipeline (kept only when asked for)
  };
  auto measure = [&](const ArithChoice& c) {
    Figures f;
    hw::ir2::Graph g = LowerLayerToIr2(model, index, c);
    if (lowered) f.lowered = g;
    ir2::PassManager(ir2::DefaultPipeline(), po).Run(g);
    f.latency = g.latency;
    for (const hw::ir2::Node& n : g.nodes) {
      if (n.op == hw::ir2::Op::kReg) f.bits += hw::ir2::TypeOf(n.range[0]).width;
      if (n.op == hw::ir2::Op::kAdd) f.adders += std::max<long>(1, static_cast<long>(n.operands.size()) - 1);
    }
    return f;
  };
  size_t best = 0;
  Figures bf = measure(candidates[0]);
  const int latency = bf.latency;
  for (size_t i = 1; i < candidates.size(); ++i) {
    Figures f = measure(candidates[i]);
    if (f.latency > latency) continue;
    if (f.bits < bf.bits || (f.bits == bf.bits && f.adders < bf.adders)) best = i, bf = std::move(f);
  }
  if (lowered) *lowered = std::move(bf.lowered);
  return candidates[best];
}

}  // namespace hw::passes
