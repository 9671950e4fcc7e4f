// Gives every node a stable, legal Verilog name derived from what it is, where it sits and its level:
//   x12          input element 12
//   n5_l3_0      first adder at level 3 of neuron 5's own tree
//   s_l2_7       eighth adder at level 2 shared by several neurons
//   m5_l4_0      first adder at level 4 of neuron 5's multiply by M
//   y5           neuron 5's requantized output
//   max_l2_1     second compare-select at level 2 of an argmax
// Same IR in, same names out; names never depend on pointers or hash order.
#pragma once

#include "passes/pass.h"

namespace hw::emit {

class NameNodesPass : public passes::ModulePass {
 public:
  std::string name() const override { return "name-nodes"; }
  bool Run(ir::Module& m) override;
  bool leaves_ranges_valid() const override { return true; }
};

}  // namespace hw::emit
