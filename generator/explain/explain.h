// `hardwire explain`: one neuron of a dense layer, for students. Its weights with their signed digits, and
// the part of the scheduled adder graph that computes it (own adders, subexpressions shared with other
// neurons, the multiply by M and the requantization), as terminal text and as Graphviz DOT with every
// adder's operands, shifts, signs, width and pipeline stage.
#pragma once

#include <string>
#include <vector>

#include "ir/datapath.h"
#include "model/model.h"

namespace hw::explain {

struct NeuronExplanation {
  std::string text;  // terminal form
  std::string dot;   // Graphviz
  int adders = 0;         // adders in the cone of the output
  int shared_adders = 0;  // of which also feed other neurons
  int stages = 0;         // pipeline stage of the output node
  int op_adders = 0;      // adders of the whole op, all neurons (language-model explain; 0 for dense chains)
};

// `layer` is the model layer index (must be dense), `neuron` the output channel. `module` is the scheduled,
// named module of that layer (driver::Compile(...).design.layers[layer]). Throws hw::Error for a bad
// layer or neuron.
NeuronExplanation ExplainNeuron(const model::Model& model, const ir::Module& module, int layer, int neuron);

// `s` with double quotes and backslashes escaped, for a Graphviz label.
std::string DotEscape(const std::string& s);

// Layer index by name or decimal index; throws hw::Error naming the model file.
int FindLayer(const model::Model& model, const std::string& name_or_index);

}  // namespace hw::explain
