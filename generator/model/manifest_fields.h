// Shared by the manifest readers (model_io.cpp for dense chains, lm_model_io.cpp for graph models): strict field
// access that records every problem with its JSON path, capped diagnostics, and bounded file reading.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string>

#include "common/diag.h"
#include "common/file_util.h"
#include "model/safetensors.h"

namespace hw::model::detail {

using json = nlohmann::json;
inline constexpr int kMaxMessages = 50;
inline constexpr uint64_t kMaxManifestBytes = uint64_t{16} << 20;
inline constexpr uint64_t kMaxTensorsFileBytes = uint64_t{1} << 30;

// A JSON integer as written (a uint64 above INT64_MAX does not fit int64_t).
inline std::string IntText(const json& v) {
  return v.is_number_unsigned() ? std::to_string(v.get<uint64_t>()) : std::to_string(v.get<int64_t>());
}
// Whether JSON integer `v` lies in [lo, hi] (no wrap-around for huge unsigned values).
inline bool IntInRange(const json& v, int64_t lo, int64_t hi) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX) && v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  return v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
}

// Collects diagnostics, capped so that a pathological manifest cannot produce megabytes of messages.
class Diag {
 public:
  explicit Diag(std::string file) : file_(std::move(file)) {}
  void Add(const Location& loc, const std::string& msg) {
    ++count_;
    if (count_ <= kMaxMessages) d_.Add(loc, msg);
    else if (count_ == kMaxMessages + 1) d_.Add(Location{file_, "", ""}, "too many errors; stopping after " + std::to_string(kMaxMessages));
  }
  bool empty() const { return count_ == 0; }
  void ThrowIfAny() const { d_.ThrowIfAny(); }

 private:
  std::string file_;
  Diagnostics d_;
  int count_ = 0;
};

// Reads fields of one JSON object, recording every problem in `diag` with the object's JSON path.
class Fields {
 public:
  Fields(const json& obj, std::string path, Location loc, Diag& diag)
      : obj_(obj), path_(std::move(path)), loc_(std::move(loc)), diag_(diag) {}

  bool ok() const { return ok_; }
  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  void Error(const std::string& key, const std::string& msg) {
    Location l = loc_;
    l.field = detail::Printable(Path(key), 120);
    diag_.Add(l, msg);
    ok_ = false;
  }

  const json* Get(const std::string& key, bool required = true) {
    seen_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      if (required) Error(key, "missing required field");
      return nullptr;
    }
    return &*it;
  }
  std::optional<int64_t> Int(const std::string& key, int64_t lo, int64_t hi) {
    const json* v = Get(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) {
      Error(key, "expected an integer, got " + detail::JsonTypeName(*v));
      return std::nullopt;
    }
    if (!IntInRange(*v, lo, hi)) {
      Error(key, "value " + IntText(*v) + " out of range " + std::to_string(lo) + ".." + std::to_string(hi));
      return std::nullopt;
    }
    return v->get<int64_t>();
  }
  std::optional<bool> Bool(const std::string& key) {
    const json* v = Get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      Error(key, "expected true or false, got " + detail::JsonTypeName(*v));
      return std::nullopt;
    }
    return v->get<bool>();
  }
  std::optional<std::string> String(const std::string& key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      Error(key, "expected a string, got " + detail::JsonTypeName(*v));
      return std::nullopt;
    }
    return v->get<std::string>();
  }
  std::optional<double> Number(const std::string& key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return std::nullopt;
    if (!v->is_number() || !std::isfinite(v->get<double>())) {
      Error(key, "expected a finite number, got " + detail::JsonTypeName(*v));
      return std::nullopt;
    }
    return v->get<double>();
  }
  std::optional<Fields> Object(const std::string& key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return std::nullopt;
    if (!v->is_object()) {
      Error(key, "expected an object, got " + detail::JsonTypeName(*v));
      return std::nullopt;
    }
    return Fields(*v, Path(key), loc_, diag_);
  }
  // Reports keys that were never asked for (typos).
  void RejectUnknown() {
    for (const auto& [k, _] : obj_.items())
      if (!seen_.count(k)) Error(k, "unknown field");
  }

 private:
  const json& obj_;
  std::string path_;
  Location loc_;
  Diag& diag_;
  std::set<std::string> seen_;
  bool ok_ = true;
};

inline bool ValidIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0])) || static_cast<unsigned char>(s[0]) > 127) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) > 127 || !(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}
inline const char* kIdentifierRule = "is not an identifier [A-Za-z][A-Za-z0-9_]* of at most 64 characters";

// Reads a model input file after checking that it is a regular file of sane size (a FIFO, a device or a
// directory would otherwise hang, exhaust memory or read as empty).
inline std::optional<std::string> ReadBounded(const std::string& path, uint64_t limit, std::string* why) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return *why = std::strerror(errno), std::nullopt;
  if (S_ISDIR(st.st_mode)) return *why = "is a directory", std::nullopt;
  if (!S_ISREG(st.st_mode)) return *why = "not a regular file", std::nullopt;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > limit)
    return *why = "file is " + std::to_string(size) + " bytes, above the limit of " + std::to_string(limit) + " bytes", std::nullopt;
  try {
    return ReadFileOrThrow(path, "");
  } catch (const Error& e) {
    const std::string& msg = e.messages()[0];
    const auto p = msg.rfind(": ");
    *why = p == std::string::npos ? msg : msg.substr(p + 2);
    return std::nullopt;
  }
}

// Parses a manifest strictly (no repeated keys, bounded nesting) and checks that it is a JSON object; throws
// hw::Error naming `file` and the offending JSON path.
inline json ParseManifestJson(const std::string& text, const std::string& file) {
  json root;
  std::string error;
  std::vector<std::string> path;
  if (!ParseJsonStrict(text, &root, &error, &path)) {
    if (path.empty()) throw Error(Location{file, "", ""}, "malformed JSON: " + error);
    const std::string field = JoinJsonPath(path);
    if (error.rfind("duplicate key", 0) == 0)
      throw Error(Location{file, "", field}, "key appears more than once in its object (the model would be ambiguous)");
    throw Error(Location{file, "", field}, error);
  }
  if (!root.is_object()) throw Error(Location{file, "", ""}, "top level must be a JSON object, got " + JsonTypeName(root));
  return root;
}

}  // namespace hw::model::detail
