#include "model/lm_model_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "model/manifest_fields.h"
#include "model/safetensors.h"

namespace hw::model {

namespace fs = std::filesystem;
using detail::Diag;
using detail::Fields;
using detail::json;
using detail::Printable;

namespace {

constexpr int kMaxVocab = 128;
constexpr int kMaxContext = 4096;
constexpr int kMaxOps = 4096;
constexpr int kMaxLength = 65536;
constexpr int64_t kMaxAbsValue = int64_t{1} << 31;  // values, clamps and table entries stay within int32
constexpr int kRsqrtEntries = 192;
constexpr int kReciprocalEntries = 256;
constexpr int64_t kLimit62 = int64_t{1} << 62;

std::string OpLabel(const std::string& name, size_t i) {
  return "op '" + Printable(name, 64) + "' (ops[" + std::to_string(i) + "])";
}

// A tensor reference or an integer, read from the manifest before tensors are available.
struct Param {
  std::optional<int64_t> scalar;
  std::string tensor;
  std::string field;  // JSON path, for errors found later
};

// One op as read from the manifest (stage 1).
struct PendingOp {
  LmOpKind kind;
  std::string name;
  size_t index;
  std::vector<std::string> inputs;
  std::vector<std::string> input_fields;
  std::map<std::string, Param> params;  // "table", "weight", "M", "S", "score.M", ...
  int64_t lo = 0, hi = 0;
  int frac_bits = 0, prob_bits = 0, heads = 0, weight_bits = 0;
};

std::optional<Param> ReadParam(Fields& f, const std::string& key, bool allow_scalar, int64_t lo, int64_t hi) {
  const json* v = f.Get(key);
  if (!v) return std::nullopt;
  if (allow_scalar && v->is_number_integer()) {
    auto x = f.Int(key, lo, hi);
    if (!x) return std::nullopt;
    return Param{x, "", f.Path(key)};
  }
  if (v->is_object()) {
    auto o = f.Object(key);
    auto t = o->String("tensor");
    o->RejectUnknown();
    if (!t) return std::nullopt;
    return Param{std::nullopt, *t, f.Path(key)};
  }
  f.Error(key, std::string(allow_scalar ? "expected an integer or {\"tensor\": name}" : "expected {\"tensor\": name}") +
                   ", got " + detail::JsonTypeName(*v));
  return std::nullopt;
}

bool ReadClamp(Fields& f, PendingOp& p) {
  const json* c = f.Get("clamp");
  if (!c) return false;
  if (!c->is_array() || c->size() != 2 || !(*c)[0].is_number_integer() || !(*c)[1].is_number_integer()) {
    f.Error("clamp", "expected [lo, hi] with two integers");
    return false;
  }
  if (!detail::IntInRange((*c)[0], -kMaxAbsValue, kMaxAbsValue - 1) || !detail::IntInRange((*c)[1], -kMaxAbsValue, kMaxAbsValue - 1)) {
    f.Error("clamp", "bounds must lie in -2^31 .. 2^31-1");
    return false;
  }
  p.lo = (*c)[0].get<int64_t>();
  p.hi = (*c)[1].get<int64_t>();
  if (p.lo > p.hi) {
    f.Error("clamp", fmt::format("lo {} is above hi {}", p.lo, p.hi));
    return false;
  }
  return true;
}

void ReadInput(Fields& f, PendingOp& p, const std::string& key) {
  if (auto s = f.String(key)) {
    p.inputs.push_back(*s);
    p.input_fields.push_back(key);
  }
}

void ReadRequant(Fields& f, PendingOp& p, const std::string& key, bool per_channel) {
  auto r = f.Object(key);
  if (!r) return;
  if (auto m = ReadParam(*r, "multiplier", true, 1, (int64_t{1} << 31) - 1)) p.params[key + ".M"] = *m;
  if (auto s = ReadParam(*r, "shift", true, 0, 62)) p.params[key + ".S"] = *s;
  if (!per_channel)
    for (const char* k : {".M", ".S"})
      if (p.params.count(key + k) && !p.params[key + k].scalar) {
        r->Error(k[1] == 'M' ? "multiplier" : "shift", "must be one integer (a scalar) for this op");
        p.params.erase(key + k);
      }
  r->RejectUnknown();
}

struct Stage1 {
  LmModel model;
  std::vector<PendingOp> ops;
  std::string output;
};

Stage1 ParseManifestV2(const std::string& text, const std::string& file) {
  Diag diag(file);
  const json root = detail::ParseManifestJson(text, file);
  Stage1 out;
  LmModel& m = out.model;
  m.manifest_path = file;
  Fields top(root, "", Location{file, "", ""}, diag);
  if (auto f = top.String("format"); f && *f != "hardwire-model")
    top.Error("format", "expected \"hardwire-model\", got \"" + Printable(*f) + "\"");
  top.Int("version", 2, 2);
  if (auto n = top.String("name")) {
    if (!detail::ValidIdentifier(*n)) top.Error("name", "'" + Printable(*n) + "' " + detail::kIdentifierRule);
    m.name = *n;
  }
  if (auto t = top.String("tensors")) {
    if (t->empty() || t->find('\0') != std::string::npos || fs::path(*t).is_absolute())
      top.Error("tensors", "must name a file relative to the directory of the manifest");
    m.tensors_file = *t;
  }
  if (auto c = top.Int("context", 1, kMaxContext)) m.context = static_cast<int>(*c);
  if (const json* v = top.Get("vocab")) {
    if (!v->is_array() || v->empty() || v->size() > kMaxVocab) {
      top.Error("vocab", fmt::format("expected an array of 1 .. {} one-character strings", kMaxVocab));
    } else {
      std::map<std::string, size_t> seen;
      for (size_t i = 0; i < v->size(); ++i) {
        const json& s = (*v)[i];
        const std::string key = fmt::format("vocab[{}]", i);
        if (!s.is_string() || s.get<std::string>().size() != 1) {
          top.Error(key, "expected a string of one ASCII character");
          continue;
        }
        const std::string sym = s.get<std::string>();
        const unsigned char c = static_cast<unsigned char>(sym[0]);
        if (!(c == '\n' || c == '\t' || (c >= 32 && c < 127))) {
          top.Error(key, fmt::format("character code {} is not newline, tab or printable ASCII", c));
          continue;
        }
        if (!seen.emplace(sym, i).second) top.Error(key, fmt::format("symbol repeats vocab[{}]", seen[sym]));
        m.vocab.push_back(sym);
      }
    }
  }
  if (auto o = top.String("output")) out.output = *o;
  const json* ops = top.Get("ops");
  if (ops && (!ops->is_array() || ops->empty() || ops->size() > kMaxOps)) {
    top.Error("ops", fmt::format("expected an array of 1 .. {} ops", kMaxOps));
    ops = nullptr;
  }
  std::map<std::string, size_t> names;
  if (ops) {
    for (size_t i = 0; i < ops->size(); ++i) {
      const json& o = (*ops)[i];
      const std::string path = fmt::format("ops[{}]", i);
      if (!o.is_object()) {
        top.Error(path, "expected an object, got " + detail::JsonTypeName(o));
        continue;
      }
      std::string name = o.contains("name") && o["name"].is_string() ? o["name"].get<std::string>() : "?";
      Fields f(o, "", Location{file, OpLabel(name, i), ""}, diag);
      PendingOp p;
      p.index = i;
      if (auto n = f.String("name")) {
        if (!detail::ValidIdentifier(*n)) f.Error("name", "'" + Printable(*n) + "' " + detail::kIdentifierRule);
        else if (*n == kTokenValue || *n == kPositionValue) f.Error("name", "'" + *n + "' is a built-in value");
        else if (names.count(*n)) f.Error("name", fmt::format("repeats the name of ops[{}]", names[*n]));
        else names[*n] = i;
        p.name = *n;
      }
      const std::optional<std::string> kind = f.String("op");
      if (!kind) continue;
      static const std::map<std::string, LmOpKind> kinds = {
          {"embedding", LmOpKind::kEmbedding}, {"add", LmOpKind::kAdd},     {"rmsnorm", LmOpKind::kRmsNorm},
          {"dense", LmOpKind::kDense},         {"attention", LmOpKind::kAttention}, {"table", LmOpKind::kTable},
          {"sample", LmOpKind::kSample}};
      auto k = kinds.find(*kind);
      if (k == kinds.end()) {
        f.Error("op", "unknown op '" + Printable(*kind) + "' (known: embedding, add, rmsnorm, dense, attention, table, sample)");
        continue;
      }
      p.kind = k->second;
      switch (p.kind) {
        case LmOpKind::kEmbedding: {
          if (auto s = f.String("index")) {
            if (*s != kTokenValue && *s != kPositionValue) f.Error("index", "must be \"token\" or \"position\"");
            p.inputs.push_back(*s);
            p.input_fields.push_back("index");
          }
          if (auto t = ReadParam(f, "table", false, 0, 0)) p.params["table"] = *t;
          break;
        }
        case LmOpKind::kAdd: {
          const json* in = f.Get("inputs");
          if (in && (!in->is_array() || in->size() != 2 || !(*in)[0].is_string() || !(*in)[1].is_string())) {
            f.Error("inputs", "expected two value names");
          } else if (in) {
            for (int j = 0; j < 2; ++j) {
              p.inputs.push_back((*in)[j].get<std::string>());
              p.input_fields.push_back(fmt::format("inputs[{}]", j));
            }
          }
          ReadClamp(f, p);
          break;
        }
        case LmOpKind::kRmsNorm: {
          ReadInput(f, p, "input");
          if (auto t = ReadParam(f, "rsqrt", false, 0, 0)) p.params["table"] = *t;
          if (auto fb = f.Int("frac_bits", 4, 32)) p.frac_bits = static_cast<int>(*fb);
          ReadClamp(f, p);
          break;
        }
        case LmOpKind::kDense: {
          ReadInput(f, p, "input");
          if (auto w = f.Object("weight")) {
            if (auto t = w->String("tensor")) p.params["weight"] = Param{std::nullopt, *t, w->Path("tensor")};
            if (auto e = w->String("encoding"); e && *e != "signed") w->Error("encoding", "graph models support \"signed\" weights only");
            if (auto b = w->Int("bits", 2, 16)) p.weight_bits = static_cast<int>(*b);
            w->RejectUnknown();
          }
          ReadRequant(f, p, "requant", true);
          ReadClamp(f, p);
          break;
        }
        case LmOpKind::kAttention: {
          for (const char* key : {"q", "k", "v"}) ReadInput(f, p, key);
          if (auto h = f.Int("heads", 1, 1024)) p.heads = static_cast<int>(*h);
          ReadRequant(f, p, "score", false);
          if (auto t = ReadParam(f, "exp2", false, 0, 0)) p.params["exp2"] = *t;
          if (auto t = ReadParam(f, "reciprocal", false, 0, 0)) p.params["reciprocal"] = *t;
          if (auto pb = f.Int("prob_bits", 1, 15)) p.prob_bits = static_cast<int>(*pb);
          ReadRequant(f, p, "requant", false);
          ReadClamp(f, p);
          break;
        }
        case LmOpKind::kTable: {
          ReadInput(f, p, "input");
          if (auto t = ReadParam(f, "table", false, 0, 0)) p.params["table"] = *t;
          break;
        }
        case LmOpKind::kSample: {
          ReadInput(f, p, "input");
          ReadRequant(f, p, "score", false);
          if (auto t = ReadParam(f, "exp2", false, 0, 0)) p.params["exp2"] = *t;
          if (i + 1 != ops->size()) f.Error("op", "the sample op must be the last op");
          break;
        }
      }
      f.RejectUnknown();
      out.ops.push_back(std::move(p));
    }
  }
  if (!out.output.empty() && ops && (out.ops.empty() || out.ops.back().name != out.output || out.ops.back().kind != LmOpKind::kSample))
    top.Error("output", "'" + Printable(out.output) + "' must name the sample op, which comes last");
  top.RejectUnknown();
  diag.ThrowIfAny();
  return out;
}

// Stage 2: tensors, shapes, ranges and the value graph.
class Resolver {
 public:
  Resolver(Stage1& s, const TensorMap& t, const std::string& file, const std::string& tensors_name, Diag& diag)
      : s_(s), t_(t), file_(file), tensors_name_(tensors_name), diag_(diag) {}

