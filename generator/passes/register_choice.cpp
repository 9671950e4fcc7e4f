#include "passes/register_choice.h"

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
  std::vector<ArithChoice> candidates = {plain};
  ArithChoice min = plain;
  min.depth = arith::DepthMode::kMinimum;
  min.transposed = false;
  if (plain.depth != arith::DepthMode::kMinimum || plain.transposed) candidates.push_back(min);
  min.transposed = true;
  if (!plain.transposed || plain.depth != arith::DepthMode::kMinimum) candidates.push_back(min);
  // More shapes (jet-shaped model at K = 2: 64,835 -> 62,533 bits; Fashion unchanged, +1.6 s of solves)
  for (const bool t : {false, true}) {
    ArithChoice c = plain;
    c.transposed = t;
    c.depth = arith::DepthMode::kMinimumPlusK, c.extra_depth = 1;
    candidates.push_back(c);
    c.depth = arith::DepthMode::kMinimum, c.effort = 0;
    candidates.push_back(c);
  }
  ArithChoice free_t = plain;
  free_t.transposed = true, free_t.depth = arith::DepthMode::kUnconstrained;
  if (!plain.transposed || plain.depth != arith::DepthMode::kUnconstrained) candidates.push_back(free_t);
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
