#include "passes/register_choice.h"

#include "passes/lower_layer_ir2.h"

namespace hw::passes {

ArithChoice ChooseForRegisters(const model::Model& model, int index, const ArithChoice& choice, const ir2::PassOptions& po) {
  ArithChoice plain = choice;
  plain.fewest_registers = false;
  if (!choice.fewest_registers || choice.mode != ArithMode::kCmvm ||
      !std::holds_alternative<model::DenseLayer>(model.layers[index].op))
    return plain;
  std::vector<ArithChoice> candidates = {plain};
  ArithChoice min = plain;
  min.depth = arith::DepthMode::kMinimum;
  min.transposed = false;
  if (plain.depth != arith::DepthMode::kMinimum || plain.transposed) candidates.push_back(min);
  min.transposed = true;
  if (!plain.transposed || plain.depth != arith::DepthMode::kMinimum) candidates.push_back(min);
  struct Figures {
    long bits = 0, adders = 0;
    int latency = 0;
  };
  auto measure = [&](const ArithChoice& c) {
    hw::ir2::Graph g = LowerLayerToIr2(model, index, c);
    ir2::PassManager(ir2::DefaultPipeline(), po).Run(g);
    Figures f;
    f.latency = g.latency;
    for (const hw::ir2::Node& n : g.nodes) {
      if (n.op == hw::ir2::Op::kReg) f.bits += hw::ir2::TypeOf(n.range[0]).width;
      if (n.op == hw::ir2::Op::kAdd) f.adders += std::max<long>(1, static_cast<long>(n.operands.size()) - 1);
    }
    return f;
  };
  size_t best = 0;
  const Figures first = measure(candidates[0]);
  Figures bf = first;
  for (size_t i = 1; i < candidates.size(); ++i) {
    const Figures f = measure(candidates[i]);
    if (f.latency > first.latency) continue;
    if (f.bits < bf.bits || (f.bits == bf.bits && f.adders < bf.adders)) best = i, bf = f;
  }
  return candidates[best];
}

}  // namespace hw::passes
