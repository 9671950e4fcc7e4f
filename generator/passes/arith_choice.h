// The arithmetic of a dense layer: how its weight matrix becomes an adder graph (per-weight CSD trees or the
// shared CMVM graph, at a depth mode and effort), chosen per layer; and the comment that describes a neuron in
// the generated RTL. passes/lower_layer_ir2 builds the layer's IR v2 graph from these.
#pragma once

#include <map>
#include <string>

#include "arith/cmvm.h"
#include "model/model.h"

namespace hw::passes {

enum class ArithMode { kCsd, kCmvm };
const char* ToString(ArithMode m);

struct ArithChoice {
  ArithMode mode = ArithMode::kCmvm;
  arith::DepthMode depth = arith::DepthMode::kUnconstrained;
  int extra_depth = 0;
  int effort = 1;  // arith::CmvmOptions::effort
  // CMVM only: solve W^T (at `depth` for W^T) and transpose the graph back (transposition principle), instead of
  // solving W. Same matrix, a different shape: sums of inputs shared by a few outputs instead of rows finished
  // one by one, which carries fewer partial sums across pipeline registers on Fashion's fc1 (docs/performance.md,
  // "Pipeline flip-flops"). Adder depth is not bounded by W's minimum (W^T's is).
  bool transposed = false;
  // CMVM only: the search makes plain CSE restarts only (arith::CmvmOptions::plain_only). `--registers min` sets
  // it on some of its candidates.
  bool plain_only = false;
  // `--registers min`: the layer's graph is chosen by its pipeline flip-flop bits among a few candidates, not set
  // by the fields above alone (passes/register_choice.h resolves it into a plain choice).
  bool fewest_registers = false;
};

struct LowerOptions {
  ArithChoice arith;                             // default for every layer
  std::map<std::string, ArithChoice> per_layer;  // overrides by layer name
};

// The adder graph used for a dense layer under `choice` (also for reports and `explain`).
arith::AdderGraph BuildLayerGraph(const model::DenseLayer& d, const model::IntType& input_type,
                                  const ArithChoice& choice);

// The comment heading output neuron `o` of a dense layer in the generated RTL: bias, M (and its signed digits),
// S, clamp (or the thresholds), and every nonzero weight with its signed digits.
std::string NeuronNote(const model::DenseLayer& d, int o);

}  // namespace hw::passes
