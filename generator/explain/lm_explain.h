// `hardwire explain` for a language model (a graph manifest): one output of one dense op, for students. The op
// is lowered on its own by the same function and with the same optimizer options as in the whole model
// (passes/lower_lm LowerDense), so the adders shown are the ones in the generated RTL; stages count from the
// op's inputs (stage 0), as the op's inputs arrive registered from the ops before it.
#pragma once

#include <string>

#include "arith/cmvm.h"
#include "explain/explain.h"
#include "model/lm_model.h"

namespace hw::explain {

// Throws hw::Error naming the manifest and --layer / --neuron for an unknown op, an op that is not dense or a
// neuron out of range.
NeuronExplanation ExplainLmNeuron(const model::LmModel& model, const std::string& op_name, int neuron, int adders_per_stage,
                                  const arith::CmvmOptions& cmvm = {});

}  // namespace hw::explain
