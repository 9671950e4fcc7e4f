// Small hand-built IR modules shared by the pass tests.
#pragma once

#include "ir/datapath.h"

namespace hw::testing_modules {

// x0..x3 (4-bit unsigned) -> ((x0 + x1) + x2) + x3 chained (levels 1..3), an unused adder, then a requant
// at level 4 clamping to [0, 63].
inline ir::Module Chain() {
  ir::Module m;
  m.name = "chain";
  m.num_inputs = 4;
  m.input_type = model::IntType{false, 4};
  for (int i = 0; i < 4; ++i) {
    ir::Node n;
    n.kind = ir::NodeKind::kInput;
    n.input_index = i;
    m.AddNode(n);
  }
  int prev = 0;
  for (int i = 1; i < 4; ++i) {
    ir::Node a;
    a.kind = ir::NodeKind::kAdd;
    a.ops = {{prev, 0, false}, {i, 0, false}};
    prev = m.AddNode(a);
  }
  ir::Node dead;
  dead.kind = ir::NodeKind::kAdd;
  dead.ops = {{0, 0, false}, {1, 0, false}};
  m.AddNode(dead);
  ir::Node rq;
  rq.kind = ir::NodeKind::kRequant;
  rq.ops = {{prev, 0, false}};
  rq.rq = {0, 0, 0, 63};
  m.outputs = {m.AddNode(rq)};
  return m;
}

}  // namespace hw::testing_modules
