#include "schedule/pipeline.h"

#include <algorithm>

#include "common/diag.h"

namespace hw::schedule {

bool PipelineSchedulePass::Run(ir::Module& m) {
  HW_CHECK(k_ >= 1, "adders per stage must be >= 1");
  bool changed = m.adders_per_stage != k_;
  m.adders_per_stage = k_;
  int last = 1;
  for (ir::Node& n : m.nodes) {
    int level = 0;
    if (n.kind != ir::NodeKind::kInput && n.kind != ir::NodeKind::kConst) {
      level = 1;
      for (const ir::Operand& op : n.ops) level = std::max(level, m.nodes[op.node].level + 1);
    }
    const int stage = (level + k_ - 1) / k_;
    changed |= n.level != level || n.stage != stage;
    n.level = level;
    n.stage = stage;
  }
  for (int o : m.outputs) last = std::max(last, m.nodes[o].stage);
  changed |= m.latency != last;
  m.latency = last;
  return changed;
}

int DelayFor(const ir::Module& m, int id, int reader_stage) {
  const ir::Node& n = m.nodes[id];
  if (n.kind == ir::NodeKind::kConst) return 0;  // constants need no registers
  const int d = reader_stage - n.stage - (n.kind == ir::NodeKind::kInput ? 1 : 0);
  HW_CHECK(d >= 0, "node read before it is computed");
  return d;
}

std::vector<Taps> RegisterDepths(const ir::Module& m) {
  std::vector<Taps> depth(m.nodes.size());
  for (size_t id = 0; id < m.nodes.size(); ++id)
    for (const ir::Operand& op : m.nodes[id].ops) {
      const int d = DelayFor(m, op.node, m.nodes[id].stage);
      depth[op.node].value = std::max(depth[op.node].value, d);
      depth[op.node].index = std::max(depth[op.node].index, d);
    }
  for (int o : m.outputs) {
    const int d = DelayFor(m, o, m.latency + 1);
    if (m.nodes[o].kind == ir::NodeKind::kMaxSel) depth[o].index = std::max(depth[o].index, d);
    else depth[o].value = std::max(depth[o].value, d);
  }
  return depth;
}

RegisterStats CountRegisters(const ir::Module& m) {
  RegisterStats s;
  const std::vector<Taps> depth = RegisterDepths(m);
  for (size_t id = 0; id < m.nodes.size(); ++id) {
    const ir::Node& n = m.nodes[id];
    s.registers += depth[id].value;
    s.register_bits += static_cast<long>(depth[id].value) * n.width;
    if (n.kind == ir::NodeKind::kMaxSel) {
      s.registers += depth[id].index;
      s.register_bits += static_cast<long>(depth[id].index) * n.index_width;
    }
  }
  return s;
}

}  // namespace hw::schedule
