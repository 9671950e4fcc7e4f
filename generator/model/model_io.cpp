#include "model/model_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <sys/stat.h>

#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "common/diag.h"
#include "common/file_util.h"
#include "model/manifest_fields.h"
#include "model/safetensors.h"

namespace hw::model {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kMaxLength = 65536;
constexpr int64_t kMaxLayerWeights = int64_t{1} << 24;
constexpr size_t kMaxLayers = 4096;

using detail::Printable;
using detail::Diag;
using detail::Fields;
using detail::IntInRange;
using detail::IntText;
using detail::kIdentifierRule;
using detail::kMaxManifestBytes;
using detail::kMaxTensorsFileBytes;
using detail::ReadBounded;
using detail::ValidIdentifier;

std::string LayerLabel(const std::string& name, size_t i) {
  return "layer '" + Printable(name, 64) + "' (layers[" + std::to_string(i) + "])";
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
  f.Error(key, "expected an integer or {\"tensor\": name}, got " + detail::JsonTypeName(*v));
  return std::nullopt;
}

void ParseInputQuantizer(Fields q, InputQuantizer& iq) {
  iq.present = true;
  // scale / zero_point: a number, or an array with one value per input element (checked against input.length later)
  if (const json* a = q.Get("scale"); a && a->is_array()) {
    for (const json& x : *a)
      if (!x.is_number() || !std::isfinite(x.get<double>()) || !(x.get<double>() > 0) || a->size() > kMaxLength) {
        q.Error("scale", "expected a positive number or an array of positive numbers (one per input element)");
        iq.scales.clear();
        break;
      } else iq.scales.push_back(x.get<double>());
    if (!iq.scales.empty()) iq.scale = iq.scales[0];
  } else if (auto s = q.Number("scale")) {
    if (!(*s > 0)) q.Error("scale", "must be positive");
    iq.scale = *s;
  }
  if (const json* a = q.Get("zero_point"); a && a->is_array()) {
    for (const json& x : *a)
      if (!x.is_number_integer() || !IntInRange(x, -(int64_t{1} << 31), int64_t{1} << 31) || a->size() > kMaxLength) {
        q.Error("zero_point", "expected an integer or an array of integers (one per input element)");
        iq.zero_points.clear();
        break;
      } else iq.zero_points.push_back(x.get<int64_t>());
    if (!iq.zero_points.empty()) iq.zero_point = iq.zero_points[0];
  } else if (auto z = q.Int("zero_point", -(int64_t{1} << 31), int64_t{1} << 31)) {
    iq.zero_point = *z;
  }
  if (const json* c = q.Get("clamp")) {
    if (!c->is_array() || c->size() != 2 || !(*c)[0].is_number_integer() || !(*c)[1].is_number_integer() ||
        !IntInRange((*c)[0], -(int64_t{1} << 16), int64_t{1} << 16) || !IntInRange((*c)[1], -(int64_t{1} << 16), int64_t{1} << 16) ||
        (*c)[0].get<int64_t>() > (*c)[1].get<int64_t>())
      q.Error("clamp", "expected [lo, hi], integers with lo <= hi");
    else iq.code_min = (*c)[0].get<int64_t>(), iq.code_max = (*c)[1].get<int64_t>();
  }
  if (auto r = q.String("rounding")) {
    static const std::set<std::string> modes{"ROUND", "HALF_EVEN", "HALF_UP", "HALF_DOWN", "CEIL", "FLOOR", "UP", "DOWN", "SIGN", "NONE"};
    if (!modes.count(*r)) q.Error("rounding", "'" + Printable(*r) + "' is not one of ROUND, HALF_EVEN, HALF_UP, HALF_DOWN, CEIL, FLOOR, UP, DOWN, SIGN, NONE");
    iq.rounding = *r;
  }
  if (auto o = q.String("order")) {
    if (*o == "add_zero_point_then_round") iq.order = InputQuantizer::Order::kAddZeroThenRound;
    else if (*o == "round_then_add_zero_point") iq.order = InputQuantizer::Order::kRoundThenAddZero;
    else q.Error("order", "expected \"add_zero_point_then_round\" or \"round_then_add_zero_point\"");
  }
  if (const json* p = q.Get("preprocess", false)) {
    if (!p->is_array() || p->size() > 16) q.Error("preprocess", "expected an array of at most 16 {\"op\", \"value\"} objects");
    else
      for (const json& e : *p) {
        static const std::set<std::string> ops{"add", "sub", "sub_from", "mul", "div"};
        if (!e.is_object() || e.size() != 2 || !e.contains("op") || !e["op"].is_string() || !ops.count(e["op"].get<std::string>()) ||
            !e.contains("value") || !e["value"].is_number() || !std::isfinite(e["value"].get<double>()) ||
            (e["op"] == "div" && e["value"].get<double>() == 0)) {
          q.Error("preprocess", "each step is {\"op\": add|sub|sub_from|mul|div, \"value\": a finite number (non-zero for div)}");
          break;
        }
        iq.pre.push_back({e["op"].get<std::string>(), e["value"].get<double>()});
      }
  }
  q.RejectUnknown();
}

struct PendingDense {
  size_t index;
  std::string weight_tensor, bias_tensor, threshold_tensor;
  ChannelParam m, s;
  WeightEncoding encoding;
  int bits;
  IntType output;
  int64_t lo, hi;
};

// The manifest stage: everything that can be checked without the tensors.
struct Manifest {
  Model model;
  std::vector<PendingDense> pending;
};

Manifest ParseManifest(const std::string& manifest_json, const std::string& manifest_name) {
  Diag diag(manifest_name);
  const json root = detail::ParseManifestJson(manifest_json, manifest_name);
  Manifest out;
  Model& m = out.model;
  m.manifest_path = manifest_name;
  Fields top(root, "", Location{manifest_name, "", ""}, diag);
  if (auto f = top.String("format"); f && *f != "hardwire-model")
    top.Error("format", "expected \"hardwire-model\", got \"" + Printable(*f) + "\"");
  if (const json* v = root.contains("version") ? &root["version"] : nullptr; v && v->is_number_integer() && *v == 2)
    throw Error(Location{manifest_name, "", "version"},
                "this is a graph model (version 2, e.g. a language model); this command handles dense chains (version 1) "
                "only so far; graph models run with `hardwire ref`, `eval`, `generate`, `sim` and `report`");
  top.Int("version", 1, 1);
  if (auto n = top.String("name")) {
    if (!ValidIdentifier(*n)) top.Error("name", "'" + Printable(*n) + "' " + kIdentifierRule);
    m.name = *n;
  }
  if (auto t = top.String("tensors")) {
    if (t->empty()) top.Error("tensors", "must name a file");
    else if (t->find('\0') != std::string::npos) top.Error("tensors", "file name contains a NUL character");
    else if (fs::path(*t).is_absolute()) top.Error("tensors", "'" + Printable(*t) + "' must be relative to the directory of the manifest");
    m.tensors_file = *t;
  }
  if (auto in = top.Object("input")) {
    if (auto l = in->Int("length", 1, kMaxLength)) m.input_length = static_cast<int>(*l);
    if (auto s = in->Bool("signed")) m.input.is_signed = *s;
    if (auto b = in->Int("bits", 1, 16)) m.input.bits = static_cast<int>(*b);
    if (in->Get("quantizer", false)) ParseInputQuantizer(*in->Object("quantizer"), m.input_quantizer);
    in->RejectUnknown();
  }
  if (top.Get("output", false)) {
    auto o = top.Object("output");
    OutputScale& os = m.output_scale;
    os.present = true;
    if (auto l = o->String("layer")) os.layer = *l;
    for (const char* key : {"scale", "offset"}) {
      std::vector<double>& v = std::string(key) == "scale" ? os.scale : os.offset;
      const json* a = o->Get(key);
      if (!a) continue;
      if (!a->is_array() || a->empty() || a->size() > kMaxLength) {
        o->Error(key, "expected a non-empty array of numbers (one, or one per output element)");
        continue;
      }
      for (const json& x : *a) {
        if (!x.is_number() || !std::isfinite(x.get<double>())) {
          o->Error(key, "expected finite numbers, got " + detail::JsonTypeName(x));
          break;
        }
        v.push_back(x.get<double>());
      }
    }
    o->RejectUnknown();
  }
  std::vector<PendingDense>& pending = out.pending;
  const json* layers = top.Get("layers");
  if (layers && (!layers->is_array() || layers->empty())) {
    top.Error("layers", "expected a non-empty array of layers, got " + (layers->is_array() ? std::string("an empty array") : detail::JsonTypeName(*layers)));
    layers = nullptr;
  } else if (layers && layers->size() > kMaxLayers) {
    top.Error("layers", std::to_string(layers->size()) + " layers, above the limit of " + std::to_string(kMaxLayers));
    layers = nullptr;
  }
  top.RejectUnknown();
  if (layers) {
    std::set<std::string> names;
    for (size_t i = 0; i < layers->size(); ++i) {
      const json& lj = (*layers)[i];
      const std::string lpath = "layers[" + std::to_string(i) + "]";
      if (!lj.is_object()) {
        diag.Add(Location{manifest_name, "", lpath}, "expected an object, got " + detail::JsonTypeName(lj));
        continue;
      }
      const auto nit = lj.find("name");
      std::string lname = nit != lj.end() && nit->is_string() ? nit->get<std::string>() : "";
      Location loc{manifest_name, lname.empty() ? lpath : LayerLabel(lname, i), ""};
      Fields lf(lj, "", loc, diag);
      auto name = lf.String("name");
      if (name) {
        if (!ValidIdentifier(*name)) lf.Error("name", "'" + Printable(*name) + "' " + kIdentifierRule);
        else if (!names.insert(*name).second) lf.Error("name", "duplicate layer name '" + *name + "'");
      }
      Layer layer;
      layer.name = name.value_or("");
      auto kind = lf.String("kind");
      if (kind && *kind == "dense") {
        PendingDense p{i, "", "", "", {}, {}, WeightEncoding::kSigned, 8, {}, 0, 0};
        bool ok = true;
        if (auto w = lf.Object("weight")) {
          auto t = w->String("tensor");
          auto enc = w->String("encoding");
          auto bits = w->Int("bits", 1, 16);
          w->RejectUnknown();
          if (t) p.weight_tensor = *t;
          if (bits) p.bits = static_cast<int>(*bits);
          bool enc_ok = false;
          if (enc) {
            enc_ok = true;
            if (*enc == "signed") p.encoding = WeightEncoding::kSigned;
            else if (*enc == "unsigned") p.encoding = WeightEncoding::kUnsigned;
            else if (*enc == "binary") p.encoding = WeightEncoding::kBinary;
            else if (*enc == "ternary") p.encoding = WeightEncoding::kTernary;
            else {
              w->Error("encoding", "unknown encoding '" + Printable(*enc) + "' (expected signed, unsigned, binary or ternary)");
              enc_ok = false;
            }
          }
          if (enc_ok && bits && p.encoding == WeightEncoding::kBinary && p.bits != 1) w->Error("bits", "binary weights must declare bits = 1");
          if (enc_ok && bits && p.encoding == WeightEncoding::kTernary && p.bits != 2) w->Error("bits", "ternary weights must declare bits = 2");
          ok = ok && w->ok() && t && enc && bits;
        } else ok = false;
        if (auto b = lf.Object("bias", false)) {
          auto t = b->String("tensor");
          b->RejectUnknown();
          if (t) p.bias_tensor = *t;
          if (t && t->empty()) b->Error("tensor", "must name a tensor");
          ok = ok && t && !t->empty();
        }
        const bool thresholds = lj.contains("threshold");
        if (auto th = lf.Object("threshold", false)) {
          auto t = th->String("tensor");
          th->RejectUnknown();
          if (t) p.threshold_tensor = *t;
          if (t && t->empty()) th->Error("tensor", "must name a tensor");
          if (lj.contains("requant")) lf.Error("threshold", "give either requant or threshold, not both");
          ok = ok && t && !t->empty() && !lj.contains("requant");
        }
        if (thresholds) {
          p.m.scalar = 1, p.s.scalar = 0;
        } else if (auto rq = lf.Object("requant")) {
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
              const auto range = "[" + std::to_string(p.output.min()) + ", " + std::to_string(p.output.max()) + "]";
              const auto type = std::string(p.output.is_signed ? "signed " : "unsigned ") + std::to_string(p.output.bits) + "-bit output ";
              if (!c->is_array() || c->size() != 2 || !(*c)[0].is_number_integer() || !(*c)[1].is_number_integer()) {
                o->Error("clamp", "expected [lo, hi] with two integers");
                ok = false;
              } else if (!IntInRange((*c)[0], p.output.min(), p.output.max()) || !IntInRange((*c)[1], p.output.min(), p.output.max())) {
                o->Error("clamp", "[" + IntText((*c)[0]) + ", " + IntText((*c)[1]) + "] is not representable in " + type + range);
                ok = false;
              } else {
                p.lo = (*c)[0].get<int64_t>();
                p.hi = (*c)[1].get<int64_t>();
                if (p.lo > p.hi) o->Error("clamp", "lo " + std::to_string(p.lo) + " > hi " + std::to_string(p.hi)), ok = false;
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
        lf.Error("kind", "unknown layer kind '" + Printable(*kind) + "' (supported: dense, argmax)");
      }
      lf.RejectUnknown();
      m.layers.push_back(std::move(layer));
    }
  }
  diag.ThrowIfAny();
  return out;
}

// The tensor stage: looks up, shape-checks and range-checks every tensor the manifest names.
Model ResolveTensors(Manifest manifest, const std::string& tensors_bytes, const std::string& tensors_name) {
  Model& m = manifest.model;
  const std::string& manifest_name = m.manifest_path;
  Diag diag(manifest_name);
  std::map<std::string, std::string> users;  // tensor -> first layer naming it, for safetensors errors
  for (const PendingDense& p : manifest.pending)
    for (const std::string* t : {&p.weight_tensor, &p.bias_tensor, &p.m.tensor, &p.s.tensor, &p.threshold_tensor})
      if (!t->empty()) users.emplace(*t, LayerLabel(m.layers[p.index].name, p.index));
  TensorMap tensors = detail::ParseSafetensorsIn(tensors_bytes, tensors_name, [&](const std::string& t) {
    const auto it = users.find(t);
    return it == users.end() ? std::string() : it->second;
  });
  // A layer whose tensors failed has no known output length, so the next layer's input length is
  // unknown too: check its own tensors but not the chain, instead of reporting a second, derived error.
  std::vector<char> layer_ok(m.layers.size(), 0);
  for (const PendingDense& p : manifest.pending) {
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
        err(field, "tensor '" + Printable(name) + "' not found in " + tensors_name);
        return nullptr;
      }
      return &it->second;
    };
    auto shape_text = [](const std::vector<int64_t>& shape) {
      std::string s;
      for (int64_t d : shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
      return "[" + s + "]";
    };
    const std::string wname = Printable(p.weight_tensor);
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
      err("weight.tensor", "tensor '" + wname + "' must have shape [out, in], has rank " + std::to_string(w->shape.size()));
      continue;
    }
    const bool chain_known = p.index == 0 || layer_ok[p.index - 1];
    if (chain_known && w->shape[1] != in) {
      err("weight.tensor", "tensor '" + wname + "' has shape " + shape_text(w->shape) + " but the layer input has length " + std::to_string(in));
      continue;
    }
    if (!chain_known && (w->shape[1] < 1 || w->shape[1] > kMaxLength)) {
      err("weight.tensor", "input count " + std::to_string(w->shape[1]) + " out of range 1.." + std::to_string(kMaxLength));
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
        err(field, "tensor '" + Printable(tname) + "' must have shape [" + std::to_string(d.out) + "], has " + shape_text(t->shape));
        return false;
      }
      for (size_t k = 0; k < t->values.size(); ++k)
        if (t->values[k] < lo || t->values[k] > hi) {
          err(field, "tensor '" + Printable(tname) + "' value " + std::to_string(t->values[k]) + " at [" + std::to_string(k) +
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
    if (ok && !p.threshold_tensor.empty()) {
      d.has_threshold = true;
      d.threshold_tensor = p.threshold_tensor;
      const int64_t L = d.clamp_hi - d.clamp_lo;
      const std::string tname = Printable(p.threshold_tensor);
      if (const Tensor* t = find("threshold.tensor", p.threshold_tensor)) {
        if (L > 65536 || L * d.out > (int64_t{1} << 24)) {
          err("threshold.tensor", "the clamp range needs " + std::to_string(L) + " thresholds per channel, above the limit (65536, 2^24 in all)");
          ok = false;
        } else if (t->shape != std::vector<int64_t>{d.out, L}) {
          err("threshold.tensor", "tensor '" + tname + "' must have shape [" + std::to_string(d.out) + ", " + std::to_string(L) +
                                      "] (outputs, clamp hi - lo), has " + shape_text(t->shape));
          ok = false;
        } else {
          for (int o = 0; o < d.out && ok; ++o)
            for (int64_t k = 0; k < L && ok; ++k) {
              const int64_t v = t->values[o * L + k];
              if (v < -(int64_t{1} << 50) || v > (int64_t{1} << 50)) {
                err("threshold.tensor", "tensor '" + tname + "' value " + std::to_string(v) + " at [" + std::to_string(o) + ", " +
                                            std::to_string(k) + "] out of range -2^50..2^50");
                ok = false;
              } else if (k > 0 && v < t->values[o * L + k - 1]) {
                err("threshold.tensor", "tensor '" + tname + "' row " + std::to_string(o) + " is not non-decreasing at [" +
                                            std::to_string(o) + ", " + std::to_string(k) + "]");
                ok = false;
              }
            }
          if (ok) d.threshold = t->values;
        }
      } else ok = false;
    }
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
  // Real-unit descriptions must fit the model they describe.
  Model& mm = manifest.model;
  const std::string mpath = mm.manifest_path;
  if (mm.input_quantizer.present &&
      (mm.input_quantizer.code_min < mm.input.min() || mm.input_quantizer.code_max > mm.input.max()) &&
      mm.input_quantizer.rounding != "SIGN")
    diag.Add(Location{mpath, "", "input.quantizer.clamp"}, "clamp [" + std::to_string(mm.input_quantizer.code_min) + ", " +
                                                                 std::to_string(mm.input_quantizer.code_max) + "] is outside the input type");
  if (mm.input_quantizer.present &&
      ((!mm.input_quantizer.scales.empty() && static_cast<int>(mm.input_quantizer.scales.size()) != mm.input_length) ||
       (!mm.input_quantizer.zero_points.empty() && static_cast<int>(mm.input_quantizer.zero_points.size()) != mm.input_length)))
    diag.Add(Location{mpath, "", "input.quantizer"}, "per-element scale / zero_point arrays must have input.length (" +
                                                         std::to_string(mm.input_length) + ") values");
  if (mm.output_scale.present) {
    const DenseLayer* target = nullptr;
    for (const Layer& l : mm.layers)
      if (l.name == mm.output_scale.layer) target = std::get_if<DenseLayer>(&l.op);
    if (!target) diag.Add(Location{mpath, "", "output.layer"}, "'" + Printable(mm.output_scale.layer) + "' is not a dense layer of this model");
    else
      for (const auto* v : {&mm.output_scale.scale, &mm.output_scale.offset})
        if (v->size() != 1 && static_cast<int>(v->size()) != target->out)
          diag.Add(Location{mpath, "", v == &mm.output_scale.scale ? "output.scale" : "output.offset"},
                   "expected 1 or " + std::to_string(target->out) + " values (the layer's outputs), got " + std::to_string(v->size()));
  }
  diag.ThrowIfAny();
  return std::move(manifest.model);
}


}  // namespace

Model ParseModel(const std::string& manifest_json, const std::string& manifest_name,
                 const std::string& tensors_bytes, const std::string& tensors_name) {
  return ResolveTensors(ParseManifest(manifest_json, manifest_name), tensors_bytes, tensors_name);
}

Model LoadModel(const std::string& manifest_path) {
  std::string why;
  const std::optional<std::string> manifest = ReadBounded(manifest_path, kMaxManifestBytes, &why);
  if (!manifest) throw Error(Location{manifest_path, "", ""}, "cannot read model manifest: " + why);
  Manifest parsed = ParseManifest(*manifest, manifest_path);  // manifest problems first, before any tensor I/O
  const fs::path tensors_path = fs::path(manifest_path).parent_path() / parsed.model.tensors_file;
  const std::optional<std::string> bytes = ReadBounded(tensors_path.string(), kMaxTensorsFileBytes, &why);
  if (!bytes)
    throw Error(Location{manifest_path, "", "tensors"}, "cannot read tensors file '" + Printable(tensors_path.string(), 200) + "': " + why);
  return ResolveTensors(std::move(parsed), *bytes, tensors_path.string());
}

std::string ManifestJson(const Model& m) {
  json root = json::object();
  root["format"] = "hardwire-model";
  root["version"] = 1;
  root["name"] = m.name;
  root["tensors"] = m.tensors_file;
  root["input"] = {{"length", m.input_length}, {"signed", m.input.is_signed}, {"bits", m.input.bits}};
  if (m.input_quantizer.present) {
    const InputQuantizer& q = m.input_quantizer;
    json pre = json::array();
    for (const auto& p : q.pre) pre.push_back({{"op", p.op}, {"value", p.value}});
    root["input"]["quantizer"] = {{"preprocess", pre}, {"scale", q.scales.empty() ? json(q.scale) : json(q.scales)},
                                  {"zero_point", q.zero_points.empty() ? json(q.zero_point) : json(q.zero_points)},
                                  {"clamp", {q.code_min, q.code_max}}, {"rounding", q.rounding},
                                  {"order", q.order == InputQuantizer::Order::kAddZeroThenRound ? "add_zero_point_then_round" : "round_then_add_zero_point"}};
  }
  json layers = json::array();
  for (const Layer& l : m.layers) {
    json lj = {{"kind", l.kind()}, {"name", l.name}};
    if (const auto* d = std::get_if<DenseLayer>(&l.op)) {
      lj["weight"] = {{"tensor", d->weight_tensor}, {"encoding", ToString(d->encoding)}, {"bits", d->weight_bits}};
      if (d->has_bias) lj["bias"] = {{"tensor", d->bias_tensor}};
      if (d->has_threshold) lj["threshold"] = {{"tensor", d->threshold_tensor}};
      else lj["requant"] = {{"multiplier", {{"tensor", d->multiplier_tensor}}}, {"shift", {{"tensor", d->shift_tensor}}}};
      lj["output"] = {{"signed", d->output.is_signed}, {"bits", d->output.bits}, {"clamp", {d->clamp_lo, d->clamp_hi}}};
    }
    layers.push_back(lj);
  }
  root["layers"] = layers;
  if (m.output_scale.present)
    root["output"] = {{"layer", m.output_scale.layer}, {"scale", m.output_scale.scale}, {"offset", m.output_scale.offset}};
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
    if (d->has_threshold) {
      put(d->threshold_tensor, {d->out, d->thresholds_per_channel()}, d->threshold);
    } else {
      put(d->multiplier_tensor, {d->out}, d->multiplier);
      put(d->shift_tensor, {d->out}, d->shift);
    }
  }
  fs::create_directories(dir);
  const std::string tensors_path = (fs::path(dir) / m.tensors_file).string();
  std::string bytes;
  try {
    bytes = SerializeSafetensors(tensors);
  } catch (const Error& e) {  // name the file being written ("hardwire: field ..." otherwise)
    std::vector<std::string> msgs;
    for (const std::string& msg : e.messages()) msgs.push_back(tensors_path + ": " + msg);
    throw Error(msgs);
  }
  WriteFileOrThrow(tensors_path, bytes);
  WriteFileOrThrow((fs::path(dir) / "model.json").string(), ManifestJson(m));
}

}  // namespace hw::model
