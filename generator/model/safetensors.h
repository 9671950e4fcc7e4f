// Reader and writer for the integer subset of the safetensors format (I8, U8, I16, I32).
// The reader validates the whole header before touching data and reports problems with the file
// name and tensor name; it never trusts a length or offset from the file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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

// Limits the reader enforces before allocating anything (docs/hardening.md).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 24;      // = the per-layer weight limit
inline constexpr int64_t kMaxTotalTensorElements = int64_t{1} << 27;  // all tensors of one file together
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{100} << 20;

// Parses safetensors bytes. `file` names the source in error messages. Throws hw::Error.
TensorMap ParseSafetensors(const std::string& bytes, const std::string& file);
TensorMap ReadSafetensors(const std::string& path);

// Serialises tensors deterministically (names sorted, data packed in name order).
// Throws hw::Error if a value does not fit its dtype.
std::string SerializeSafetensors(const TensorMap& tensors);

// Smallest of I8/I16/I32 that holds every value (U8 is never chosen automatically).
DType SmallestSignedDType(const std::vector<int64_t>& values);

namespace detail {

// Strict JSON parsing shared by the manifest and safetensors readers: unlike plain nlohmann::json::parse it
// rejects repeated object keys (which nlohmann silently collapses to the last one) and nesting deeper than
// kMaxJsonDepth. On failure returns false and sets `error` (a message) and `path` (the JSON path components
// of the offending key or value, e.g. {"layers", "[0]", "weight", "bits"}; empty for a syntax error).
inline constexpr int kMaxJsonDepth = 64;
bool ParseJsonStrict(const std::string& text, nlohmann::json* out, std::string* error, std::vector<std::string>* path);

// Joins path components: {"layers", "[0]", "weight"} -> "layers[0].weight".
std::string JoinJsonPath(const std::vector<std::string>& path);

// A user-supplied string made safe to print in a one-line diagnostic: control characters and quotes are
// escaped and anything longer than `max_len` bytes is cut with "...".
std::string Printable(const std::string& s, size_t max_len = 80);

// ParseSafetensors, with `layer_of(tensor name)` giving the layer label for an error about that tensor
// (empty if no layer uses it) so that the message names the file, the layer and the tensor.
TensorMap ParseSafetensorsIn(const std::string& bytes, const std::string& file,
                             const std::function<std::string(const std::string&)>& layer_of);

// "an integer", "a string", ... for diagnostics that say what was found instead of what was expected.
std::string JsonTypeName(const nlohmann::json& v);

}  // namespace detail

}  // namespace hw::model
