// Random graph models with the tiny language model's structure (embedding, position, blocks of rmsnorm,
// attention and a table-activation FFN, final norm, logits, sample), for tests and sweeps. Weights and tables
// are random; scales are chosen so that values use their ranges without saturating everywhere.
#pragma once

#include <cstdint>
#include <string>

#include "model/safetensors.h"

namespace hw::model {

struct RandomLmSpec {
  int vocab = 12;
  int d = 16;
  int heads = 2;
  int context = 8;
  int ffn = 32;
  int blocks = 1;
  int weight_bits = 4;
};

struct RandomLmFiles {
  std::string manifest;  // model.json text
  TensorMap tensors;     // for SerializeSafetensors
};

RandomLmFiles RandomLm(const RandomLmSpec& spec, uint64_t seed);
// Writes dir/model.json and dir/<name>.safetensors.
void WriteRandomLm(const RandomLmSpec& spec, uint64_t seed, const std::string& dir);

}  // namespace hw::model
