// The part of a scheduled IR v2 graph that computes one output, for students: every adder in the output's cone
// (its own, or shared with other outputs), the requantization and threshold comparisons, as terminal rows and as
// Graphviz DOT with one cluster per pipeline stage. Shared by `explain` for dense chains (explain.h) and for
// language models (lm_explain.h); both lower the layer or op alone, exactly as in the whole design, and run
// range-analysis, schedule and sink (no registers materialized, so every node keeps its id and stage).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "explain/explain.h"
#include "ir2/ir.h"

namespace hw::explain {

struct ConeOptions {
  std::string title;        // the picture's label, e.g. "fc1 neuron 3: ..."
  std::string dot_comment;  // the DOT file's first line (a // comment)
  // The label of an input node in the picture (its name, type and weight, say).
  std::function<std::string(const hw::ir2::Node& input)> input_label;
};

// `outputs[k]` is the value of output k; `which` the one to explain. Fills adders, shared_adders, stages,
// op_adders, text (the adder-tree table) and dot.
NeuronExplanation ExplainCone(const hw::ir2::Graph& g, const std::vector<hw::ir2::Use>& outputs, int which, const ConeOptions& o);

// "u8" / "s12": the exact type of a node's first result.
std::string TypeText(const hw::ir2::Node& n);

}  // namespace hw::explain
