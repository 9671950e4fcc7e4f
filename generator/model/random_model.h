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
  // Added for the hardening sweep; the defaults reproduce the draws above exactly, so that
  // RandomModel(RandomModelSpec{}, seed) is unchanged.
  int min_input = 0, max_input = 0;           // input length range; 0: use min_width/max_width
  int min_input_bits = 1;                     // input bits drawn from min_input_bits..max_input_bits
  int min_output_bits = 2, max_output_bits = 10;
  int encoding = -1;                          // -1: drawn per layer; else a WeightEncoding value for every layer
};

// The spec of model `index` of the random-model sweep (docs/hardening.md): the index cycles through
// categories — signed and unsigned weights of every width 1..16, binary, ternary, fan-in up to 4096,
// all-zero layers, 16-bit inputs with outputs up to 32 bits, deep chains, and extremes of M, S, weights
// and inputs. Use with seed = base seed + index.
RandomModelSpec SweepSpec(int index);
// A one-line description of SweepSpec(index)'s category, for logs.
const char* SweepCategory(int index);

// Same spec and seed -> same model (name "rand<seed>").
Model RandomModel(const RandomModelSpec& spec, uint64_t seed);

// Turns dense layer `index` into a threshold layer (docs/semantics.md, "dense with thresholds"): 2- or 3-bit
// unsigned outputs, each neuron's 2^bits - 1 thresholds sorted random integers in [-200, 200].
void UseRandomThresholds(Model& m, int index, uint64_t seed);

}  // namespace hw::model
