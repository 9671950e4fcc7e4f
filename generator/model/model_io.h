// Loading and writing model files (docs/model-format.md).
#pragma once

#include <string>

#include "model/model.h"

namespace hw::model {

// Loads and fully validates `manifest_path` and the tensors file it names. Every problem found is reported
// in one hw::Error, one line each, naming the file, the layer and the field.
Model LoadModel(const std::string& manifest_path);

// Loads a model from an in-memory manifest plus tensor bytes (for tests and fuzzing). `manifest_name`
// and `tensors_name` appear in error messages.
Model ParseModel(const std::string& manifest_json, const std::string& manifest_name,
                 const std::string& tensors_bytes, const std::string& tensors_name);

// Writes `dir`/model.json and `dir`/<model.tensors_file>. Deterministic bytes.
void WriteModel(const Model& model, const std::string& dir);

// Manifest JSON text for `model` (what WriteModel writes to model.json).
std::string ManifestJson(const Model& model);

}  // namespace hw::model
