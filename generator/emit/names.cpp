#include "emit/names.h"

#include <fmt/format.h>

#include <map>

namespace hw::emit {

bool NameNodesPass::Run(ir::Module& m) {
  std::map<std::string, int> counters;
  bool changed = false;
  for (size_t id = 0; id < m.nodes.size(); ++id) {
    ir::Node& n = m.nodes[id];
    std::string prefix;
    switch (n.role) {
      case ir::Role::kInput: prefix = fmt::format("x{}", n.input_index); break;
      case ir::Role::kConst: prefix = fmt::format("c{}", id); break;
      case ir::Role::kOutput: prefix = fmt::format("y{}", n.neuron); break;
      case ir::Role::kNeuron: prefix = fmt::format("n{}_l{}", n.neuron, n.level); break;
      case ir::Role::kShared: prefix = fmt::format("s_l{}", n.level); break;
      case ir::Role::kScale: prefix = fmt::format("m{}_l{}", n.neuron, n.level); break;
      case ir::Role::kArgmax: prefix = fmt::format("max_l{}", n.level); break;
    }
    std::string name = prefix;
    if (n.role != ir::Role::kInput && n.role != ir::Role::kConst && n.role != ir::Role::kOutput)
      name = fmt::format("{}_{}", prefix, counters[prefix]++);
    changed |= n.name != name;
    n.name = std::move(name);
  }
  return changed;
}

}  // namespace hw::emit
