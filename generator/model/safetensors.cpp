#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include "common/diag.h"
#include "common/file_util.h"

namespace hw::model {

using json = nlohmann::json;

const char* ToString(DType d) {
  switch (d) {
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kI16: return "I16";
    case DType::kI32: return "I32";
  }
  return "?";
}

int SizeOf(DType d) {
  switch (d) {
    case DType::kI8:
    case DType::kU8: return 1;
    case DType::kI16: return 2;
    case DType::kI32: return 4;
  }
  return 0;
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;
constexpr int64_t kMaxElements = int64_t{1} << 28;

bool ParseDType(const std::string& s, DType* d) {
  if (s == "I8") *d = DType::kI8;
  else if (s == "U8") *d = DType::kU8;
  else if (s == "I16") *d = DType::kI16;
  else if (s == "I32") *d = DType::kI32;
  else return false;
  return true;
}

int64_t Decode(const unsigned char* p, DType d) {
  switch (d) {
    case DType::kI8: return static_cast<int8_t>(p[0]);
    case DType::kU8: return p[0];
    case DType::kI16: return static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
    case DType::kI32:
      return static_cast<int32_t>(static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                                  (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24));
  }
  return 0;
}

}  // namespace

TensorMap ParseSafetensors(const std::string& bytes, const std::string& file) {
  auto fail = [&](const std::string& field, const std::string& msg) {
    throw Error(Location{file, "", field}, msg);
  };
  if (bytes.size() < 8) fail("", "file is " + std::to_string(bytes.size()) + " bytes, too short for a safetensors header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[i]);
  if (header_len > kMaxHeaderBytes) fail("", "header length " + std::to_string(header_len) + " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
  if (header_len > bytes.size() - 8)
    fail("", "header length " + std::to_string(header_len) + " runs beyond the end of the file (" +
                 std::to_string(bytes.size()) + " bytes)");
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_len));
  } catch (const json::parse_error& e) {
    fail("", std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail("", "header is not a JSON object");
  const uint64_t data_size = bytes.size() - 8 - header_len;
  const unsigned char* data = reinterpret_cast<const unsigned char*>(bytes.data()) + 8 + header_len;

  TensorMap out;
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::string>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(name, "__metadata__ must be an object");
      continue;
    }
    if (!entry.is_object()) fail(name, "tensor entry is not an object");
    for (const auto& [key, _] : entry.items())
      if (key != "dtype" && key != "shape" && key != "data_offsets") fail(name, "unknown key '" + key + "'");
    Tensor t;
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) fail(name, "missing or non-string 'dtype'");
    if (!ParseDType(entry["dtype"].get<std::string>(), &t.dtype))
      fail(name, "unsupported dtype '" + entry["dtype"].get<std::string>() + "' (expected I8, U8, I16 or I32)");
    if (!entry.contains("shape") || !entry["shape"].is_array()) fail(name, "missing or non-array 'shape'");
    int64_t numel = 1;
    for (const auto& s : entry["shape"]) {
      if (!s.is_number_integer() || s.get<int64_t>() < 0) fail(name, "shape must hold non-negative integers");
      const int64_t v = s.get<int64_t>();
      if (v > 0 && numel > kMaxElements / v) fail(name, "tensor has more than " + std::to_string(kMaxElements) + " elements");
      numel *= v;
      t.shape.push_back(v);
    }
    const auto& off = entry.contains("data_offsets") ? entry["data_offsets"] : json();
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(name, "'data_offsets' must be two non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end) fail(name, "data_offsets begin " + std::to_string(begin) + " > end " + std::to_string(end));
    if (end > data_size)
      fail(name, "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") out of bounds of the " + std::to_string(data_size) + "-byte data buffer");
    const uint64_t expected = static_cast<uint64_t>(numel) * SizeOf(t.dtype);
    if (end - begin != expected)
      fail(name, "data size " + std::to_string(end - begin) + " bytes does not match dtype " + ToString(t.dtype) +
                     " and shape (" + std::to_string(expected) + " bytes expected)");
    ranges.push_back({{begin, end}, name});
    t.values.resize(numel);
    for (int64_t i = 0; i < numel; ++i) t.values[i] = Decode(data + begin + i * SizeOf(t.dtype), t.dtype);
    out.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first.first < ranges[i - 1].first.second && ranges[i].first.first != ranges[i].first.second)
      fail(ranges[i].second, "data range overlaps tensor '" + ranges[i - 1].second + "'");
  return out;
}

TensorMap ReadSafetensors(const std::string& path) {
  return ParseSafetensors(ReadFileOrThrow(path, ""), path);
}

DType SmallestSignedDType(const std::vector<int64_t>& values) {
  int64_t lo = 0, hi = 0;
  for (int64_t v : values) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo >= -128 && hi <= 127) return DType::kI8;
  if (lo >= -32768 && hi <= 32767) return DType::kI16;
  return DType::kI32;
}

std::string SerializeSafetensors(const TensorMap& tensors) {
  json header = json::object();
  std::string data;
  for (const auto& [name, t] : tensors) {
    const int sz = SizeOf(t.dtype);
    int64_t lo = 0, hi = 0;
    switch (t.dtype) {
      case DType::kI8: lo = -128, hi = 127; break;
      case DType::kU8: lo = 0, hi = 255; break;
      case DType::kI16: lo = -32768, hi = 32767; break;
      case DType::kI32: lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max(); break;
    }
    if (static_cast<int64_t>(t.values.size()) != t.numel())
      throw Error(Location{"", "", name}, "value count does not match shape");
    const uint64_t begin = data.size();
    for (int64_t v : t.values) {
      if (v < lo || v > hi)
        throw Error(Location{"", "", name}, "value " + std::to_string(v) + " does not fit dtype " + ToString(t.dtype));
      const uint64_t u = static_cast<uint64_t>(v);
      for (int b = 0; b < sz; ++b) data.push_back(static_cast<char>((u >> (8 * b)) & 0xff));
    }
    header[name] = {{"dtype", ToString(t.dtype)}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');  // align the data buffer, as the reference writer does
  std::string out;
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + h + data;
}

}  // namespace hw::model
