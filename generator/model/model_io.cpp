#include "model/model_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <regex>
#include <set>

#include "common/diag.h"
#include "common/file_util.h"
#include "model/safetensors.h"

namespace hw::model {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kMaxLength = 65536;
constexpr int64_t kMaxLayerWeights = int64_t{1} << 24;

std::string LayerLabel(const std::string& name, size_t i) {
  return "layer '" + name + "' (layers[" + std::to_string(i) + "])";
}

// Reads fields of one JSON object, recording every problem in `diag` with the object's JSON path.
class Fields {
 public:
  Fields(const json& obj, std::string path, Location loc, Diagnostics& diag)
      : obj_(obj), path_(std::move(path)), loc_(std::move(loc)), diag_(diag) {}

  bool ok() const { return ok_; }
  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  void Error(const std::string& key, const std::string& msg) {
    Location l = loc_;
    l.field = Path(key);
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
      Error(key, std::string("expected an integer, got ") + v->type_name());
      return std::nullopt;
    }
    const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX : v->get<int64_t>();
    if (x < lo || x > hi) {
      Error(key, "value " + std::to_string(x) + " out of range " + std::to_string(lo) + ".." + std::to_string(hi));
      return std::nullopt;
    }
    return x;
  }
  std::optional<bool> Bool(const std::string& key) {
    const json* v = Get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      Error(key, std::string("expected true or false, got ") + v->type_name());
      return std::nullopt;
    }
    return v->get<bool>();
  }
  std::optional<std::string> String(const std::string& key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      Error(key, std::string("expected a string, got ") + v->type_name());
      return std::nullopt;
    }
    return v->get<std::string>();
  }
  std::optional<Fields> Object(const std::string& key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return std::nullopt;
    if (!v->is_object()) {
      Error(key, std::string("expected an object, got ") + v->type_name());
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
  Diagnostics& diag_;
  std::set<std::string> seen_;
  bool ok_ = true;
};

bool ValidIdentifier(const std::string& s) {
  static const std::regex re("[A-Za-z][A-Za-z0-9_]*");
  return s.size() <= 64 && std::regex_match(s, re);
}

// A per-channel integer: {"tensor": name} or a JSON integer broadcast to every channel.
struct ChannelParam {
  std::optional<int64_t> scalar;
  std::string tensor;
};

std::optional<ChannelParam> ReadChannelParam(Fields& f, const std::string& key, int64_t lo, int64_t hi) {
  const json* v = f.Get(key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) {
    auto x = f.Int(key, lo, hi);
    if (!x) return std::nullopt;
    return ChannelParam{x, ""};
  }
  if (v->is_object()) {
    auto o = f.Object(key);
    auto t = o->String("tensor");
    o->RejectUnknown();
    if (!t) return std::nullopt;
    return ChannelParam{std::nullopt, *t};
  }
  f.Error(key, std::string("expected an integer or {\"tensor\": name}, got ") + v->type_name());
  return std::nullopt;
}

struct PendingDense {
  size_t index;
  std::string weight_tensor, bias_tensor;
  ChannelParam m, s;
  WeightEncoding encoding;
  int bits;
  IntType output;
  int64_t lo, hi;
};

}  // namespace