  void Run() {
    LmModel& m = s_.model;
    m.values.push_back(LmValue{kTokenValue, 1, 0, std::max(0, m.vocab_size() - 1), -1});
    m.values.push_back(LmValue{kPositionValue, 1, 0, std::max(0, m.context - 1), -1});
    for (PendingOp& p : s_.ops) {
      cur_ = &p;
      ok_ = true;
      LmOp op;
      op.kind = p.kind;
      op.name = p.name;
      for (size_t j = 0; j < p.inputs.size(); ++j) {
        const int id = m.ValueId(p.inputs[j]);
        if (id < 0) Err(p.input_fields[j], fmt::format("'{}' is not a value defined by an earlier op (or token/position)", Printable(p.inputs[j])));
        op.inputs.push_back(id);
      }
      if (!ok_) continue;
      Resolve(p, op);
      if (!ok_) continue;
      if (op.kind != LmOpKind::kSample)
        m.values.push_back(LmValue{op.name, op.length, op.lo, op.hi, static_cast<int>(m.ops.size())});
      else
        m.output_op = static_cast<int>(m.ops.size());
      m.ops.push_back(std::move(op));
    }
    if (diag_.empty() && m.output_op < 0)
      diag_.Add(Location{file_, "", "ops"}, "the graph has no sample op");
  }

