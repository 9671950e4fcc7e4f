// In-memory form of a model file (manifest + tensors), after validation.
// See docs/model-format.md for the file format and docs/semantics.md for what the layers compute.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "arith/adder_graph.h"

namespace hw::model {

// A fixed-width integer element type.
struct IntType {
  bool is_signed = false;
  int bits = 8;
  int64_t min() const { return is_signed ? -(int64_t{1} << (bits - 1)) : 0; }
  int64_t max() const { return is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1; }
  bool operator==(const IntType&) const = default;
};

enum class WeightEncoding { kSigned, kUnsigned, kBinary, kTernary };
const char* ToString(WeightEncoding e);

struct DenseLayer {
  int in = 0;
  int out = 0;
  arith::IntMatrix weight;  // [out, in]
  WeightEncoding encoding = WeightEncoding::kSigned;
  int weight_bits = 8;
  bool has_bias = false;
  std::vector<int64_t> bias;        // [out]; zeros when !has_bias
  std::vector<int64_t> multiplier;  // [out], M >= 1
  std::vector<int64_t> shift;       // [out], 0 <= S <= 62
  // Threshold activation instead of requantization (docs/semantics.md): y = clamp_lo + #{k : acc >= T[o][k]},
  // threshold[o * L + k] with L = clamp_hi - clamp_lo, each row non-decreasing. multiplier/shift then hold 1/0.
  bool has_threshold = false;
  std::vector<int64_t> threshold;   // [out, L] row-major
  std::string threshold_tensor;
  int thresholds_per_channel() const { return static_cast<int>(clamp_hi - clamp_lo); }
  IntType output;
  int64_t clamp_lo = 0;
  int64_t clamp_hi = 0;
  // Tensor names as written in the manifest (kept so that a model round-trips).
  std::string weight_tensor, bias_tensor, multiplier_tensor, shift_tensor;
};

struct ArgmaxLayer {};

struct Layer {
  std::string name;
  std::variant<DenseLayer, ArgmaxLayer> op;
  const char* kind() const;
};

// How a real-valued input becomes the model's integer input (docs/semantics.md, "Input quantization"), as the
// imported graph's input quantizer computes it. Optional (hardwire import writes it; hand-written models take
// integers only).
struct InputQuantizer {
  bool present = false;
  struct Pre {
    std::string op;  // "add", "sub" (x - value), "sub_from" (value - x), "mul", "div" (x / value)
    double value = 0;
  };
  std::vector<Pre> pre;  // applied in order, in float32, before the quantizer
  double scale = 1;
  int64_t zero_point = 0;
  // Per-axis quantizers (ONNX QuantizeLinear with `axis`): one scale and zero point per input element; empty:
  // `scale` and `zero_point` apply to every element.
  std::vector<double> scales;
  std::vector<int64_t> zero_points;
  double scale_at(int i) const { return scales.empty() ? scale : scales[i]; }
  int64_t zero_point_at(int i) const { return zero_points.empty() ? zero_point : zero_points[i]; }
  int64_t code_min = 0, code_max = 0;
  // ROUND / HALF_EVEN, HALF_UP, HALF_DOWN, CEIL, FLOOR, UP, DOWN; SIGN (bipolar: value 1 for x >= 0, else 0);
  // NONE (the graph input is already integer: value = x, which must be an integer in the range).
  std::string rounding = "HALF_EVEN";
  // kAddZeroThenRound: QONNX Quant, round(clamp(x / scale + zero_point)); kRoundThenAddZero: ONNX
  // QuantizeLinear, clamp(rint(x / scale) + zero_point). Both compute x / scale in float32.
  enum class Order { kAddZeroThenRound, kRoundThenAddZero } order = Order::kAddZeroThenRound;
};

// The real value of one dense layer's output (the model's logits or final codes):
// real[o] = scale[o] * value[o] + offset[o] (vectors of size 1 apply to every element).
struct OutputScale {
  bool present = false;
  std::string layer;
  std::vector<double> scale, offset;
};

struct Model {
  std::string name;
  std::string manifest_path;  // as loaded, for error messages
  std::string tensors_file;   // relative to the manifest's directory
  int input_length = 0;
  IntType input;
  InputQuantizer input_quantizer;
  std::vector<Layer> layers;
  OutputScale output_scale;

  // Element type and length of the output of layer `i` (i = -1: the model input).
  IntType OutputType(int i) const;
  int OutputLength(int i) const;
};

// Bits of the argmax index for n candidates: max(1, ceil(log2 n)).
int ArgmaxIndexBits(int n);

}  // namespace hw::model