Model ParseModel(const std::string& manifest_json, const std::string& manifest_name,
                 const std::string& tensors_bytes, const std::string& tensors_name) {
  Diagnostics diag;
  json root;
  try {
    root = json::parse(manifest_json);
  } catch (const json::parse_error& e) {
    throw Error(Location{manifest_name, "", ""}, std::string("malformed JSON: ") + e.what());
  }
  if (!root.is_object()) throw Error(Location{manifest_name, "", ""}, "top level must be a JSON object");

  Model m;
  m.manifest_path = manifest_name;
  Fields top(root, "", Location{manifest_name, "", ""}, diag);
  if (auto f = top.String("format"); f && *f != "hardwire-model")
    top.Error("format", "expected \"hardwire-model\", got \"" + *f + "\"");
  top.Int("version", 1, 1);
  if (auto n = top.String("name")) {
    if (!ValidIdentifier(*n)) top.Error("name", "'" + *n + "' is not an identifier [A-Za-z][A-Za-z0-9_]* of at most 64 characters");
    m.name = *n;
  }
  if (auto t = top.String("tensors")) m.tensors_file = *t;
  if (auto in = top.Object("input")) {
    if (auto l = in->Int("length", 1, kMaxLength)) m.input_length = static_cast<int>(*l);
    if (auto s = in->Bool("signed")) m.input.is_signed = *s;
    if (auto b = in->Int("bits", 1, 16)) m.input.bits = static_cast<int>(*b);
    in->RejectUnknown();
  }
  std::vector<PendingDense> pending;
  const json* layers = top.Get("layers");
  if (layers && (!layers->is_array() || layers->empty())) {
    top.Error("layers", "expected a non-empty array of layers");
    layers = nullptr;
  }
  top.RejectUnknown();
  if (layers) {
    std::set<std::string> names;
    for (size_t i = 0; i < layers->size(); ++i) {
      const json& lj = (*layers)[i];
      const std::string lpath = "layers[" + std::to_string(i) + "]";
      if (!lj.is_object()) {
        diag.Add(Location{manifest_name, "", lpath}, "expected an object");
        continue;
      }
      std::string lname = lj.contains("name") && lj["name"].is_string() ? lj["name"].get<std::string>() : "";
      Location loc{manifest_name, lname.empty() ? lpath : LayerLabel(lname, i), ""};
      Fields lf(lj, "", loc, diag);
      auto name = lf.String("name");
      if (name) {
        if (!ValidIdentifier(*name)) lf.Error("name", "'" + *name + "' is not an identifier [A-Za-z][A-Za-z0-9_]* of at most 64 characters");
        if (!names.insert(*name).second) lf.Error("name", "duplicate layer name '" + *name + "'");
      }
      Layer layer;
      layer.name = name.value_or("");
      auto kind = lf.String("kind");
      if (kind && *kind == "dense") {
        PendingDense p{i, "", "", {}, {}, WeightEncoding::kSigned, 8, {}, 0, 0};
        bool ok = true;
        if (auto w = lf.Object("weight")) {
          auto t = w->String("tensor");
          auto enc = w->String("encoding");
          auto bits = w->Int("bits", 1, 16);
          w->RejectUnknown();
          if (t) p.weight_tensor = *t;
          if (bits) p.bits = static_cast<int>(*bits);
          if (enc) {
            if (*enc == "signed") p.encoding = WeightEncoding::kSigned;
            else if (*enc == "unsigned") p.encoding = WeightEncoding::kUnsigned;
            else if (*enc == "binary") p.encoding = WeightEncoding::kBinary;
            else if (*enc == "ternary") p.encoding = WeightEncoding::kTernary;
            else w->Error("encoding", "unknown encoding '" + *enc + "' (expected signed, unsigned, binary or ternary)");
          }
          if (enc && bits && p.encoding == WeightEncoding::kBinary && p.bits != 1) w->Error("bits", "binary weights must declare bits = 1");
          if (enc && bits && p.encoding == WeightEncoding::kTernary && p.bits != 2) w->Error("bits", "ternary weights must declare bits = 2");
          ok = ok && w->ok() && t && enc && bits;
        } else ok = false;
        if (auto b = lf.Object("bias", false)) {
          auto t = b->String("tensor");
          b->RejectUnknown();
          if (t) p.bias_tensor = *t;
          ok = ok && t.has_value();
        }
        if (auto rq = lf.Object("requant")) {
          auto mm = ReadChannelParam(*rq, "multiplier", 1, (int64_t{1} << 31) - 1);
          auto ss = ReadChannelParam(*rq, "shift", 0, 62);
          rq->RejectUnknown();
          if (mm) p.m = *mm;
          if (ss) p.s = *ss;
          ok = ok && mm && ss;
        } else ok = false;
        if (auto o = lf.Object("output")) {
          auto sg = o->Bool("signed");
          auto bits = o->Int("bits", 1, 32);
          const json* c = o->Get("clamp");
          o->RejectUnknown();
          if (sg && bits) {
            p.output = IntType{*sg, static_cast<int>(*bits)};
            if (c) {
              if (!c->is_array() || c->size() != 2 || !(*c)[0].is_number_integer() || !(*c)[1].is_number_integer()) {
                o->Error("clamp", "expected [lo, hi] with two integers");
                ok = false;
              } else {
                p.lo = (*c)[0].get<int64_t>();
                p.hi = (*c)[1].get<int64_t>();
                if (p.lo > p.hi) o->Error("clamp", "lo " + std::to_string(p.lo) + " > hi " + std::to_string(p.hi)), ok = false;
                else if (p.lo < p.output.min() || p.hi > p.output.max())
                  o->Error("clamp", "[" + std::to_string(p.lo) + ", " + std::to_string(p.hi) +
                                        "] is not representable in " + (p.output.is_signed ? "signed " : "unsigned ") +
                                        std::to_string(p.output.bits) + "-bit output [" + std::to_string(p.output.min()) +
                                        ", " + std::to_string(p.output.max()) + "]"), ok = false;
              }
            } else ok = false;
          } else ok = false;
        } else ok = false;
        layer.op = DenseLayer{};
        if (ok && lf.ok()) pending.push_back(p);
      } else if (kind && *kind == "argmax") {
        layer.op = ArgmaxLayer{};
        if (i + 1 != layers->size()) lf.Error("kind", "argmax must be the last layer");
      } else if (kind) {
        lf.Error("kind", "unknown layer kind '" + *kind + "' (supported: dense, argmax)");
      }
      lf.RejectUnknown();
      m.layers.push_back(std::move(layer));
    }
  }
  diag.ThrowIfAny();

  // Tensors.
  TensorMap tensors = ParseSafetensors(tensors_bytes, tensors_name);
  // A layer whose tensors failed has no known output length, so the next layer's input length is
  // unknown too: check its own tensors but not the chain, instead of reporting a second, derived error.
  std::vector<char> layer_ok(m.layers.size(), 0);
  for (const PendingDense& p : pending) {
    Layer& layer = m.layers[p.index];
    Location loc{manifest_name, LayerLabel(layer.name, p.index), ""};
    auto err = [&](const std::string& field, const std::string& msg) {
      Location l = loc;
      l.field = field;
      diag.Add(l, msg);
    };
    const int in = m.OutputLength(static_cast<int>(p.index) - 1);
    const IntType in_type = m.OutputType(static_cast<int>(p.index) - 1);
    auto find = [&](const std::string& field, const std::string& name) -> const Tensor* {
      auto it = tensors.find(name);
      if (it == tensors.end()) {
        err(field, "tensor '" + name + "' not found in " + tensors_name);
        return nullptr;
      }
      return &it->second;
    };
    DenseLayer d;
    d.in = in;
    d.encoding = p.encoding;
    d.weight_bits = p.bits;
    d.output = p.output;
    d.clamp_lo = p.lo;
    d.clamp_hi = p.hi;
    d.weight_tensor = p.weight_tensor;
    d.bias_tensor = p.bias_tensor;
    d.multiplier_tensor = p.m.tensor;
    d.shift_tensor = p.s.tensor;
    const Tensor* w = find("weight.tensor", p.weight_tensor);
    if (!w) continue;
    if (w->shape.size() != 2) {
      err("weight.tensor", "tensor '" + p.weight_tensor + "' must have shape [out, in], has rank " + std::to_string(w->shape.size()));
      continue;
    }
    const bool chain_known = p.index == 0 || layer_ok[p.index - 1];
    if (chain_known && w->shape[1] != in) {
      err("weight.tensor", "tensor '" + p.weight_tensor + "' has shape [" + std::to_string(w->shape[0]) + ", " +
                               std::to_string(w->shape[1]) + "] but the layer input has length " + std::to_string(in));
      continue;
    }
    if (w->shape[0] < 1 || w->shape[0] > kMaxLength) {
      err("weight.tensor", "output count " + std::to_string(w->shape[0]) + " out of range 1.." + std::to_string(kMaxLength));
      continue;
    }
    if (w->shape[0] * w->shape[1] > kMaxLayerWeights) {
      err("weight.tensor", "layer has " + std::to_string(w->shape[0] * w->shape[1]) + " weights, above the limit of " + std::to_string(kMaxLayerWeights));
      continue;
    }
    d.out = static_cast<int>(w->shape[0]);
    if (!chain_known) d.in = static_cast<int>(w->shape[1]);
    int64_t wlo, whi;
    switch (p.encoding) {
      case WeightEncoding::kSigned: wlo = -(int64_t{1} << (p.bits - 1)), whi = (int64_t{1} << (p.bits - 1)) - 1; break;
      case WeightEncoding::kUnsigned: wlo = 0, whi = (int64_t{1} << p.bits) - 1; break;
      default: wlo = -1, whi = 1; break;
    }
    bool bad_value = false;
    for (size_t k = 0; k < w->values.size() && !bad_value; ++k) {
      const int64_t v = w->values[k];
      if (v < wlo || v > whi || (p.encoding == WeightEncoding::kBinary && v == 0)) {
        err("weight.tensor", "value " + std::to_string(v) + " at [" + std::to_string(k / d.in) + ", " + std::to_string(k % d.in) +
                                 "] outside the declared " + ToString(p.encoding) + " " + std::to_string(p.bits) + "-bit range" +
                                 (p.encoding == WeightEncoding::kBinary ? " {-1, +1}" : " [" + std::to_string(wlo) + ", " + std::to_string(whi) + "]"));
        bad_value = true;
      }
    }
    if (bad_value) continue;
    d.weight = arith::IntMatrix{d.out, d.in, w->values};
    auto channel = [&](const std::string& field, const std::string& tname, std::vector<int64_t>* dst, int64_t lo, int64_t hi) -> bool {
      const Tensor* t = find(field, tname);
      if (!t) return false;
      if (t->shape != std::vector<int64_t>{d.out}) {
        std::string shape;
        for (int64_t s : t->shape) shape += (shape.empty() ? "" : ", ") + std::to_string(s);
        err(field, "tensor '" + tname + "' must have shape [" + std::to_string(d.out) + "], has [" + shape + "]");
        return false;
      }
      for (size_t k = 0; k < t->values.size(); ++k)
        if (t->values[k] < lo || t->values[k] > hi) {
          err(field, "tensor '" + tname + "' value " + std::to_string(t->values[k]) + " at [" + std::to_string(k) +
                         "] out of range " + std::to_string(lo) + ".." + std::to_string(hi));
          return false;
        }
      *dst = t->values;
      return true;
    };
    bool ok = true;
    d.has_bias = !p.bias_tensor.empty();
    if (d.has_bias) ok &= channel("bias.tensor", p.bias_tensor, &d.bias, -(int64_t{1} << 40), int64_t{1} << 40);
    else d.bias.assign(d.out, 0);
    if (p.m.scalar) d.multiplier.assign(d.out, *p.m.scalar);
    else ok &= channel("requant.multiplier.tensor", p.m.tensor, &d.multiplier, 1, (int64_t{1} << 31) - 1);
    if (p.s.scalar) d.shift.assign(d.out, *p.s.scalar);
    else ok &= channel("requant.shift.tensor", p.s.tensor, &d.shift, 0, 62);
    if (!ok) continue;
    // The reference requantizes in 64-bit: refuse models whose scaled accumulator could leave that range.
    for (int o = 0; o < d.out; ++o) {
      __int128 hi = d.bias[o], lo = d.bias[o];
      for (int i = 0; i < d.in; ++i) {
        const __int128 a = static_cast<__int128>(d.weight.at(o, i)) * in_type.min();
        const __int128 b = static_cast<__int128>(d.weight.at(o, i)) * in_type.max();
        hi += std::max(a, b);
        lo += std::min(a, b);
      }
      const __int128 mag = std::max(hi, -lo) * d.multiplier[o] + (d.shift[o] > 0 ? (__int128{1} << (d.shift[o] - 1)) : 0);
      if (mag >= (__int128{1} << 62)) {
        err("requant.multiplier", "channel " + std::to_string(o) + ": |accumulator| * M can reach 2^62 or more (limit in docs/model-format.md)");
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    layer.op = std::move(d);
    layer_ok[p.index] = 1;
  }
  diag.ThrowIfAny();
  return m;
}

Model LoadModel(const std::string& manifest_path) {
  const std::string manifest = ReadFileOrThrow(manifest_path, "model manifest");
  // The tensors file name is needed before full validation; take it leniently here, ParseModel re-checks.
  std::string tensors_name;
  try {
    json j = json::parse(manifest);
    if (j.is_object() && j.contains("tensors") && j["tensors"].is_string()) tensors_name = j["tensors"].get<std::string>();
  } catch (const json::parse_error&) {
  }
  if (tensors_name.empty()) return ParseModel(manifest, manifest_path, "", "");  // reports the manifest errors
  const fs::path tensors_path = fs::path(manifest_path).parent_path() / tensors_name;
  std::string bytes;
  try {
    bytes = ReadFileOrThrow(tensors_path.string(), "tensors file");
  } catch (const Error& e) {
    throw Error(Location{manifest_path, "", "tensors"}, "cannot read tensors file '" + tensors_path.string() + "': " + e.messages()[0]);
  }
  return ParseModel(manifest, manifest_path, bytes, tensors_path.string());
}

std::string ManifestJson(const Model& m) {
  json root = json::object();
  root["format"] = "hardwire-model";
  root["version"] = 1;
  root["name"] = m.name;
  root["tensors"] = m.tensors_file;
  root["input"] = {{"length", m.input_length}, {"signed", m.input.is_signed}, {"bits", m.input.bits}};
  json layers = json::array();
  for (const Layer& l : m.layers) {
    json lj = {{"kind", l.kind()}, {"name", l.name}};
    if (const auto* d = std::get_if<DenseLayer>(&l.op)) {
      lj["weight"] = {{"tensor", d->weight_tensor}, {"encoding", ToString(d->encoding)}, {"bits", d->weight_bits}};
      if (d->has_bias) lj["bias"] = {{"tensor", d->bias_tensor}};
      lj["requant"] = {{"multiplier", {{"tensor", d->multiplier_tensor}}}, {"shift", {{"tensor", d->shift_tensor}}}};
      lj["output"] = {{"signed", d->output.is_signed}, {"bits", d->output.bits}, {"clamp", {d->clamp_lo, d->clamp_hi}}};
    }
    layers.push_back(lj);
  }
  root["layers"] = layers;
  return root.dump(2) + "\n";
}

void WriteModel(const Model& m, const std::string& dir) {
  TensorMap tensors;
  auto put = [&](const std::string& name, std::vector<int64_t> shape, const std::vector<int64_t>& values) {
    Tensor t;
    t.dtype = SmallestSignedDType(values);
    t.shape = std::move(shape);
    t.values = values;
    if (name.empty()) throw Error(Location{dir, "", ""}, "tensor with empty name");
    tensors[name] = std::move(t);
  };
  for (const Layer& l : m.layers) {
    const auto* d = std::get_if<DenseLayer>(&l.op);
    if (!d) continue;
    put(d->weight_tensor, {d->out, d->in}, d->weight.w);
    if (d->has_bias) put(d->bias_tensor, {d->out}, d->bias);
    put(d->multiplier_tensor, {d->out}, d->multiplier);
    put(d->shift_tensor, {d->out}, d->shift);
  }
  fs::create_directories(dir);
  WriteFileOrThrow((fs::path(dir) / m.tensors_file).string(), SerializeSafetensors(tensors));
  WriteFileOrThrow((fs::path(dir) / "model.json").string(), ManifestJson(m));
}

}  // namespace hw::model
