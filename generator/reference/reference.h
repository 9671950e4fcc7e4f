// Bit-exact reference forward pass (docs/semantics.md), computed from the model's weights directly with
// Eigen — never from an adder graph — so that co-simulation checks the whole generator chain.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "model/model.h"

namespace hw::reference {

// Rows are vectors (batch), columns are elements.
using Batch = Eigen::Matrix<int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Trace {
  // layers[i] is the output of model layer i; layers.back() is the model output.
  std::vector<Batch> layers;
  const Batch& output() const { return layers.back(); }
};

// y = clamp((acc * m + 2^(s-1)) >> s, lo, hi), exactly as in docs/semantics.md.
int64_t Requantize(int64_t acc, int64_t m, int64_t s, int64_t lo, int64_t hi);

// Runs the whole model on a batch. Throws hw::Error if an input element lies outside the declared
// input type or the batch has the wrong width.
Trace Run(const model::Model& model, const Batch& inputs);

// Checks a batch against the model's input type; throws hw::Error naming `source`, row and column.
void CheckInputs(const model::Model& model, const Batch& inputs, const std::string& source);

}  // namespace hw::reference
