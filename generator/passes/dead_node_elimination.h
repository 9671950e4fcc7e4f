// Removes nodes that no output depends on and renumbers the rest (keeping topological order).
// Inputs are always kept, so that input node i stays node i.
#pragma once

#include "passes/pass.h"

namespace hw::passes {

class DeadNodeEliminationPass : public ModulePass {
 public:
  std::string name() const override { return "dead-node-elimination"; }
  bool Run(ir::Module& m) override;
};

}  // namespace hw::passes
