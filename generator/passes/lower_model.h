// Lowering: model layers -> datapath modules.
//
// dense: the weight matrix becomes a shift-add graph (per-weight CSD trees or the shared CMVM graph),
//        each output is multiplied by its M with a CSD shift-add tree, and a requant node adds the
//        rounding constant with the bias folded in  (acc + b) * M + 2^(S-1) = acc * M + (b * M + 2^(S-1)),
//        shifts and clamps.
// argmax: a balanced tournament of compare-select nodes; ties keep the lower index.
#pragma once

#include <map>
#include <string>

#include "arith/cmvm.h"
#include "ir/datapath.h"
#include "model/model.h"

namespace hw::passes {

enum class ArithMode { kCsd, kCmvm };
const char* ToString(ArithMode m);

struct ArithChoice {
  ArithMode mode = ArithMode::kCmvm;
  arith::DepthMode depth = arith::DepthMode::kUnconstrained;
  int extra_depth = 0;
  int effort = 1;  // arith::CmvmOptions::effort
};

struct LowerOptions {
  ArithChoice arith;                             // default for every layer
  std::map<std::string, ArithChoice> per_layer;  // overrides by layer name
};

// Builds one module per layer; module names are <model>_l<index>_<layer>.
ir::Design LowerModel(const model::Model& model, const LowerOptions& options);
// Lowers only layer `index` (the returned design holds that one module).
ir::Design LowerModel(const model::Model& model, const LowerOptions& options, int index);

// The adder graph used for a dense layer under `choice` (exposed for reports and `explain`).
arith::AdderGraph BuildLayerGraph(const model::DenseLayer& d, const model::IntType& input_type,
                                  const ArithChoice& choice);

// The comment heading output neuron `o` of a dense layer in the generated RTL: bias, M (and its signed digits),
// S, clamp (or the thresholds), and every nonzero weight with its signed digits.
std::string NeuronNote(const model::DenseLayer& d, int o);

}  // namespace hw::passes
