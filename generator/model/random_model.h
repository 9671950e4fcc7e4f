// Seeded random models for tests, sweeps and benchmarks. Every draw is valid under docs/model-format.md,
// and the requantization shift is chosen from the layer's accumulator range so that outputs actually use
// their range (neither always clamped nor always zero).
#pragma once

#include <cstdint>

#include "model/model.h"

namespace hw::model {

struct RandomModelSpec {
  int min_layers = 1, max_layers = 3;       // dense layers (an argmax may follow)
  int min_width = 1, max_width = 12;        // input length and layer widths
  int min_weight_bits = 1, max_weight_bits = 12;
  int max_input_bits = 8;
  double zero_weight_fraction = 0.2;        // probability a weight is 0 (binary excluded)
  bool allow_argmax = true;
  bool extremes = false;  // favour most-negative weights, all-zero rows/columns, M and S at their limits
};

// Same spec and seed -> same model (name "rand<seed>").
Model RandomModel(const RandomModelSpec& spec, uint64_t seed);

}  // namespace hw::model
