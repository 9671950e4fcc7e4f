// `hardwire explain`: one neuron of a dense layer, for students. Its weights with their signed digits, and
// the part of the scheduled adder graph that computes it (own adders, subexpressions shared with other
// neurons, the multiply by M and the requantization), as terminal text and as Graphviz DOT with every
// adder's operands, shifts, signs, width and pipeline stage.
#pragma once

#include <string>
#include <vector>

#include "model/model.h"
#include "passes/arith_choice.h"

namespace hw::explain {

struct NeuronExplanation {
  std::string text;  // terminal form
  std::string dot;   // Graphviz
  int adders = 0;         // adders in the cone of the output
  int shared_adders = 0;  // of which also feed other neurons
  int stages = 0;         // pipeline stage of the output node
  int op_adders = 0;      // adders of the whole op, all neurons (language-model explain; 0 for dense chains)
};

// `layer` is the model layer index (must be dense), `neuron` the output channel. The layer is lowered on its own
// to IR v2 exactly as `generate` lowers it (passes/lower_layer_ir2.h, the same arithmetic choice) and scheduled
// with K = `adders_per_stage`, so the adders, ids and stages shown are the ones in the generated layer module.
// Throws hw::Error for a bad layer or neuron.
NeuronExplanation ExplainNeuron(const model::Model& model, int layer, int neuron, const passes::ArithChoice& choice,
                                int adders_per_stage);

// "weights: N nonzero of M, D signed digits ..." and one row per nonzero weight with its signed digits.
std::string WeightTable(const int64_t* row, int length);

// `s` with double quotes and backslashes escaped, for a Graphviz label.
std::string DotEscape(const std::string& s);

// Layer index by name or decimal index; throws hw::Error naming the model file.
int FindLayer(const model::Model& model, const std::string& name_or_index);

}  // namespace hw::explain
