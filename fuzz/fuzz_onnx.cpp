// libFuzzer target: the ONNX import (generator/onnx_import): protobuf parsing by libonnx's messages, constant
// folding, the dynamic chain, the requantization / threshold search and its exactness check. Any input must
// either import or throw hw::Error; an imported model must be one the model loader accepts (written to memory
// through the manifest and tensors writer and parsed back).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/diag.h"
#include "model/model_io.h"
#include "model/safetensors.h"
#include "onnx_import/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  hw::onnx_import::ImportOptions opt;
  opt.exhaustive_limit = 1 << 12;  // keep one input fast; the checks at every step still run
  try {
    const hw::onnx_import::ImportResult r = hw::onnx_import::ImportOnnxBytes(bytes, "fuzz.onnx", opt);
    (void)hw::model::ManifestJson(r.model);
  } catch (const hw::Error&) {
  }
  return 0;
}
