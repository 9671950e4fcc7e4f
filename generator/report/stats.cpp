#include "report/stats.h"

#include <fmt/format.h>

#include "arith/csd.h"

namespace hw::report {

namespace {

// Weights, nonzero weights and their signed digits: figures of the model itself, whatever the lowering.
LayerStats WeightFigures(const model::Model& model, int index) {
  LayerStats l;
  l.name = model.layers[index].name;
  l.kind = model.layers[index].kind();
  if (const auto* d = std::get_if<model::DenseLayer>(&model.layers[index].op)) {
    l.weights = static_cast<long>(d->in) * d->out;
    for (int64_t w : d->weight.w)
      if (w != 0) ++l.nonzero_weights, l.nonzero_digits += static_cast<long>(arith::CsdDigits(w).size());
  }
  return l;
}

void Accumulate(DesignStats& s, const LayerStats& l) {
  s.total.weights += l.weights;
  s.total.nonzero_weights += l.nonzero_weights;
  s.total.nonzero_digits += l.nonzero_digits;
  s.total.adders += l.adders;
  s.total.adder_bits += l.adder_bits;
  s.total.requants += l.requants;
  s.total.compare_selects += l.compare_selects;
  s.total.registers += l.registers;
  s.total.register_bits += l.register_bits;
  s.total.levels += l.levels;
  s.layers.push_back(l);
}

// The top's input register and the totals' name and latency.
void Finish(DesignStats& s, long input_bits, int latency) {
  s.total.registers += 1;
  s.total.register_bits += input_bits;
  s.total.name = "total";
  s.total.latency = latency;
}

}  // namespace

DesignStats ComputeStats(const model::Model& model, const std::vector<hw::ir2::Graph>& layers, const hw::ir2::TimingModel& timing) {
  using hw::ir2::Op;
  DesignStats s;
  // ns figures: the clock target's model, or the fpga model for a level schedule
  const hw::ir2::TimingModel delays = hw::ir2::NsModel(timing);
  s.timing_model = timing.levels() ? timing.Describe() + "; delays estimated with the fpga model (xc7 logic, no routing)" : timing.Describe();
  int latency = 1;  // the top's input register
  for (size_t i = 0; i < layers.size(); ++i) {
    const hw::ir2::Graph& g = layers[i];
    LayerStats l = WeightFigures(model, static_cast<int>(i));
    for (const hw::ir2::Node& n : g.nodes) {
      const long w = n.range.empty() ? 0 : hw::ir2::TypeOf(n.range[0]).width;
      switch (n.op) {
        case Op::kAdd: {
          const long k = n.operands.size() == 1 ? (n.operands[0].neg ? 1 : 0) : static_cast<long>(n.operands.size()) - 1;
          l.adders += k, l.adder_bits += k * w;
          break;
        }
        case Op::kRequant: case Op::kCmp: ++l.requants; break;
        case Op::kCmpSel: ++l.compare_selects; break;
        case Op::kReg: ++l.registers, l.register_bits += w; break;
        default: break;
      }
    }
    for (const hw::ir2::Slot& at : g.schedule) l.levels = std::max(l.levels, at.level);
    l.stage_logic_ns = hw::ir2::StageLogicDelays(g, delays);
    for (double d : l.stage_logic_ns) l.critical_ns = std::max(l.critical_ns, d + delays.RegisterOverheadNs());
    l.latency = g.latency;
    s.total.critical_ns = std::max(s.total.critical_ns, l.critical_ns);
    latency += g.latency;
    Accumulate(s, l);
  }
  Finish(s, model.input_length * static_cast<long>(model.input.bits), latency);
  return s;
}

std::string FormatStatsTable(const DesignStats& s) {
  std::string out = fmt::format("{:<14} {:>7} {:>9} {:>8} {:>8} {:>9} {:>10} {:>9} {:>11} {:>7}\n", "layer", "kind",
                                "weights", "nonzero", "digits", "adders", "adder_bits", "registers", "reg_bits", "latency");
  auto row = [&](const LayerStats& l) {
    out += fmt::format("{:<14} {:>7} {:>9} {:>8} {:>8} {:>9} {:>10} {:>9} {:>11} {:>7}\n", l.name, l.kind, l.weights,
                       l.nonzero_weights, l.nonzero_digits, l.adders, l.adder_bits, l.registers, l.register_bits, l.latency);
  };
  for (const LayerStats& l : s.layers) row(l);
  row(s.total);
  return out;
}

}  // namespace hw::report
