// Loading graph models (manifest version 2, docs/model-format.md "Graph models").
#pragma once

#include <string>

#include "model/lm_model.h"

namespace hw::model {

// Whether the manifest at `path` declares version 2 (a graph model). Reads only the manifest; a file that
// cannot be read or parsed answers false (the dense loader then reports the problem precisely).
bool IsGraphManifest(const std::string& path);

// Loads and fully validates a graph model. Every problem is reported in one hw::Error naming the file, the
// op and the field; manifest problems are reported before the tensors file is read.
LmModel LoadLmModel(const std::string& manifest_path);
LmModel ParseLmModel(const std::string& manifest_json, const std::string& manifest_name,
                     const std::string& tensors_bytes, const std::string& tensors_name);

}  // namespace hw::model
