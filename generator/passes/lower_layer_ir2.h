// Lowering of one dense-chain layer (model::Model) to an IR v2 graph: the migration of the dense chain onto
// IR v2 (issue 9). The graph computes exactly what generator/reference computes for the layer
// (docs/semantics.md, "dense" and "argmax"), with the same adder graphs as the IR v1 lowering (lower_model.h):
//
//   inputs  x0 .. x{in-1}   (the layer's input type)
//   outputs y0 .. y{out-1}  (each within the layer's output type)
//
// dense:  the weight matrix's shift-and-add graph (CMVM or per-weight CSD), then per output neuron o the
//         multiply by M[o] as canonical signed digits and requant(acc*M + b*M + 2^(S-1), S, clamp) -- or, for a
//         threshold layer, lo + #{k : acc >= T[o][k] - b[o]} as comparisons and a count.
// argmax: a tournament of compare-selects (ties keep the lower index); the output is the index.
//
// Nodes are ordered for a reader: the inputs, the subexpressions shared by several neurons, then neuron by
// neuron (its own adders, its multiply by M and its requant) under a comment with its bias, M, S, clamp and
// every nonzero weight's signed digits. Node groups are "shared" and "neuron <o>" (for reports and explain).
#pragma once

#include "ir2/ir.h"
#include "model/model.h"
#include "passes/arith_choice.h"

namespace hw::passes {

// Graph name: <model>_l<index>_<layer>, as the IR v1 module name.
hw::ir2::Graph LowerLayerToIr2(const model::Model& model, int index, const ArithChoice& choice);

// The layer's choice under `options` (a per-layer override or the default).
const ArithChoice& ChoiceFor(const LowerOptions& options, const std::string& layer);

}  // namespace hw::passes
