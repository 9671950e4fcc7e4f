// Small file helpers with error messages that name the file.
#pragma once

#include <string>

namespace hw {

// Reads a whole file. Throws hw::Error naming `path` (and `what`, e.g. "tensors file") on failure.
std::string ReadFileOrThrow(const std::string& path, const std::string& what);
// Writes a whole file (truncating). Throws hw::Error on failure.
void WriteFileOrThrow(const std::string& path, const std::string& contents);

}  // namespace hw
