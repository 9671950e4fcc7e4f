#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <limits>
#include <set>

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
  for (int64_t s : shape)
    if (s < 0 || __builtin_mul_overflow(n, s, &n)) return -1;  // never a valid count
  return n;
}

namespace {

constexpr size_t kMaxRank = 16;

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

// Thrown from the parser callback to stop parsing at the first structural problem.
struct StrictJsonStop {
  std::string message;
  std::vector<std::string> path;
};


}  // namespace

namespace detail {

std::string Printable(const std::string& s, size_t max_len) {
  size_t n = s.size();
  bool cut = false;
  if (n > max_len) {
    n = max_len;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // do not split a UTF-8 sequence
    cut = true;
  }
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else out += static_cast<char>(c);
  }
  if (cut) out += "...";
  return out;
}

std::string JoinJsonPath(const std::vector<std::string>& path) {
  std::string s;
  for (const std::string& c : path) {
    if (!c.empty() && c[0] == '[') s += c;
    else s += (s.empty() ? "" : ".") + c;
  }
  return s;
}

bool ParseJsonStrict(const std::string& text, json* out, std::string* error, std::vector<std::string>* path) {
  struct Frame {
    bool array;
    long index;
    std::string key;
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  auto where = [&]() {
    std::vector<std::string> p;
    for (const Frame& f : stack) {
      if (f.array) {
        if (f.index >= 0) p.push_back("[" + std::to_string(f.index) + "]");
      } else if (!f.key.empty() || f.keys.size()) {
        p.push_back(Printable(f.key, 64));
      }
    }
    return p;
  };
  auto element = [&]() {
    if (!stack.empty() && stack.back().array) ++stack.back().index;
  };
  json::parser_callback_t cb = [&](int /*depth*/, json::parse_event_t ev, json& parsed) -> bool {
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        element();
        if (static_cast<int>(stack.size()) >= kMaxJsonDepth)
          throw StrictJsonStop{"nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels", where()};
        stack.push_back(Frame{ev == json::parse_event_t::array_start, -1, "", {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      case json::parse_event_t::key: {
        Frame& f = stack.back();
        f.key = parsed.is_string() ? parsed.get<std::string>() : std::string();
        if (!f.keys.insert(f.key).second) throw StrictJsonStop{"duplicate key '" + Printable(f.key, 64) + "'", where()};
        break;
      }
      case json::parse_event_t::value:
        element();
        break;
    }
    return true;
  };
  try {
    *out = json::parse(text, cb);
  } catch (const StrictJsonStop& e) {
    *error = e.message;
    *path = e.path;
    return false;
  } catch (const json::exception& e) {
    std::string msg = e.what();
    if (const auto p = msg.find("] "); msg.rfind("[json.exception.", 0) == 0 && p != std::string::npos) msg = msg.substr(p + 2);
    *error = Printable(msg, 300);
    path->clear();
    return false;
  }
  return true;
}

}  // namespace detail

TensorMap ParseSafetensors(const std::string& bytes, const std::string& file) {
  return detail::ParseSafetensorsIn(bytes, file, nullptr);
}

TensorMap detail::ParseSafetensorsIn(const std::string& bytes, const std::string& file,
                                     const std::function<std::string(const std::string&)>& layer_of) {
  using detail::Printable;
  // `field` is a tensor name as printed (or empty); layer_of() maps the raw name to the layer using it.
  std::string raw_name;
  auto fail = [&](const std::string& field, const std::string& msg) {
    throw Error(Location{file, layer_of && !raw_name.empty() ? layer_of(raw_name) : std::string(), field}, msg);
  };
  if (bytes.size() < 8) fail("", "file is " + std::to_string(bytes.size()) + " bytes, too short for a safetensors header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[i]);
  if (header_len > kMaxSafetensorsHeaderBytes)
    fail("", "header length " + std::to_string(header_len) + " exceeds the limit of " +
                 std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  if (header_len > bytes.size() - 8)
    fail("", "header length " + std::to_string(header_len) + " runs beyond the end of the file (" +
                 std::to_string(bytes.size()) + " bytes)");
  json header;
  {
    std::string error;
    std::vector<std::string> path;
    if (!detail::ParseJsonStrict(bytes.substr(8, header_len), &header, &error, &path)) {
      if (path.empty()) fail("", "header is not valid JSON: " + error);
      raw_name = path[0];  // the tensor (as printed) the problem is in
      if (path.size() == 1 && error.rfind("duplicate key", 0) == 0) fail(path[0], "tensor name appears more than once in the header");
      fail(path[0], error);
    }
  }
  if (!header.is_object()) fail("", "header is " + detail::JsonTypeName(header) + ", expected a JSON object");
  const uint64_t data_size = bytes.size() - 8 - header_len;
  const unsigned char* data = reinterpret_cast<const unsigned char*>(bytes.data()) + 8 + header_len;

  struct Entry {
    std::string name;
    Tensor tensor;
    uint64_t begin, end;
    int64_t numel;
  };
  std::vector<Entry> entries;
  int64_t total = 0;
  for (const auto& [name, entry] : header.items()) {
    raw_name = name;
    const std::string field = Printable(name, 64);
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(field, "__metadata__ must be an object of strings, got " + detail::JsonTypeName(entry));
      for (const auto& [k, v] : entry.items())
        if (!v.is_string()) fail(field, "value of '" + Printable(k, 64) + "' must be a string, got " + detail::JsonTypeName(v));
      continue;
    }
    if (!entry.is_object()) fail(field, "tensor entry must be an object, got " + detail::JsonTypeName(entry));
    for (const auto& [key, _] : entry.items())
      if (key != "dtype" && key != "shape" && key != "data_offsets")
        fail(field, "unknown key '" + Printable(key, 64) + "' (expected dtype, shape, data_offsets)");
    Entry e;
    e.name = name;
    Tensor& t = e.tensor;
    if (!entry.contains("dtype")) fail(field, "missing 'dtype'");
    if (!entry["dtype"].is_string()) fail(field, "'dtype' must be a string, got " + detail::JsonTypeName(entry["dtype"]));
    if (!ParseDType(entry["dtype"].get<std::string>(), &t.dtype))
      fail(field, "unsupported dtype '" + Printable(entry["dtype"].get<std::string>(), 32) + "' (expected I8, U8, I16 or I32)");
    if (!entry.contains("shape")) fail(field, "missing 'shape'");
    const json& shape = entry["shape"];
    if (!shape.is_array()) fail(field, "'shape' must be an array, got " + detail::JsonTypeName(shape));
    if (shape.size() > kMaxRank) fail(field, "'shape' has " + std::to_string(shape.size()) + " dimensions, above the limit of " + std::to_string(kMaxRank));
    int64_t numel = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      const json& s = shape[i];
      const std::string at = "shape[" + std::to_string(i) + "]";
      if (s.is_number_integer() && !s.is_number_unsigned()) fail(field, at + " is negative (" + std::to_string(s.get<int64_t>()) + ")");
      if (!s.is_number_unsigned()) fail(field, at + " must be a non-negative integer, got " + detail::JsonTypeName(s));
      const uint64_t v = s.get<uint64_t>();
      if (v > static_cast<uint64_t>(kMaxTensorElements) || (v > 0 && numel > kMaxTensorElements / static_cast<int64_t>(v))) {
        std::string dims;
        for (const json& d : shape) dims += (dims.empty() ? "" : ", ") + (d.is_number_unsigned() ? std::to_string(d.get<uint64_t>()) : std::string("?"));
        fail(field, "shape [" + dims + "] has more than " + std::to_string(kMaxTensorElements) + " elements (the per-tensor limit)");
      }
      numel *= static_cast<int64_t>(v);
      t.shape.push_back(static_cast<int64_t>(v));
    }
    if (!entry.contains("data_offsets")) fail(field, "missing 'data_offsets'");
    const json& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(field, "'data_offsets' must be [begin, end] with two non-negative integers");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.begin > e.end) fail(field, "data_offsets begin " + std::to_string(e.begin) + " > end " + std::to_string(e.end));
    if (e.end > data_size)
      fail(field, "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ") out of bounds of the " +
                      std::to_string(data_size) + "-byte data buffer");
    const uint64_t expected = static_cast<uint64_t>(numel) * static_cast<uint64_t>(SizeOf(t.dtype));
    if (e.end - e.begin != expected)
      fail(field, "data size " + std::to_string(e.end - e.begin) + " bytes does not match dtype " + ToString(t.dtype) +
                      " and shape (" + std::to_string(expected) + " bytes expected)");
    total += numel;
    if (total > kMaxTotalTensorElements)
      fail(field, "the file holds more than " + std::to_string(kMaxTotalTensorElements) + " tensor elements in total (the per-file limit)");
    e.numel = numel;
    entries.push_back(std::move(e));
  }
  // Overlaps: among non-empty ranges sorted by start, each must start at or after the furthest end so far.
  std::vector<const Entry*> order;
  for (const Entry& e : entries)
    if (e.end > e.begin) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->name < b->name;
  });
  const Entry* furthest = nullptr;
  for (const Entry* e : order) {
    raw_name = e->name;
    if (furthest && e->begin < furthest->end)
      fail(Printable(e->name, 64), "data range [" + std::to_string(e->begin) + ", " + std::to_string(e->end) +
                                       ") overlaps tensor '" + Printable(furthest->name, 64) + "' [" +
                                       std::to_string(furthest->begin) + ", " + std::to_string(furthest->end) + ")");
    if (!furthest || e->end > furthest->end) furthest = e;
  }
  TensorMap out;
  for (Entry& e : entries) {
    Tensor& t = e.tensor;
    const int sz = SizeOf(t.dtype);
    t.values.resize(static_cast<size_t>(e.numel));
    for (int64_t i = 0; i < e.numel; ++i) t.values[i] = Decode(data + e.begin + static_cast<uint64_t>(i) * sz, t.dtype);
    out.emplace(e.name, std::move(t));
  }
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

namespace detail {

std::string JsonTypeName(const json& v) {
  if (v.is_number_float()) return "a floating-point number";
  if (v.is_number_integer()) return "an integer";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

}  // namespace detail

}  // namespace hw::model