 private:
  void Err(const std::string& field, const std::string& msg) {
    diag_.Add(Location{file_, OpLabel(cur_->name, cur_->index), field}, msg);
    ok_ = false;
  }
  const LmValue& V(int id) const { return s_.model.values[id]; }
  static int64_t AbsMax(const LmValue& v) { return std::max(std::abs(v.lo), std::abs(v.hi)); }

  // The tensor named by param `key`, checked for rank/shape (-1 = any) and value range.
  const Tensor* Get(const std::string& key, std::vector<int64_t> shape, int64_t lo, int64_t hi) {
    const Param& p = cur_->params.at(key);
    auto it = t_.find(p.tensor);
    if (it == t_.end()) {
      Err(p.field, "tensor '" + Printable(p.tensor) + "' not found in " + tensors_name_);
      return nullptr;
    }
    const Tensor& t = it->second;
    bool shape_ok = t.shape.size() == shape.size();
    for (size_t i = 0; shape_ok && i < shape.size(); ++i) shape_ok = shape[i] < 0 || shape[i] == t.shape[i];
    if (!shape_ok) {
      std::string want, got;
      for (int64_t d : shape) want += (want.empty() ? "" : ", ") + (d < 0 ? std::string("any") : std::to_string(d));
      for (int64_t d : t.shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
      Err(p.field, fmt::format("tensor '{}' has shape [{}], expected [{}]", Printable(p.tensor), got, want));
      return nullptr;
    }
    for (size_t i = 0; i < t.values.size(); ++i)
      if (t.values[i] < lo || t.values[i] > hi) {
        Err(p.field, fmt::format("tensor '{}' element {} is {}, outside {} .. {}", Printable(p.tensor), i, t.values[i], lo, hi));
        return nullptr;
      }
    return &t;
  }
  // Scalar or per-channel requant parameters.
  bool GetRequant(const std::string& key, size_t channels, Requant* r) {
    for (const char* part : {".M", ".S"}) {
      auto it = cur_->params.find(key + part);
      if (it == cur_->params.end()) return ok_ = false;
      std::vector<int64_t>& dst = part[1] == 'M' ? r->multiplier : r->shift;
      if (it->second.scalar) {
        dst = {*it->second.scalar};
      } else {
        const Tensor* t = Get(key + part, {static_cast<int64_t>(channels)}, part[1] == 'M' ? 1 : 0,
                              part[1] == 'M' ? (int64_t{1} << 31) - 1 : 62);
        if (!t) return false;
        dst = t->values;
      }
    }
    return true;
  }
  // |acc| * M + 2^(S-1) < 2^62 for every channel (the reference's 64-bit budget).
  void CheckBudget(const std::string& field, int64_t acc_bound, const Requant& r, size_t channels) {
    for (size_t c = 0; c < channels; ++c) {
      const __int128 v = static_cast<__int128>(acc_bound) * r.M(c) + (r.S(c) > 0 ? (__int128{1} << (r.S(c) - 1)) : 0);
      if (v >= kLimit62) {
        Err(field, fmt::format("|acc| up to {} times multiplier {} can reach 2^62 (channel {})", acc_bound, r.M(c), c));
        return;
      }
    }
  }
  bool CheckExp2(const std::string& key, LmOp& op) {
    const Tensor* t = Get(key, {-1}, 0, int64_t{1} << 15);
    if (!t) return false;
    const int64_t n = t->shape[0];
    if (n < 2 || n > 4096 || (n & (n - 1)) != 0) {
      Err(cur_->params.at(key).field, fmt::format("exp2 table has {} entries; expected a power of two 2 .. 4096", n));
      return false;
    }
    if (t->values[0] < 1) {
      Err(cur_->params.at(key).field, "exp2 table entry 0 must be at least 1 (the largest score always contributes)");
      return false;
    }
    op.table = t->values;
    op.exp_frac_bits = 0;
    while ((int64_t{1} << op.exp_frac_bits) < n) ++op.exp_frac_bits;
    return true;
  }

  void Resolve(PendingOp& p, LmOp& op) {
    const LmModel& m = s_.model;
    op.lo = p.lo;
    op.hi = p.hi;
    switch (p.kind) {
      case LmOpKind::kEmbedding: {
        const bool tok = p.inputs[0] == kTokenValue;
        const Tensor* t = Get("table", {tok ? m.vocab_size() : m.context, -1}, -kMaxAbsValue, kMaxAbsValue - 1);
        if (!t) return;
        if (t->shape[1] < 1 || t->shape[1] > kMaxLength) return Err(cur_->params.at("table").field, "row length must be 1 .. 65536");
        op.table = t->values;
        op.table_rows = static_cast<int>(t->shape[0]);
        op.length = static_cast<int>(t->shape[1]);
        op.lo = *std::min_element(op.table.begin(), op.table.end());
        op.hi = *std::max_element(op.table.begin(), op.table.end());
        return;
      }
      case LmOpKind::kAdd: {
        const LmValue &a = V(op.inputs[0]), &b = V(op.inputs[1]);
        if (a.length != b.length) return Err("inputs", fmt::format("'{}' has {} elements but '{}' has {}", a.name, a.length, b.name, b.length));
        op.length = a.length;
        return;
      }
      case LmOpKind::kRmsNorm: {
        const LmValue& x = V(op.inputs[0]);
        if (AbsMax(x) > 32768) return Err("input", fmt::format("'{}' ranges over {} .. {}; rmsnorm inputs must lie within +-2^15", x.name, x.lo, x.hi));
        const Tensor* t = Get("table", {kRsqrtEntries}, 0, 65535);
        if (!t) return;
        op.table = t->values;
        op.frac_bits = p.frac_bits;
        op.length = x.length;
        return;
      }
      case LmOpKind::kDense: {
        const LmValue& x = V(op.inputs[0]);
        if (AbsMax(x) > kMaxAbsValue) return Err("input", "input range exceeds 32 bits");
        const int64_t wmax = (int64_t{1} << (p.weight_bits - 1)) - 1, wmin = -wmax - 1;
        const Tensor* w = Get("weight", {-1, x.length}, wmin, wmax);
        if (!w) return;
        if (w->shape[0] < 1 || w->shape[0] > kMaxLength) return Err("weight", "rows must be 1 .. 65536");
        op.length = static_cast<int>(w->shape[0]);
        op.in_length = x.length;
        op.weight = w->values;
        op.weight_bits = p.weight_bits;
        if (!GetRequant("requant", op.length, &op.requant)) return;
        int64_t bound = 0;
        for (int r = 0; r < op.length; ++r) {
          int64_t s = 0;
          for (int c = 0; c < x.length; ++c) s += std::abs(op.weight[static_cast<size_t>(r) * x.length + c]);
          bound = std::max(bound, s);
        }
        CheckBudget("requant", bound * AbsMax(x), op.requant, op.length);
        return;
      }
      case LmOpKind::kAttention: {
        const LmValue &q = V(op.inputs[0]), &k = V(op.inputs[1]), &v = V(op.inputs[2]);
        if (q.length != k.length || q.length != v.length)
          return Err("q", fmt::format("q, k and v must have equal lengths (got {}, {}, {})", q.length, k.length, v.length));
        if (q.length % p.heads != 0) return Err("heads", fmt::format("{} heads do not divide length {}", p.heads, q.length));
        for (const LmValue* x : {&q, &k, &v})
          if (AbsMax(*x) > 32768) return Err("q", fmt::format("'{}' must lie within +-2^15", x->name));
        op.heads = p.heads;
        op.length = q.length;
        op.prob_bits = p.prob_bits;
        if (!GetRequant("score", 1, &op.score) || !GetRequant("requant", 1, &op.requant)) return;
        if (!CheckExp2("exp2", op)) return;
        const Tensor* rc = Get("reciprocal", {kReciprocalEntries}, 0, (int64_t{1} << 24) - 1);
        if (!rc) return;
        op.reciprocal = rc->values;
        const int64_t hd = q.length / p.heads;
        CheckBudget("score", 2 * hd * AbsMax(q) * AbsMax(k), op.score, 1);
        // p_j <= 2^(P+1) (e_j <= 2^15, RC < 2^24 over a shift of at least 24 - P ... see semantics.md)
        CheckBudget("requant", int64_t{m.context} * (int64_t{1} << (p.prob_bits + 1)) * AbsMax(v), op.requant, 1);
        return;
      }
      case LmOpKind::kTable: {
        const LmValue& x = V(op.inputs[0]);
        const int64_t n = x.hi - x.lo + 1;
        if (n > kMaxLength) return Err("input", fmt::format("'{}' ranges over {} values; tables index at most 65536", x.name, n));
        const Tensor* t = Get("table", {n}, -kMaxAbsValue, kMaxAbsValue - 1);
        if (!t) return;
        op.table = t->values;
        op.input_lo = x.lo;
        op.length = x.length;
        op.lo = *std::min_element(op.table.begin(), op.table.end());
        op.hi = *std::max_element(op.table.begin(), op.table.end());
        return;
      }
      case LmOpKind::kSample: {
        const LmValue& x = V(op.inputs[0]);
        if (x.length != m.vocab_size())
          return Err("input", fmt::format("'{}' has {} elements; the vocabulary has {}", x.name, x.length, m.vocab_size()));
        if (!GetRequant("score", 1, &op.score) || !CheckExp2("exp2", op)) return;
        CheckBudget("score", x.hi - x.lo, op.score, 1);
        op.length = 1;
        op.lo = 0;
        op.hi = m.vocab_size() - 1;
        return;
      }
    }
  }

  Stage1& s_;
  const TensorMap& t_;
  std::string file_, tensors_name_;
  Diag& diag_;
  PendingOp* cur_ = nullptr;
  bool ok_ = true;
};

LmModel Resolve(Stage1 s, const std::string& tensors_bytes, const std::string& tensors_name) {
  const TensorMap tensors = ParseSafetensors(tensors_bytes, tensors_name);
  Diag diag(s.model.manifest_path);
  Resolver(s, tensors, s.model.manifest_path, tensors_name, diag).Run();
  diag.ThrowIfAny();
  return std::move(s.model);
}

}  // namespace

const char* ToString(LmOpKind k) {
  switch (k) {
    case LmOpKind::kEmbedding: return "embedding";
    case LmOpKind::kAdd: return "add";
    case LmOpKind::kRmsNorm: return "rmsnorm";
    case LmOpKind::kDense: return "dense";
    case LmOpKind::kAttention: return "attention";
    case LmOpKind::kTable: return "table";
    case LmOpKind::kSample: return "sample";
  }
  return "?";
}

int LmModel::ValueId(const std::string& n) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == n) return static_cast<int>(i);
  return -1;
}

