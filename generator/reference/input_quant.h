// Input quantization (docs/semantics.md, "Input quantization"): real-valued inputs to the model's integer input,
// exactly as the imported graph's input quantizer computes them (float32 preprocessing, x / scale in float32,
// the quantizer's rounding; ONNX QuantizeLinear and QONNX Quant round half to even).
//
//   scale 0.5, zero point 0, clamp [-4, 3], ROUND:  [1.25, -0.75, 9.0]  ->  [2, -2, 3]   (2.5 -> 2, -1.5 -> -2)
#pragma once

#include <string>
#include <vector>

#include "model/model.h"
#include "reference/reference.h"

namespace hw::reference {

// The integer input value of real input element `index` (per-axis quantizers differ per element).
int64_t QuantizeInput(const model::InputQuantizer& q, double x, int index = 0);

// Reads a file of real-valued input vectors (one per line, numbers separated by spaces; '#' starts a comment)
// and quantizes them. Throws hw::Error naming the file, line and column (a non-number, a wrong length, a
// non-finite value) or the model when it has no input quantizer; nothing is returned half-read.
Batch ReadFloatInputs(const model::Model& model, const std::string& path);

}  // namespace hw::reference
