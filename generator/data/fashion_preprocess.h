// THE preprocessing of a 28x28 Fashion-MNIST image into a model input vector. The trainer
// (examples/fashion_mnist) and the test-set export both call this, so a shipped model and its co-simulation see
// exactly the same integers. The name of the preprocessing a model was trained with is recorded in its
// weights directory (training.json, field "preprocess"); pass that name here, and a name that does not match
// the model (length or bits) is an error.
//
// Names:
//   full_u<B>          all 784 pixels, each requantized from 8 to B bits           (length 784)
//   pool<P>x<P>_u<B>   PxP average pooling (P in 2, 4, 7), then requantized to B bits (length (28/P)^2)
// with B in 1..8. Every output element is  min(2^B - 1, round_half_up(sum / (P*P * 2^(8-B))))  where `sum` is
// the sum of the P*P pixels of the block (P = 1 for full_*), so it is unsigned with B bits.
// Example: pool2x2_u8 maps the block {10, 11, 12, 12} to round(45 / 4) = 11.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/idx.h"

namespace hw::data {

struct PreprocessSpec {
  std::string name;
  int pool = 1;   // block side P
  int bits = 8;   // output bits B (unsigned)
  int rows = 28;  // output image rows = 28 / P
  int cols = 28;
  int length() const { return rows * cols; }
};

// Parses and validates a preprocessing name; throws hw::Error listing the accepted forms if unknown.
PreprocessSpec ParsePreprocess(const std::string& name);

// Preprocesses one 28x28 image (`rows`, `cols` must be 28). Throws hw::Error for an unknown name or a wrong size.
std::vector<int64_t> FashionPreprocess(const std::string& name, const uint8_t* pixels, int rows = 28,
                                       int cols = 28);
// All images of a set, one vector per image.
std::vector<std::vector<int64_t>> FashionPreprocessAll(const std::string& name, const IdxImages& images);

// Reads the "preprocess" field of <weights_dir>/training.json (throws hw::Error if missing or invalid).
std::string ReadPreprocessName(const std::string& weights_dir);

// Checks that preprocessing `name` produces what a model declares as its input (length and unsigned bits);
// throws hw::Error naming `model_path` otherwise.
void CheckPreprocessMatchesInput(const std::string& name, int input_length, bool input_signed, int input_bits,
                                 const std::string& model_path);

}  // namespace hw::data
