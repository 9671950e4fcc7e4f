#include "report/stats.h"

#include <fmt/format.h>

#include "arith/csd.h"
#include "schedule/pipeline.h"

namespace hw::report {

DesignStats ComputeStats(const model::Model& model, const ir::Design& design) {
  DesignStats s;
  for (size_t i = 0; i < design.layers.size(); ++i) {
    const ir::Module& m = design.layers[i];
    LayerStats l;
    l.name = m.layer_name;
    l.kind = m.kind;
    if (const auto* d = std::get_if<model::DenseLayer>(&model.layers[m.layer_index].op)) {
      l.weights = static_cast<long>(d->in) * d->out;
      for (int64_t w : d->weight.w)
        if (w != 0) ++l.nonzero_weights, l.nonzero_digits += static_cast<long>(arith::CsdDigits(w).size());
    }
    for (const ir::Node& n : m.nodes) {
      if (n.kind == ir::NodeKind::kAdd) ++l.adders, l.adder_bits += n.width;
      if (n.kind == ir::NodeKind::kRequant) ++l.requants;
      if (n.kind == ir::NodeKind::kMaxSel) ++l.compare_selects;
      l.levels = std::max(l.levels, n.level);
    }
    const schedule::RegisterStats r = schedule::CountRegisters(m);
    l.registers = r.registers;
    l.register_bits = r.register_bits;
    l.latency = m.latency;
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
  // the top's input register
  s.total.registers += 1;
  s.total.register_bits += static_cast<long>(design.input_length) * design.input_type.bits;
  s.total.name = "total";
  s.total.latency = design.latency();
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
