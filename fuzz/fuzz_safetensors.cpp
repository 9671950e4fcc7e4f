// libFuzzer target: the safetensors reader. Any input must either parse or throw hw::Error; a parsed file
// must survive a write/read round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/diag.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  hw::model::TensorMap t;
  try {
    t = hw::model::ParseSafetensors(bytes, "fuzz.safetensors");
  } catch (const hw::Error&) {
    return 0;
  }
  const hw::model::TensorMap back = hw::model::ParseSafetensors(hw::model::SerializeSafetensors(t), "roundtrip");
  if (back.size() != t.size()) std::abort();
  for (const auto& [name, tensor] : t) {
    const auto& b = back.at(name);
    if (b.dtype != tensor.dtype || b.shape != tensor.shape || b.values != tensor.values) std::abort();
    if (tensor.numel() != static_cast<int64_t>(tensor.values.size())) std::abort();
  }
  return 0;
}
