#include "passes/dead_node_elimination.h"

namespace hw::passes {

bool DeadNodeEliminationPass::Run(ir::Module& m) {
  const int n = static_cast<int>(m.nodes.size());
  std::vector<char> live(n, 0);
  for (int o : m.outputs) live[o] = 1;
  for (int id = n - 1; id >= 0; --id) {
    if (m.nodes[id].kind == ir::NodeKind::kInput) live[id] = 1;
    if (!live[id]) continue;
    for (const ir::Operand& op : m.nodes[id].ops) live[op.node] = 1;
  }
  std::vector<int> remap(n, -1);
  std::vector<ir::Node> kept;
  for (int id = 0; id < n; ++id) {
    if (!live[id]) continue;
    remap[id] = static_cast<int>(kept.size());
    ir::Node node = std::move(m.nodes[id]);
    for (ir::Operand& op : node.ops) op.node = remap[op.node];
    kept.push_back(std::move(node));
  }
  const bool changed = static_cast<int>(kept.size()) != n;
  m.nodes = std::move(kept);
  for (int& o : m.outputs) o = remap[o];
  return changed;
}

}  // namespace hw::passes