std::vector<int> LmModel::BlockBoundaries() const {
  // A block ends where the residual stream is written for the last time before the next rmsnorm reads it:
  // every add whose output feeds an rmsnorm, plus the value the final norm reads.
  std::vector<int> out;
  for (const LmOp& op : ops)
    if (op.kind == LmOpKind::kRmsNorm) {
      const int v = op.inputs[0];
      if (values[v].producer >= 0 && ops[values[v].producer].kind == LmOpKind::kAdd &&
          std::find(out.begin(), out.end(), v) == out.end())
        out.push_back(v);
    }
  return out;
}

int64_t LmModel::MatrixWeights() const {
  int64_t n = 0;
  for (const LmOp& op : ops) n += static_cast<int64_t>(op.weight.size());
  return n;
}

bool IsGraphManifest(const std::string& path) {
  std::string why;
  const std::optional<std::string> text = detail::ReadBounded(path, detail::kMaxManifestBytes, &why);
  if (!text) return false;
  json root = json::parse(*text, nullptr, false);
  return root.is_object() && root.contains("version") && root["version"].is_number_integer() && root["version"].get<int64_t>() == 2;
}

LmModel ParseLmModel(const std::string& manifest_json, const std::string& manifest_name, const std::string& tensors_bytes,
                     const std::string& tensors_name) {
  return Resolve(ParseManifestV2(manifest_json, manifest_name), tensors_bytes, tensors_name);
}

LmModel LoadLmModel(const std::string& manifest_path) {
  std::string why;
  const std::optional<std::string> manifest = detail::ReadBounded(manifest_path, detail::kMaxManifestBytes, &why);
  if (!manifest) throw Error(Location{manifest_path, "", ""}, "cannot read model manifest: " + why);
  Stage1 s = ParseManifestV2(*manifest, manifest_path);
  const fs::path tensors_path = fs::path(manifest_path).parent_path() / s.model.tensors_file;
  const std::optional<std::string> bytes = detail::ReadBounded(tensors_path.string(), detail::kMaxTensorsFileBytes, &why);
  if (!bytes) throw Error(Location{manifest_path, "", "tensors"}, "cannot read tensors file '" + Printable(tensors_path.string(), 200) + "': " + why);
  return Resolve(std::move(s), *bytes, tensors_path.string());
}

}  // namespace hw::model
