// libFuzzer target: the manifest parser and validator (model.json + tensors). The input is the manifest
// text; if it contains the separator line "\n--tensors--\n", the bytes after it are the tensors file,
// otherwise a fixed valid tensors file (the tiny test model's tensors) is used. Any input must either load
// or throw hw::Error; a loaded model must satisfy the invariants the rest of the generator relies on.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include "common/diag.h"
#include "model/model_io.h"
#include "model/safetensors.h"

namespace {

std::string TinyTensors() {
  using hw::model::DType;
  using hw::model::Tensor;
  hw::model::TensorMap t;
  t["fc1.weight"] = Tensor{DType::kI8, {3, 4}, {3, -1, 0, 7, 0, 0, 0, 0, -8, 5, 2, -3}};
  t["fc1.bias"] = Tensor{DType::kI8, {3}, {2, -1, 5}};
  t["fc1.multiplier"] = Tensor{DType::kI8, {3}, {5, 1, 3}};
  t["fc1.shift"] = Tensor{DType::kI8, {3}, {2, 0, 1}};
  t["fc2.weight"] = Tensor{DType::kI8, {2, 3}, {1, -2, 3, -1, 1, 0}};
  t["fc2.multiplier"] = Tensor{DType::kI8, {2}, {1, 1}};
  t["fc2.shift"] = Tensor{DType::kI8, {2}, {0, 0}};
  return hw::model::SerializeSafetensors(t);
}

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kTensors = TinyTensors();
  std::string manifest(reinterpret_cast<const char*>(data), size);
  std::string tensors = kTensors;
  static const std::string kSep = "\n--tensors--\n";
  if (const auto p = manifest.find(kSep); p != std::string::npos) {
    tensors = manifest.substr(p + kSep.size());
    manifest.resize(p);
  }
  hw::model::Model m;
  try {
    m = hw::model::ParseModel(manifest, "model.json", tensors, "tiny.safetensors");
  } catch (const hw::Error&) {
    return 0;
  }
  Check(m.input_length >= 1 && m.input_length <= 65536 && m.input.bits >= 1 && m.input.bits <= 16);
  Check(!m.layers.empty());
  int in = m.input_length;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    if (const auto* d = std::get_if<hw::model::DenseLayer>(&m.layers[i].op)) {
      Check(d->in == in && d->out >= 1 && d->out <= 65536);
      Check(d->weight.rows == d->out && d->weight.cols == d->in);
      Check(d->weight.w.size() == static_cast<size_t>(d->out) * d->in);
      Check(d->bias.size() == static_cast<size_t>(d->out) && d->multiplier.size() == d->bias.size() && d->shift.size() == d->bias.size());
      for (int o = 0; o < d->out; ++o) Check(d->multiplier[o] >= 1 && d->shift[o] >= 0 && d->shift[o] <= 62);
      Check(d->clamp_lo <= d->clamp_hi && d->clamp_lo >= d->output.min() && d->clamp_hi <= d->output.max());
      in = d->out;
    } else {
      Check(i + 1 == m.layers.size());
      in = 1;
    }
    (void)m.OutputType(static_cast<int>(i));
  }
  (void)hw::model::ManifestJson(m);
  return 0;
}
