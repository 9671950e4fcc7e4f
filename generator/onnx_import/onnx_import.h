// QONNX / ONNX import (docs/import.md): reads an ONNX file with Debian's libonnx protobuf messages and turns an
// MLP-shaped quantized graph into a hardwire model (model::Model, the same in-memory form LoadModel returns),
// plus an import report saying which ONNX nodes became which hardwire ops and how each quantizer was mapped.
//
//   Quant(x) -> MatMul(., Quant(W)) -> BatchNormalization -> Quant      (QONNX, as exported by Brevitas)
//   becomes  dense{ weight = integer codes of W, requant (b, M, S) per channel, clamp = the quantizer's grid }
//
// Data flows downward: this folder depends on model/ only; the CLI writes the result with WriteImport.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "model/model.h"

namespace hw::onnx_import {

struct ImportOptions {
  std::string name;  // model name; empty: derived from the file name
  // Reachable accumulator ranges up to this many values per channel are checked value by value (a proof of
  // exactness); larger ranges are checked at every threshold and the ends (exact for monotone chains).
  int64_t exhaustive_limit = int64_t{1} << 22;
};

struct ImportResult {
  model::Model model;
  nlohmann::json report;  // written as import.json
};

// Reads and imports `onnx_path`. Throws hw::Error naming the file, node, op type and field on any problem
// (malformed protobuf, missing initializer, unsupported op, non-integral quantizer grid, ...).
ImportResult ImportOnnx(const std::string& onnx_path, const ImportOptions& options = {});

// Same, from bytes in memory (tests and fuzzing); `file_name` appears in messages.
ImportResult ImportOnnxBytes(const std::string& bytes, const std::string& file_name, const ImportOptions& options = {});

// Writes dir/model.json, dir/<name>.safetensors and dir/import.json atomically (a temporary sibling directory,
// validated by loading it back with model::LoadModel, then renamed). A non-empty `dir` is replaced only when it
// holds a previous import (import.json).
void WriteImport(const ImportResult& result, const std::string& dir);

}  // namespace hw::onnx_import
