// Reader and writer for the integer subset of the safetensors format (I8, U8, I16, I32).
// The reader validates the whole header before touching data and reports problems with the file
// name and tensor name; it never trusts a length or offset from the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hw::model {

enum class DType { kI8, kU8, kI16, kI32 };
const char* ToString(DType d);
int SizeOf(DType d);

struct Tensor {
  DType dtype = DType::kI8;
  std::vector<int64_t> shape;
  std::vector<int64_t> values;  // widened, row-major
  int64_t numel() const;
};

using TensorMap = std::map<std::string, Tensor>;

// Parses safetensors bytes. `file` names the source in error messages. Throws hw::Error.
TensorMap ParseSafetensors(const std::string& bytes, const std::string& file);
TensorMap ReadSafetensors(const std::string& path);

// Serialises tensors deterministically (names sorted, data packed in name order).
// Throws hw::Error if a value does not fit its dtype.
std::string SerializeSafetensors(const TensorMap& tensors);

// Smallest of I8/I16/I32 that holds every value (U8 is never chosen automatically).
DType SmallestSignedDType(const std::vector<int64_t>& values);

}  // namespace hw::model
