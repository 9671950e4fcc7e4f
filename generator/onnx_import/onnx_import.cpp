// QONNX / ONNX import: see onnx_import.h and docs/import.md.
//
// The graph is walked once in its (topological) node order. Every tensor is either a constant (initializers,
// Constant nodes and everything computed only from them: shape plumbing, quantized weights, folded BatchNorm
// parameters) or lies on the single dynamic chain that starts at the graph input:
//
//   kInput  the graph input, possibly reshaped and mapped by float constants (x*2-1), not yet quantized
//   kCodes  the output of a quantizer: integer codes, real = scale * (code - zp), code = alpha * y + beta where
//           y is the integer the hardwire model carries (alpha = 2, beta = -1 for bipolar {-1,+1} as y in {0,1})
//   kAcc    y times a constant integer weight matrix (MatMul / Gemm), followed by float elementwise ops
//           (bias Add, BatchNormalization, Mul/Div/Sub by constants, Relu) not yet quantized
//
// A quantizer after kAcc closes a dense layer: per output channel the float chain (evaluated in float32 as
// the ONNX graph is) maps each reachable integer accumulator to a code; the importer finds integers (b, M, S)
// whose requantization clamp(((acc + b) * M + 2^(S-1)) >> S) gives the same code at every reachable
// accumulator and checks that claim (value by value when the range is small enough).
#include "onnx_import/onnx_import.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <optional>

#include "common/diag.h"
#include "common/file_util.h"
#include "model/model_io.h"

namespace hw::onnx_import {
namespace {

namespace fs = std::filesystem;
using i128 = __int128;

constexpr int64_t kMaxElements = int64_t{1} << 26;
constexpr int64_t kMaxFileBytes = int64_t{1} << 30;

const char* kSupported =
    "supported: Quant, BipolarQuant, Trunc (onnx.brevitas / qonnx domains), QuantizeLinear, DequantizeLinear, "
    "MatMulInteger, QLinearMatMul, MatMul, Gemm, Add, Sub, Mul, Div, BatchNormalization, Relu, Cast, Flatten, "
    "Reshape, Identity, a final Softmax; on constants also Shape, Gather, Unsqueeze, Squeeze, Concat, Transpose, "
    "Pow, Sqrt, Neg, Constant";

// The code range of an ONNX integer element type (QuantizeLinear / DequantizeLinear zero points, integer graph
// inputs); false for types hardwire does not carry (above 16 bits, floats).
bool IntRange(int dtype, int64_t* lo, int64_t* hi, int* bits, bool* is_signed) {
  switch (dtype) {
    case onnx::TensorProto::UINT8: *lo = 0, *hi = 255, *bits = 8, *is_signed = false; return true;
    case onnx::TensorProto::INT8: *lo = -128, *hi = 127, *bits = 8, *is_signed = true; return true;
    case onnx::TensorProto::UINT16: *lo = 0, *hi = 65535, *bits = 16, *is_signed = false; return true;
    case onnx::TensorProto::INT16: *lo = -32768, *hi = 32767, *bits = 16, *is_signed = true; return true;
    default: return false;
  }
}

std::string DtypeName(int dtype) {
  return onnx::TensorProto::DataType_IsValid(dtype) ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(dtype))
                                                    : std::to_string(dtype);
}

// A constant tensor; values in double (float32 values, int64 shape values up to 2^53 are exact).
struct CTensor {
  CTensor() = default;
  CTensor(std::vector<int64_t> s, std::vector<double> values, bool f) : shape(std::move(s)), v(std::move(values)), is_float(f) {}
  std::vector<int64_t> shape;
  std::vector<double> v;
  bool is_float = true;
  int dtype = onnx::TensorProto::FLOAT;  // the ONNX element type it was read as (or computed in)
  // Set when the values come from a quantizer (possibly transposed / reshaped since): per element the integer
  // code, the scale and the zero point, so that v = (code - zp) * scale.
  std::vector<double> codes, qs, qz;
  std::string quant_node;
};

// Saturating at 2^62 (a crafted shape cannot overflow; every limit is far below).
int64_t Numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) return 0;
    n = n > (int64_t{1} << 62) / d ? (int64_t{1} << 62) : n * d;
  }
  return n;
}

int64_t SatMul(int64_t a, int64_t b) { return Numel({a, b}); }

// double -> int64 without undefined behaviour for huge or non-finite values (clamped to +-2^62).
int64_t ToInt(double x) {
  if (!(x == x)) return 0;
  return static_cast<int64_t>(std::min(std::max(x, -4.6e18), 4.6e18));
}

std::string ShapeStr(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

double F32(double x) { return static_cast<double>(static_cast<float>(x)); }

struct ChainOp {
  enum class K { kAdd, kSub, kSubFrom, kMul, kDiv, kRelu, kBatchNorm } k;
  std::vector<double> c;  // per channel (size 1: broadcast)
  std::vector<double> bn_scale, bn_bias, bn_mean, bn_var;
  double eps = 0;
  std::string node;
  double at(const std::vector<double>& v, int ch) const { return v.size() == 1 ? v[0] : v[ch]; }
};

// The manifest's name of a preprocessing step before the input quantizer (only scalar Add/Sub/Mul/Div occur there).
const char* PreOpName(ChainOp::K k) {
  switch (k) {
    case ChainOp::K::kAdd: return "add";
    case ChainOp::K::kSub: return "sub";
    case ChainOp::K::kSubFrom: return "sub_from";
    case ChainOp::K::kMul: return "mul";
    case ChainOp::K::kDiv: return "div";
    default: throw InternalError("PreOpName: not a preprocessing op");
  }
}

// Float32 evaluation of an elementwise chain at channel `ch`, as an ONNX runtime evaluates it op by op.
double EvalChain(const std::vector<ChainOp>& chain, int ch, double x) {
  float f = static_cast<float>(x);
  for (const ChainOp& op : chain) {
    switch (op.k) {
      case ChainOp::K::kAdd: f = f + static_cast<float>(op.at(op.c, ch)); break;
      case ChainOp::K::kSub: f = f - static_cast<float>(op.at(op.c, ch)); break;
      case ChainOp::K::kSubFrom: f = static_cast<float>(op.at(op.c, ch)) - f; break;
      case ChainOp::K::kMul: f = f * static_cast<float>(op.at(op.c, ch)); break;
      case ChainOp::K::kDiv: f = f / static_cast<float>(op.at(op.c, ch)); break;
      case ChainOp::K::kRelu: f = f > 0.0f ? f : 0.0f; break;
      case ChainOp::K::kBatchNorm: {
        const float d = std::sqrt(static_cast<float>(op.at(op.bn_var, ch)) + static_cast<float>(op.eps));
        f = (f - static_cast<float>(op.at(op.bn_mean, ch))) / d * static_cast<float>(op.at(op.bn_scale, ch)) +
            static_cast<float>(op.at(op.bn_bias, ch));
        break;
      }
    }
  }
  return f;
}

// An integer quantizer with per-channel scale / zero point: QONNX Quant (integral bit width), BipolarQuant or
// Trunc, ONNX QuantizeLinear, or the requantization inside QLinearMatMul. `scale` and `zp` always give the real
// value of a code, real = scale * (code - zp); how a code is computed from a float depends on the kind.
struct Quantizer {
  enum class Kind {
    kQonnx,          // qonnx int_quant: clamp(x / s + z), then round (rounding_mode)
    kLinear,         // ONNX QuantizeLinear: clamp(rint(x / s) + z), x / s in float32, rint = half to even
    kQLinearMatMul,  // ONNX QLinearMatMul (its reference): clamp(rint(acc * mult + z)), acc an exact integer,
                     // mult = float32(float32(a_scale * b_scale) / y_scale), the product in double
    kTrunc,          // QONNX Trunc v2: floor-like rounding of round(x / s_in + z_in) / 2^t, clamped
  } kind = Kind::kQonnx;
  std::string node, op;
  bool bipolar = false;
  std::vector<double> scale, zp;  // size 1 or per channel
  std::vector<double> mult;       // kQLinearMatMul: per channel (size 1: broadcast)
  double in_scale = 1, in_zp = 0, trunc_scale = 1;  // kTrunc
  int64_t qmin = 0, qmax = 0;
  int bits = 0;
  bool is_signed = true, narrow = false;
  std::string rounding = "ROUND";
  double s(int ch) const { return scale.size() == 1 ? scale[0] : scale[ch]; }
  double z(int ch) const { return zp.size() == 1 ? zp[0] : zp[ch]; }
  double m(int ch) const { return mult.size() == 1 ? mult[0] : mult[ch]; }
  // The unrounded position of x on the code grid (for margins to rounding boundaries).
  double Grid(double x, int ch) const {
    switch (kind) {
      case Kind::kQLinearMatMul: return x * m(ch) + z(ch);
      case Kind::kTrunc: return std::nearbyint(x / in_scale + in_zp) / trunc_scale;
      default: return x / s(ch) + z(ch);
    }
  }
  static double Round(double d, const std::string& mode) {
    if (mode == "ROUND" || mode == "HALF_EVEN") return std::nearbyint(d);
    if (mode == "CEIL") return std::ceil(d);
    if (mode == "FLOOR") return std::floor(d);
    if (mode == "DOWN") return std::trunc(d);
    if (mode == "UP") return d < 0 ? -std::ceil(-d) : std::ceil(d);
    if (mode == "HALF_UP") return d < 0 ? -std::floor(-d + 0.5) : std::floor(d + 0.5);
    return d < 0 ? -std::ceil(-d - 0.5) : std::ceil(d - 0.5);  // HALF_DOWN
  }
  int64_t Clamp(double d) const {
    if (d != d) throw Error(std::vector<std::string>{"a quantizer input is not a number (NaN) for some accumulator value"});
    return static_cast<int64_t>(std::min(std::max(d, static_cast<double>(qmin)), static_cast<double>(qmax)));
  }
  // The code (clamped integer grid value) of input x at channel ch, computed as the kind's reference does.
  int64_t Code(double x, int ch) const {
    if (kind == Kind::kLinear) {  // np.rint(x / y_scale) + zero_point, saturated; x and the scale in float32
      const float t = static_cast<float>(x) / static_cast<float>(s(ch));
      return Clamp(std::nearbyint(static_cast<double>(t)) + z(ch));
    }
    if (kind == Kind::kQLinearMatMul) return Clamp(std::nearbyint(x * m(ch) + z(ch)));
    if (kind == Kind::kTrunc) {  // qonnx trunc_v2 in float32
      float t = static_cast<float>(x) / static_cast<float>(in_scale);
      t = std::nearbyint(t + static_cast<float>(in_zp));
      t = t / static_cast<float>(trunc_scale);
      const double d = std::min(std::max(static_cast<double>(t), static_cast<double>(qmin)), static_cast<double>(qmax));
      return Clamp(Round(d, rounding));
    }
    float t = static_cast<float>(x) / static_cast<float>(s(ch));
    if (bipolar) return t >= 0.0f ? 1 : -1;
    t = t + static_cast<float>(z(ch));
    double d = t;
    if (d != d) throw Error(std::vector<std::string>{"a quantizer input is not a number (NaN) for some accumulator value"});
    d = std::min(std::max(d, static_cast<double>(qmin)), static_cast<double>(qmax));
    return static_cast<int64_t>(Round(d, rounding));
  }
  // The hardwire integer y for code c: code = alpha * y + beta.
  int alpha() const { return bipolar ? 2 : 1; }
  int64_t beta() const { return bipolar ? -1 : 0; }
  int64_t ylo() const { return bipolar ? 0 : qmin; }
  int64_t yhi() const { return bipolar ? 1 : qmax; }
  nlohmann::json Json() const {
    nlohmann::json j{{"node", node}, {"op", op}, {"scale", scale}, {"zero_point", zp}, {"code_min", qmin},
                     {"code_max", qmax}};
    if (!bipolar) j.update({{"bits", bits}, {"signed", is_signed}, {"narrow", narrow}, {"rounding_mode", rounding}});
    if (kind == Kind::kLinear) j["computed_as"] = "clamp(rint(float32(x) / scale) + zero_point) (ONNX QuantizeLinear, half to even)";
    if (kind == Kind::kQLinearMatMul)
      j.update({{"multiplier", mult}, {"computed_as", "clamp(rint(acc * multiplier + zero_point)) (ONNX QLinearMatMul reference)"}});
    if (kind == Kind::kTrunc)
      j.update({{"input_scale", in_scale}, {"input_zero_point", in_zp}, {"trunc_scale", trunc_scale},
                {"computed_as", "clamp(round(x / input_scale + input_zero_point) / trunc_scale), then rounding_mode (qonnx Trunc v2)"}});
    j["hardwire_value"] = bipolar ? "y = (code + 1) / 2" : "y = code";
    return j;
  }
};

// A dense layer waiting for its output quantizer.
struct Pending {
  std::string node;                 // the MatMul / Gemm
  arith::IntMatrix w;               // [out, in] integer weight codes
  std::vector<int64_t> lo, hi;      // reachable range of acc' = W y per channel
  std::vector<double> a, c;         // real accumulator = a[o] * acc' + c[o] (before the chain)
  std::vector<std::string> nodes;   // ONNX nodes folded into this layer
  nlohmann::json weight_quant;
};

struct Dyn {
  enum class Kind { kInput, kCodes, kAcc } kind = Kind::kInput;
  std::vector<int64_t> shape;
  std::vector<ChainOp> chain;
  // kCodes
  Quantizer q;
  int64_t offset = 0;  // hardwire value = y + offset
  bool raw = false;    // the tensor holds the integer codes themselves (QuantizeLinear, an integer graph input),
                       // not their real value scale * (code - zp) (Quant, DequantizeLinear)
  int producer = -1;   // layer index that produced these codes; -1: the model input
  // kAcc
  std::shared_ptr<Pending> pending;
  int channels() const { return shape.empty() ? 1 : static_cast<int>(shape.back()); }
};

class Importer {
 public:
  Importer(const std::string& file, const ImportOptions& opt) : file_(file), opt_(opt) {}

  ImportResult Run(const onnx::ModelProto& mp);

 private:
  [[noreturn]] void Fail(const onnx::NodeProto* n, const std::string& field, const std::string& msg) const {
    std::string where;
    if (n) where = fmt::format("node '{}' ({})", n->name().empty() ? std::string("<unnamed>") : n->name(), n->op_type());
    throw Error(Location{file_, where, field}, msg);
  }

  CTensor FromProto(const onnx::TensorProto& t, const onnx::NodeProto* n, const std::string& what) const;
  const CTensor& Const(const onnx::NodeProto& n, int i) const;
  bool IsConst(const std::string& name) const { return consts_.count(name) > 0; }
  bool IsDyn(const std::string& name) const { return dyns_.count(name) > 0; }
  void FoldConstant(const onnx::NodeProto& n);
  // QuantizeLinear / DequantizeLinear parameters: scale, zero point (a uint8 0 when absent), axis, code range.
  struct LinearParams {
    CTensor scale, zp;
    int64_t axis = 1;
    int dtype = onnx::TensorProto::UINT8;
    int64_t lo = 0, hi = 255;
    int bits = 8;
    bool is_signed = false;
  };
  LinearParams ReadLinear(const onnx::NodeProto& n, int rank, int code_dtype, bool constant = false) const;
  // The quantizer of a QuantizeLinear on an activation of `channels` elements (last axis).
  Quantizer LinearQuantizer(const onnx::NodeProto& n, const LinearParams& lp, const std::vector<int64_t>& shape) const;
  Quantizer ReadTrunc(const onnx::NodeProto& n) const;
  void SetInput(const onnx::NodeProto* n, const Dyn& d, const Quantizer& q);
  // A dense layer from integer weight codes W[o][i] (real weight = wscale[o] * W[o][i]) on the activation d.
  std::shared_ptr<Pending> MakePending(const onnx::NodeProto& n, const Dyn& d, arith::IntMatrix w, const std::vector<double>& wscale,
                                       double sx, double zp);
  // An identity layer (W = I, no adders) on codes d, so that a quantizer can follow a quantizer.
  Dyn IdentityAcc(const onnx::NodeProto& n, const Dyn& d);
  void Dynamic(const onnx::NodeProto& n);
  Quantizer ReadQuantizer(const onnx::NodeProto& n, int channels) const;
  void CloseLayer(const onnx::NodeProto& n, Dyn& d, const Quantizer& q, Dyn& out);
  void LogicalOutput(Dyn& d, bool argmax);
  std::vector<double> PerChannel(const onnx::NodeProto& n, int i, int channels) const;
  int64_t AttrInt(const onnx::NodeProto& n, const std::string& name, int64_t def) const;
  std::optional<std::vector<int64_t>> AttrInts(const onnx::NodeProto& n, const std::string& name) const;

  std::string file_;
  ImportOptions opt_;
  std::map<std::string, CTensor> consts_;
  std::map<std::string, Dyn> dyns_;
  std::map<std::string, int> uses_;
  model::Model model_;
  nlohmann::json report_;
  nlohmann::json nodes_ = nlohmann::json::array();
  nlohmann::json layers_ = nlohmann::json::array();
  nlohmann::json approximations_ = nlohmann::json::array();
  bool have_input_ = false;
  std::string output_name_;
  bool finished_ = false;
  std::string softmax_node_, logits_tensor_;
};

CTensor Importer::FromProto(const onnx::TensorProto& t, const onnx::NodeProto* n, const std::string& what) const {
  CTensor out;
  for (int64_t d : t.dims()) {
    if (d < 0) Fail(n, what, fmt::format("tensor '{}' has a negative dimension {}", t.name(), d));
    out.shape.push_back(d);
  }
  int64_t numel = 1;
  for (int64_t d : out.shape) {
    numel = SatMul(numel, d);
    if (numel > kMaxElements) Fail(n, what, fmt::format("tensor '{}' has more than {} elements", t.name(), kMaxElements));
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    Fail(n, what, fmt::format("tensor '{}' uses external data, which the importer does not read", t.name()));
  const std::string& raw = t.raw_data();
  auto need = [&](size_t have, size_t elem) {
    if (have != static_cast<size_t>(numel))
      Fail(n, what, fmt::format("tensor '{}' of shape {} holds {} values, expected {}", t.name(), ShapeStr(out.shape),
                                have / std::max<size_t>(elem, 1), numel));
  };
  out.v.resize(numel);
  const int dt = t.data_type();
  out.dtype = dt;
  auto from_raw = [&](auto tag) {
    using T = decltype(tag);
    if (raw.size() != static_cast<size_t>(numel) * sizeof(T))
      Fail(n, what, fmt::format("tensor '{}' of shape {} has {} raw bytes, expected {}", t.name(), ShapeStr(out.shape),
                                raw.size(), numel * sizeof(T)));
    for (int64_t i = 0; i < numel; ++i) {
      T x;
      std::memcpy(&x, raw.data() + i * sizeof(T), sizeof(T));
      out.v[i] = static_cast<double>(x);
    }
  };
  switch (dt) {
    case onnx::TensorProto::FLOAT:
      if (!raw.empty()) from_raw(float{});
      else { need(t.float_data_size(), 1); for (int64_t i = 0; i < numel; ++i) out.v[i] = t.float_data(i); }
      break;
    case onnx::TensorProto::DOUBLE:
      if (!raw.empty()) from_raw(double{});
      else { need(t.double_data_size(), 1); for (int64_t i = 0; i < numel; ++i) out.v[i] = t.double_data(i); }
      break;
    case onnx::TensorProto::INT64:
      out.is_float = false;
      if (!raw.empty()) from_raw(int64_t{});
      else { need(t.int64_data_size(), 1); for (int64_t i = 0; i < numel; ++i) out.v[i] = static_cast<double>(t.int64_data(i)); }
      break;
    case onnx::TensorProto::INT32: case onnx::TensorProto::INT16: case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8: case onnx::TensorProto::UINT16: case onnx::TensorProto::BOOL:
      out.is_float = false;
      if (!raw.empty()) {
        if (dt == onnx::TensorProto::INT32) from_raw(int32_t{});
        else if (dt == onnx::TensorProto::INT16) from_raw(int16_t{});
        else if (dt == onnx::TensorProto::UINT16) from_raw(uint16_t{});
        else if (dt == onnx::TensorProto::INT8) from_raw(int8_t{});
        else from_raw(uint8_t{});
      } else {
        need(t.int32_data_size(), 1);
        for (int64_t i = 0; i < numel; ++i) out.v[i] = t.int32_data(i);
      }
      break;
    default:
      Fail(n, what, fmt::format("tensor '{}' has data type {} ({}), supported: float, double and integer types", t.name(), dt,
                                onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(dt))));
  }
  if (out.is_float)
    for (double x : out.v)
      if (!std::isfinite(x)) Fail(n, what, fmt::format("tensor '{}' holds a non-finite value", t.name()));
  return out;
}

const CTensor& Importer::Const(const onnx::NodeProto& n, int i) const {
  if (i >= n.input_size() || n.input(i).empty()) Fail(&n, fmt::format("input {}", i), "missing input");
  auto it = consts_.find(n.input(i));
  if (it == consts_.end())
    Fail(&n, fmt::format("input {} ('{}')", i, n.input(i)),
         IsDyn(n.input(i)) ? "must be a constant (an initializer or computed from initializers), but depends on the graph input"
                           : "is not an initializer, a graph input or the output of an earlier node");
  return it->second;
}

int64_t Importer::AttrInt(const onnx::NodeProto& n, const std::string& name, int64_t def) const {
  for (const auto& a : n.attribute())
    if (a.name() == name) {
      if (a.type() != onnx::AttributeProto::INT) Fail(&n, "attribute " + name, "must be an integer");
      return a.i();
    }
  return def;
}

std::optional<std::vector<int64_t>> Importer::AttrInts(const onnx::NodeProto& n, const std::string& name) const {
  for (const auto& a : n.attribute())
    if (a.name() == name) return std::vector<int64_t>(a.ints().begin(), a.ints().end());
  return std::nullopt;
}

// Numpy broadcasting of two shapes; throws naming the node.
std::vector<int64_t> Broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b, bool* ok) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  *ok = true;
  for (size_t i = 0; i < r; ++i) {
    const int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1) *ok = false;
    out[i] = std::max(x, y);
  }
  return out;
}

double Elem(const CTensor& t, const std::vector<int64_t>& out_shape, int64_t flat) {
  // index of `flat` (in out_shape) into t with broadcasting
  int64_t idx = 0, stride = 1;
  const size_t r = out_shape.size(), tr = t.shape.size();
  for (size_t k = 0; k < r; ++k) {
    const size_t i = r - 1 - k;
    const int64_t coord = flat % out_shape[i];
    flat /= out_shape[i];
    if (k < tr) {
      const int64_t dim = t.shape[tr - 1 - k];
      if (dim != 1) idx += coord * stride;
      stride *= dim;
    }
  }
  return t.v[idx];
}

void Importer::FoldConstant(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  auto out = [&](CTensor t) {
    if (n.output_size() < 1) Fail(&n, "output", "node has no output");
    for (double x : t.v)
      if (!std::isfinite(x)) Fail(&n, "output", "constant folding produced a non-finite value");
    consts_[n.output(0)] = std::move(t);
  };
  auto binary = [&](auto f) {
    const CTensor &a = Const(n, 0), &b = Const(n, 1);
    bool ok;
    CTensor r;
    r.shape = Broadcast(a.shape, b.shape, &ok);
    if (!ok) Fail(&n, "inputs", fmt::format("shapes {} and {} do not broadcast", ShapeStr(a.shape), ShapeStr(b.shape)));
    r.is_float = a.is_float || b.is_float;
    r.v.resize(Numel(r.shape));
    for (int64_t i = 0; i < Numel(r.shape); ++i) {
      const double x = f(Elem(a, r.shape, i), Elem(b, r.shape, i));
      r.v[i] = r.is_float ? F32(x) : std::trunc(x);
    }
    out(std::move(r));
  };
  if (op == "Constant") {
    for (const auto& a : n.attribute()) {
      if (a.name() == "value" && a.has_t()) return out(FromProto(a.t(), &n, "attribute value"));
      if (a.name() == "value_float") return out(CTensor{{}, {static_cast<double>(a.f())}, true});
      if (a.name() == "value_int") return out(CTensor{{}, {static_cast<double>(a.i())}, false});
      if (a.name() == "value_ints") {
        CTensor t{{a.ints_size()}, {}, false};
        for (int64_t x : a.ints()) t.v.push_back(static_cast<double>(x));
        return out(std::move(t));
      }
    }
    Fail(&n, "attribute value", "Constant without a supported value attribute");
  }
  if (op == "Identity" || op == "Cast") {
    CTensor t = Const(n, 0);
    if (op == "Cast") {
      const int64_t to = AttrInt(n, "to", 1);
      t.is_float = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
      for (double& x : t.v) x = t.is_float ? F32(x) : std::trunc(x);
    }
    return out(std::move(t));
  }
  if (op == "Add") return binary([](double a, double b) { return a + b; });
  if (op == "Sub") return binary([](double a, double b) { return a - b; });
  if (op == "Mul") return binary([](double a, double b) { return a * b; });
  if (op == "Div") return binary([](double a, double b) { return a / b; });
  if (op == "Pow") return binary([](double a, double b) { return std::pow(static_cast<float>(a), static_cast<float>(b)); });
  if (op == "Sqrt" || op == "Neg") {
    CTensor t = Const(n, 0);
    for (double& x : t.v) x = op == "Sqrt" ? F32(std::sqrt(static_cast<float>(x))) : -x;
    return out(std::move(t));
  }
  if (op == "Gather") {
    const CTensor &data = Const(n, 0), &ind = Const(n, 1);
    if (data.shape.size() != 1 || AttrInt(n, "axis", 0) != 0)
      Fail(&n, "input 0", "Gather on constants is supported for 1-D data along axis 0 only");
    CTensor t{ind.shape, {}, data.is_float};
    for (double i : ind.v) {
      int64_t k = ToInt(i);
      if (k < 0) k += data.shape[0];
      if (k < 0 || k >= data.shape[0]) Fail(&n, "input 1", fmt::format("index {} out of range", ToInt(i)));
      t.v.push_back(data.v[k]);
    }
    return out(std::move(t));
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    CTensor t = Const(n, 0);
    std::vector<int64_t> axes;
    if (auto a = AttrInts(n, "axes")) axes = *a;
    else if (n.input_size() > 1) for (double x : Const(n, 1).v) axes.push_back(ToInt(x));
    if (op == "Unsqueeze") {
      const int64_t r = static_cast<int64_t>(t.shape.size() + axes.size());
      for (int64_t& a : axes) a = a < 0 ? a + r : a;
      std::sort(axes.begin(), axes.end());
      for (int64_t a : axes) {
        if (a < 0 || a > static_cast<int64_t>(t.shape.size())) Fail(&n, "axes", "axis out of range");
        t.shape.insert(t.shape.begin() + a, 1);
      }
    } else {
      std::vector<int64_t> s;
      for (size_t i = 0; i < t.shape.size(); ++i) {
        const bool drop = axes.empty() ? t.shape[i] == 1
                                       : std::count(axes.begin(), axes.end(), static_cast<int64_t>(i)) +
                                                 std::count(axes.begin(), axes.end(), static_cast<int64_t>(i) - static_cast<int64_t>(t.shape.size())) > 0;
        if (!drop) s.push_back(t.shape[i]);
      }
      t.shape = s;
    }
    return out(std::move(t));
  }
  if (op == "Concat") {
    CTensor t{{0}, {}, false};
    for (int i = 0; i < n.input_size(); ++i) {
      const CTensor& x = Const(n, i);
      if (x.shape.size() > 1) Fail(&n, fmt::format("input {}", i), "Concat on constants is supported for 1-D tensors only");
      t.v.insert(t.v.end(), x.v.begin(), x.v.end());
      t.is_float = t.is_float || x.is_float;
    }
    t.shape[0] = static_cast<int64_t>(t.v.size());
    return out(std::move(t));
  }
  if (op == "Reshape" || op == "Flatten") {
    CTensor t = Const(n, 0);
    if (op == "Flatten") {
      int64_t axis = AttrInt(n, "axis", 1);
      if (axis < 0) axis += static_cast<int64_t>(t.shape.size());
      int64_t a = 1;
      for (int64_t i = 0; i < axis; ++i) a *= t.shape[i];
      t.shape = {a, Numel(t.shape) / std::max<int64_t>(a, 1)};
      return out(std::move(t));
    }
    const CTensor& s = Const(n, 1);
    std::vector<int64_t> shape;
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < s.v.size(); ++i) {
      int64_t d = ToInt(s.v[i]);
      if (d == 0 && i < t.shape.size()) d = t.shape[i];
      if (d == -1) infer = static_cast<int64_t>(i), d = 1;
      else if (d < 0) Fail(&n, "input 1", "negative dimension");
      else known = SatMul(known, d);
      shape.push_back(d);
    }
    if (infer >= 0) shape[infer] = known ? Numel(t.shape) / known : 0;
    if (shape.size() > 16) Fail(&n, "input 1", "rank above 16");
    if (Numel(shape) != Numel(t.shape))
      Fail(&n, "input 1", fmt::format("cannot reshape {} to {}", ShapeStr(t.shape), ShapeStr(shape)));
    t.shape = shape;
    return out(std::move(t));
  }
  if (op == "Transpose") {
    const CTensor& x = Const(n, 0);
    const size_t r = x.shape.size();
    std::vector<int64_t> perm(r);
    std::iota(perm.rbegin(), perm.rend(), 0);
    if (auto p = AttrInts(n, "perm")) perm = *p;
    if (perm.size() != r) Fail(&n, "perm", "wrong length");
    CTensor t{std::vector<int64_t>(r), std::vector<double>(x.v.size()), x.is_float};
    for (size_t i = 0; i < r; ++i) {
      if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(r)) Fail(&n, "perm", "axis out of range");
      t.shape[i] = x.shape[perm[i]];
    }
    std::vector<int64_t> in_stride(r, 1);
    for (size_t i = r; i-- > 1;) in_stride[i - 1] = in_stride[i] * x.shape[i];
    for (int64_t flat = 0; flat < static_cast<int64_t>(t.v.size()); ++flat) {
      int64_t rem = flat, src = 0;
      for (size_t k = r; k-- > 0;) {
        const int64_t c = rem % t.shape[k];
        rem /= t.shape[k];
        src += c * in_stride[perm[k]];
      }
      t.v[flat] = x.v[src];
      if (!x.codes.empty()) {
        t.codes.resize(t.v.size()), t.qs.resize(t.v.size()), t.qz.resize(t.v.size());
        t.codes[flat] = x.codes[src], t.qs[flat] = x.qs[src], t.qz[flat] = x.qz[src];
      }
    }
    t.quant_node = x.quant_node;
    return out(std::move(t));
  }
  if (op == "Quant" || op == "BipolarQuant") {
    const CTensor& x = Const(n, 0);
    Quantizer q = ReadQuantizer(n, -1);
    CTensor t = x;
    const CTensor& sc = Const(n, 1);
    bool ok;
    Broadcast(x.shape, sc.shape, &ok);
    if (!ok) Fail(&n, "input 1 (scale)", fmt::format("shape {} does not broadcast to {}", ShapeStr(sc.shape), ShapeStr(x.shape)));
    CTensor zp = op == "Quant" ? Const(n, 2) : CTensor{{}, {0.0}, true};
    t.codes.resize(x.v.size()), t.qs.resize(x.v.size()), t.qz.resize(x.v.size());
    for (int64_t i = 0; i < static_cast<int64_t>(x.v.size()); ++i) {
      Quantizer qi = q;
      qi.scale = {Elem(sc, x.shape, i)};
      qi.zp = {Elem(zp, x.shape, i)};
      const int64_t c = qi.Code(x.v[i], 0);
      t.codes[i] = static_cast<double>(c), t.qs[i] = qi.scale[0], t.qz[i] = qi.zp[0];
      t.v[i] = F32((static_cast<double>(c) - qi.zp[0]) * qi.scale[0]);
    }
    t.quant_node = n.name();
    t.is_float = true;
    out(std::move(t));
    return;
  }
  if (op == "QuantizeLinear" || op == "DequantizeLinear") {
    const CTensor& x = Const(n, 0);
    const LinearParams lp = ReadLinear(n, static_cast<int>(x.shape.size()), op == "QuantizeLinear" ? 0 : x.dtype, true);
    for (const auto* p : {&lp.scale, &lp.zp})
      if (p->v.size() > 1 && static_cast<int64_t>(p->v.size()) != x.shape[lp.axis])
        Fail(&n, p == &lp.scale ? "input 1 (scale)" : "input 2 (zero point)",
             fmt::format("{} values along axis {} of a tensor of shape {}", p->v.size(), lp.axis, ShapeStr(x.shape)));
    auto at = [&](const CTensor& p, int64_t flat) {
      if (p.v.size() == 1) return p.v[0];
      int64_t stride = 1;
      for (size_t k = static_cast<size_t>(lp.axis) + 1; k < x.shape.size(); ++k) stride *= x.shape[k];
      return p.v[(flat / stride) % x.shape[lp.axis]];
    };
    CTensor t = x;
    if (op == "QuantizeLinear") {
      if (!x.is_float) Fail(&n, "input 0", "QuantizeLinear of an integer tensor");
      t.is_float = false, t.dtype = lp.dtype;
      for (int64_t i = 0; i < static_cast<int64_t>(x.v.size()); ++i) {
        const float q = static_cast<float>(x.v[i]) / static_cast<float>(at(lp.scale, i));
        t.v[i] = std::min(std::max(std::nearbyint(static_cast<double>(q)) + at(lp.zp, i), static_cast<double>(lp.lo)), static_cast<double>(lp.hi));
      }
      return out(std::move(t));
    }
    if (x.is_float) Fail(&n, "input 0", "DequantizeLinear of a float tensor (expected integer codes)");
    t.is_float = true, t.dtype = onnx::TensorProto::FLOAT;
    t.codes = x.v, t.qs.resize(x.v.size()), t.qz.resize(x.v.size());
    for (int64_t i = 0; i < static_cast<int64_t>(x.v.size()); ++i) {
      t.qs[i] = at(lp.scale, i), t.qz[i] = at(lp.zp, i);
      t.v[i] = F32(static_cast<double>(static_cast<float>(x.v[i] - t.qz[i]) * static_cast<float>(t.qs[i])));
    }
    t.quant_node = n.name();
    return out(std::move(t));
  }
  Fail(&n, "op_type", fmt::format("op '{}' (domain '{}') is not supported on constants; {}", op, n.domain(), kSupported));
}


// Reads a Quant / BipolarQuant node's parameters. `channels` >= 0: scale and zero point must be scalars or
// per-channel vectors along the last axis (activations); -1: any broadcastable shape (constants, checked there).
Quantizer Importer::ReadQuantizer(const onnx::NodeProto& n, int channels) const {
  Quantizer q;
  q.node = n.name();
  q.op = n.op_type();
  q.bipolar = n.op_type() == "BipolarQuant";
  const int want = q.bipolar ? 2 : 4;
  if (n.input_size() != want) Fail(&n, "inputs", fmt::format("{} takes {} inputs, found {}", n.op_type(), want, n.input_size()));
  auto vec = [&](int i) {
    if (channels < 0) return Const(n, i).v;
    return PerChannel(n, i, channels);
  };
  q.scale = vec(1);
  for (double s : q.scale)
    if (!(s > 0)) Fail(&n, "input 1 (scale)", fmt::format("scale {} is not positive", s));
    else if (!std::isfinite(s)) Fail(&n, "input 1 (scale)", fmt::format("scale {} is not finite", s));
  if (q.bipolar) {
    q.zp = {0.0};
    q.qmin = -1, q.qmax = 1, q.bits = 1;
    return q;
  }
  q.zp = vec(2);
  for (double z : q.zp) {
    if (z != std::round(z)) Fail(&n, "input 2 (zero point)", fmt::format("zero point {} is not an integer: the quantizer grid is not integral", z));
    // An integer code grid of at most 16 bits: a zero point beyond 32 bits (or infinite) is no quantizer hardware has.
    if (!(std::abs(z) <= 2147483647.0)) Fail(&n, "input 2 (zero point)", fmt::format("zero point {} is outside [-2^31 + 1, 2^31 - 1]", z));
  }
  const CTensor& bw = Const(n, 3);
  if (bw.v.size() != 1) Fail(&n, "input 3 (bit width)", "bit width must be a scalar");
  const double b = bw.v[0];
  if (b != std::round(b)) Fail(&n, "input 3 (bit width)", fmt::format("bit width {} is not an integer: the quantizer grid is not integral", b));
  if (b < 1 || b > 16) Fail(&n, "input 3 (bit width)", fmt::format("bit width {} out of range 1..16", b));
  q.bits = static_cast<int>(b);
  q.is_signed = AttrInt(n, "signed", 1) != 0;
  q.narrow = AttrInt(n, "narrow", 0) != 0;
  for (const auto& a : n.attribute())
    if (a.name() == "rounding_mode") q.rounding = a.s();
  std::string up = q.rounding;
  for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  q.rounding = up;
  static const std::set<std::string> modes{"ROUND", "HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN"};
  if (!modes.count(q.rounding)) Fail(&n, "attribute rounding_mode", fmt::format("unknown rounding mode '{}'", q.rounding));
  if (q.bits == 1 && q.is_signed) {  // qonnx treats a signed 1-bit Quant as bipolar
    q.bipolar = true;
    q.qmin = -1, q.qmax = 1;
    return q;
  }
  if (q.is_signed) {
    q.qmin = -(int64_t{1} << (q.bits - 1)) + (q.narrow ? 1 : 0);
    q.qmax = (int64_t{1} << (q.bits - 1)) - 1;
  } else {
    q.qmin = 0;
    q.qmax = (int64_t{1} << q.bits) - (q.narrow ? 2 : 1);
  }
  return q;
}

// `rank`: the rank of the quantized tensor (for `axis`); `code_dtype`: the element type of the codes for
// DequantizeLinear (0 for QuantizeLinear: the zero point's type, else `output_dtype`, else uint8).
Importer::LinearParams Importer::ReadLinear(const onnx::NodeProto& n, int rank, int code_dtype, bool constant) const {
  LinearParams lp;
  if (n.input_size() < 2 || n.input_size() > 3) Fail(&n, "inputs", fmt::format("{} takes 2 or 3 inputs, found {}", n.op_type(), n.input_size()));
  lp.scale = Const(n, 1);
  if (lp.scale.v.empty()) Fail(&n, "input 1 (scale)", "scale has no values");
  for (double s : lp.scale.v)
    if (!(s > 0)) Fail(&n, "input 1 (scale)", fmt::format("scale {} is not positive", s));
  if (AttrInt(n, "block_size", 0) != 0) Fail(&n, "attribute block_size", "blocked quantization is not supported");
  lp.axis = AttrInt(n, "axis", 1);
  if (lp.axis < 0) lp.axis += rank;
  const bool per_axis = lp.scale.v.size() > 1;
  if (lp.scale.shape.size() > 1) Fail(&n, "input 1 (scale)", fmt::format("scale of shape {} (a scalar or a 1-D per-axis vector expected)", ShapeStr(lp.scale.shape)));
  if (per_axis && (lp.axis < 0 || lp.axis >= rank))
    Fail(&n, "attribute axis", fmt::format("axis {} out of range for a tensor of rank {}", AttrInt(n, "axis", 1), rank));
  int dtype = code_dtype;
  if (n.input_size() == 3 && !n.input(2).empty()) {
    lp.zp = Const(n, 2);
    if (lp.zp.v.empty()) Fail(&n, "input 2 (zero point)", "zero point has no values");
    if (dtype == 0) dtype = lp.zp.dtype;
    if (lp.zp.v.size() != lp.scale.v.size() && lp.zp.v.size() != 1)
      Fail(&n, "input 2 (zero point)", fmt::format("zero point shape {} does not match scale shape {}", ShapeStr(lp.zp.shape), ShapeStr(lp.scale.shape)));
    for (double z : lp.zp.v)
      if (z != std::round(z)) Fail(&n, "input 2 (zero point)", fmt::format("zero point {} is not an integer", z));
  } else {
    lp.zp = CTensor{{}, {0.0}, false};
    lp.zp.dtype = onnx::TensorProto::UINT8;
  }
  if (dtype == 0) dtype = static_cast<int>(AttrInt(n, "output_dtype", onnx::TensorProto::UINT8));
  if (constant && dtype == onnx::TensorProto::INT32) {  // int32 codes of a constant (a bias quantized as ORT does)
    lp.lo = INT32_MIN, lp.hi = INT32_MAX, lp.bits = 32, lp.is_signed = true;
  } else if (!IntRange(dtype, &lp.lo, &lp.hi, &lp.bits, &lp.is_signed)) {
    Fail(&n, n.input_size() == 3 ? "input 2 (zero point)" : "input 0",
         fmt::format("code type {} is not supported ({})", DtypeName(dtype), constant ? "uint8, int8, uint16, int16, int32" : "uint8, int8, uint16, int16"));
  }
  lp.dtype = dtype;
  for (double z : lp.zp.v)
    if (z < static_cast<double>(lp.lo) || z > static_cast<double>(lp.hi)) Fail(&n, "input 2 (zero point)", fmt::format("zero point {} outside the {} range", z, DtypeName(dtype)));
  return lp;
}

// Per-axis parameters along the last axis stay per channel; along another axis of a batch-1 tensor they become one
// value per element (row-major), which hardwire carries like channels of the flattened vector.
Quantizer Importer::LinearQuantizer(const onnx::NodeProto& n, const LinearParams& lp, const std::vector<int64_t>& shape) const {
  Quantizer q;
  q.kind = Quantizer::Kind::kLinear;
  q.node = n.name(), q.op = n.op_type();
  q.scale = lp.scale.v, q.zp = lp.zp.v;
  const int rank = static_cast<int>(shape.size());
  for (const auto* p : {&lp.scale, &lp.zp})
    if (p->v.size() > 1 && static_cast<int64_t>(p->v.size()) != shape[lp.axis])
      Fail(&n, p == &lp.scale ? "input 1 (scale)" : "input 2 (zero point)",
           fmt::format("{} values along axis {} of an activation of shape {}", p->v.size(), lp.axis, ShapeStr(shape)));
  if ((q.scale.size() > 1 || q.zp.size() > 1) && lp.axis != rank - 1) {
    const int64_t numel = Numel(shape);
    int64_t batch = 1, stride = 1;
    for (int k = 0; k < lp.axis; ++k) batch *= shape[k];
    for (int k = static_cast<int>(lp.axis) + 1; k < rank; ++k) stride *= shape[k];
    if (batch != 1 || numel > 65536)
      Fail(&n, "attribute axis", fmt::format("per-axis parameters along axis {} of an activation of shape {} (batch 1 expected)", lp.axis, ShapeStr(shape)));
    auto expand = [&](const std::vector<double>& v) {
      if (v.size() == 1) return v;
      std::vector<double> e(numel);
      for (int64_t i = 0; i < numel; ++i) e[i] = v[(i / stride) % shape[lp.axis]];
      return e;
    };
    q.scale = expand(q.scale), q.zp = expand(q.zp);
  }
  q.qmin = lp.lo, q.qmax = lp.hi, q.bits = lp.bits, q.is_signed = lp.is_signed;
  q.rounding = "HALF_EVEN";
  return q;
}

// QONNX Trunc v2 (6 inputs: x, scale, zero point, input bit width, output scale, output bit width).
Quantizer Importer::ReadTrunc(const onnx::NodeProto& n) const {
  if (n.input_size() != 6)
    Fail(&n, "inputs", fmt::format("Trunc with {} inputs: only qonnx Trunc v2 (6 inputs, with the output scale and a clamp) is supported", n.input_size()));
  auto scalar = [&](int i, const char* what) {
    const CTensor& t = Const(n, i);
    if (t.v.size() != 1) Fail(&n, fmt::format("input {} ({})", i, what), "must be a scalar (per-channel Trunc is not supported)");
    return t.v[0];
  };
  Quantizer q;
  q.kind = Quantizer::Kind::kTrunc;
  q.node = n.name(), q.op = n.op_type();
  q.in_scale = scalar(1, "scale"), q.in_zp = scalar(2, "zero point");
  const double out_scale = scalar(4, "output scale"), bits = scalar(5, "output bit width");
  if (!(q.in_scale > 0)) Fail(&n, "input 1 (scale)", fmt::format("scale {} is not positive", q.in_scale));
  if (!(out_scale > 0)) Fail(&n, "input 4 (output scale)", fmt::format("scale {} is not positive", out_scale));
  if (q.in_zp != std::round(q.in_zp)) Fail(&n, "input 2 (zero point)", fmt::format("zero point {} is not an integer", q.in_zp));
  if (bits != std::round(bits) || bits < 1 || bits > 16) Fail(&n, "input 5 (output bit width)", fmt::format("bit width {} is not an integer in 1..16", bits));
  q.trunc_scale = std::exp2(std::nearbyint(std::log2(out_scale / q.in_scale)));
  const double ozp = q.in_zp / q.trunc_scale;
  if (ozp != std::round(ozp)) Fail(&n, "input 2 (zero point)", fmt::format("zero point {} / trunc scale {} is not an integer", q.in_zp, q.trunc_scale));
  q.scale = {out_scale}, q.zp = {ozp};
  q.bits = static_cast<int>(bits);
  q.is_signed = AttrInt(n, "signed", 1) != 0;
  q.narrow = AttrInt(n, "narrow", 0) != 0;
  q.rounding = "FLOOR";
  for (const auto& a : n.attribute())
    if (a.name() == "rounding_mode") q.rounding = a.s();
  for (char& ch : q.rounding) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  static const std::set<std::string> modes{"ROUND", "HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN"};
  if (!modes.count(q.rounding)) Fail(&n, "attribute rounding_mode", fmt::format("unknown rounding mode '{}'", q.rounding));
  if (q.is_signed) q.qmin = -(int64_t{1} << (q.bits - 1)) + (q.narrow ? 1 : 0), q.qmax = (int64_t{1} << (q.bits - 1)) - 1;
  else q.qmin = 0, q.qmax = (int64_t{1} << q.bits) - (q.narrow ? 2 : 1);
  return q;
}

// A constant operand of an elementwise op on a vector of `channels` elements: a scalar or a per-channel
// vector along the last axis (leading dimensions 1).
std::vector<double> Importer::PerChannel(const onnx::NodeProto& n, int i, int channels) const {
  const CTensor& c = Const(n, i);
  if (c.v.size() == 1) return c.v;
  int64_t non1 = 0;
  for (size_t k = 0; k + 1 < c.shape.size(); ++k) non1 += c.shape[k] != 1;
  if (non1 || c.shape.empty() || c.shape.back() != channels)
    Fail(&n, fmt::format("input {} ('{}')", i, n.input(i)),
         fmt::format("shape {} is neither a scalar nor one value per channel ([{}])", ShapeStr(c.shape), channels));
  return c.v;
}

// The model input: the integer value of the first quantizer (or of an integer graph input, n == nullptr).
void Importer::SetInput(const onnx::NodeProto* n, const Dyn& d, const Quantizer& q) {
  if (have_input_) Fail(n, "", "internal: second input quantizer");
  have_input_ = true;
  const size_t per = std::max(q.scale.size(), q.zp.size());
  if (per > 1 && (static_cast<int64_t>(per) != Numel(d.shape) || q.kind != Quantizer::Kind::kLinear))
    Fail(n, "input 1", "the input quantizer must have a scalar scale and zero point, or (QuantizeLinear) one per element");
  model_.input_length = static_cast<int>(Numel(d.shape));
  const int64_t lo = q.ylo(), hi = q.yhi();
  model_.input.is_signed = lo < 0;
  int bits = 1;
  while (!(lo >= (model_.input.is_signed ? -(int64_t{1} << (bits - 1)) : 0) &&
           hi <= (model_.input.is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1)))
    ++bits;
  model_.input.bits = bits;
  nlohmann::json pre = nlohmann::json::array();
  for (const ChainOp& c : d.chain) pre.push_back({{"node", c.node}, {"const", c.c}, {"op", PreOpName(c.k)}});
  report_["input"] = {{"onnx_input", report_["input"]["onnx_input"]}, {"length", model_.input_length},
                      {"preprocessing", pre}, {"quantizer", q.Json()}, {"tensor", n ? nlohmann::json(n->output(0)) : report_["input"]["onnx_input"]["name"]},
                      {"hardwire", {{"signed", model_.input.is_signed}, {"bits", bits}, {"min", lo}, {"max", hi}}}};
  // The manifest records how a real input becomes the integer input (docs/model-format.md, input.quantizer).
  model::InputQuantizer iq;
  iq.present = true;
  iq.scale = q.scale[0], iq.zero_point = static_cast<int64_t>(q.zp[0]);
  if (per > 1) {  // per-axis: one scale and zero point per input element
    for (size_t i = 0; i < per; ++i) iq.scales.push_back(q.s(static_cast<int>(i))), iq.zero_points.push_back(static_cast<int64_t>(q.z(static_cast<int>(i))));
  }
  iq.code_min = lo, iq.code_max = hi;
  switch (q.kind) {
    case Quantizer::Kind::kLinear: iq.rounding = "HALF_EVEN", iq.order = model::InputQuantizer::Order::kRoundThenAddZero; break;
    default: iq.rounding = q.bipolar ? "SIGN" : q.rounding, iq.order = model::InputQuantizer::Order::kAddZeroThenRound; break;
  }
  if (!n) iq.rounding = "NONE";  // integer graph input: the codes are given
  for (const ChainOp& c : d.chain) {
    model::InputQuantizer::Pre p;
    p.op = PreOpName(c.k);
    p.value = c.c.at(0);
    iq.pre.push_back(p);
  }
  model_.input_quantizer = iq;
}

std::shared_ptr<Pending> Importer::MakePending(const onnx::NodeProto& n, const Dyn& d, arith::IntMatrix w, const std::vector<double>& wscale,
                                               double sx, double zp) {
  auto P = std::make_shared<Pending>();
  P->node = n.name();
  P->nodes = {n.name()};
  P->w = std::move(w);
  const int outn = P->w.rows, in = P->w.cols;
  // real acc[o] = sx * ws[o] * sum_i W[o][i] * (alpha*(v_i - offset) + beta - zp)
  //             = a[o] * acc' + c[o] with acc' = sum_i W[o][i] * v_i, v the hardwire value.
  const int64_t vlo = d.q.ylo() + d.offset, vhi = d.q.yhi() + d.offset;
  const double k0 = static_cast<double>(d.q.beta()) - zp - static_cast<double>(d.q.alpha()) * static_cast<double>(d.offset);
  P->lo.resize(outn), P->hi.resize(outn), P->a.resize(outn), P->c.resize(outn);
  for (int o = 0; o < outn; ++o) {
    int64_t lo = 0, hi = 0, rowsum = 0;
    for (int i = 0; i < in; ++i) {
      const int64_t wv = P->w.at(o, i);
      lo += std::min(wv * vlo, wv * vhi), hi += std::max(wv * vlo, wv * vhi), rowsum += wv;
    }
    P->lo[o] = lo, P->hi[o] = hi;
    P->a[o] = sx * wscale[o] * d.q.alpha();
    P->c[o] = sx * wscale[o] * k0 * static_cast<double>(rowsum);
  }
  return P;
}

Dyn Importer::IdentityAcc(const onnx::NodeProto& n, const Dyn& d) {
  const int64_t len = Numel(d.shape);
  if (len > 4096) Fail(&n, "", fmt::format("a quantizer after a quantizer needs an identity layer; {} elements are above its limit of 4096", len));
  arith::IntMatrix W;
  W.rows = W.cols = static_cast<int>(len);
  W.w.assign(len * len, 0);
  for (int i = 0; i < W.rows; ++i) W.at(i, i) = 1;
  Dyn acc;
  acc.kind = Dyn::Kind::kAcc;
  acc.shape = {1, len};
  // Per-channel scales and zero points stay per channel: row o reads only element o.
  auto P = MakePending(n, d, std::move(W), std::vector<double>(len, 1.0), 1.0, 0.0);
  for (int o = 0; o < P->w.rows; ++o) {
    const double s = d.q.s(o), z = d.q.z(o);
    P->a[o] = s * d.q.alpha();
    P->c[o] = s * (static_cast<double>(d.q.beta()) - z - static_cast<double>(d.q.alpha()) * static_cast<double>(d.offset));
  }
  P->weight_quant = "identity (a quantizer after a quantizer)";
  acc.pending = P;
  return acc;
}

void Importer::Dynamic(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (finished_) Fail(&n, "", "nothing may follow the final Softmax");
  // The dynamic operand (exactly one).
  int di = -1;
  for (int i = 0; i < n.input_size(); ++i)
    if (IsDyn(n.input(i))) {
      if (di >= 0) Fail(&n, "inputs", fmt::format("two inputs depend on the graph input; only chains are supported ({})", kSupported));
      di = i;
    }
  Dyn d = dyns_.at(n.input(di));
  if (uses_[n.input(di)] > 1)
    Fail(&n, fmt::format("input {} ('{}')", di, n.input(di)), "is read by more than one node; only chains (MLPs) are supported");
  if (n.output_size() < 1) Fail(&n, "output", "node has no output");
  auto emit = [&](Dyn out, const std::string& what) {
    nodes_.push_back({{"node", n.name()}, {"op", op}, {"becomes", what}});
    dyns_[n.output(0)] = std::move(out);
  };
  if (op == "Identity") return emit(d, "nothing (identity)");
  if (op == "Reshape" || op == "Flatten") {
    // Shape plumbing: the row-major element order is kept; only [1, ..., N] -> [1, N] (batch 1) is supported.
    std::vector<int64_t> shape;
    const int64_t total = Numel(d.shape);
    if (op == "Flatten") {
      int64_t axis = AttrInt(n, "axis", 1);
      if (axis < 0) axis += static_cast<int64_t>(d.shape.size());
      int64_t a = 1;
      for (int64_t k = 0; k < axis && k < static_cast<int64_t>(d.shape.size()); ++k) a *= d.shape[k];
      shape = {a, total / std::max<int64_t>(a, 1)};
    } else {
      const CTensor& s = Const(n, 1);
      int64_t known = 1, infer = -1;
      for (size_t i = 0; i < s.v.size(); ++i) {
        int64_t v = ToInt(s.v[i]);
        if (v == 0 && i < d.shape.size()) v = d.shape[i];
        if (v == -1) infer = static_cast<int64_t>(i), v = 1;
        else if (v < 0) Fail(&n, "input 1", "negative dimension");
        else known = SatMul(known, v);
        shape.push_back(v);
      }
      if (infer >= 0 && known > 0) shape[infer] = total / known;
      if (Numel(shape) != total)
        Fail(&n, "input 1", fmt::format("cannot reshape {} to {}", ShapeStr(d.shape), ShapeStr(shape)));
    }
    if (shape.empty()) Fail(&n, "", "reshaping to a scalar is not supported");
    if (d.kind == Dyn::Kind::kAcc && shape.back() != d.channels())
      Fail(&n, "", "reshaping an accumulator before its quantizer is not supported");
    const bool per_element = static_cast<int64_t>(std::max(d.q.scale.size(), d.q.zp.size())) == total;
    if (d.kind == Dyn::Kind::kCodes && std::max(d.q.scale.size(), d.q.zp.size()) > 1 && !per_element && shape.back() != d.channels())
      Fail(&n, "", "reshaping per-channel quantized values is not supported");
    d.shape = shape;
    return emit(d, fmt::format("reshape to {} (element order kept)", ShapeStr(shape)));
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (n.input_size() != 2) Fail(&n, "inputs", "expected 2 inputs");
    if (d.kind == Dyn::Kind::kCodes)
      Fail(&n, "", fmt::format("{} after a quantizer (on quantized values) is not supported: put it before the quantizer", op));
    const int ci = 1 - di;
    ChainOp c;
    c.node = n.name();
    if (d.kind == Dyn::Kind::kInput) {
      c.c = Const(n, ci).v;
      if (c.c.size() != 1) Fail(&n, fmt::format("input {}", ci), "only scalar constants are supported before the input quantizer");
    } else {
      c.c = PerChannel(n, ci, d.channels());
    }
    if (op == "Add") c.k = ChainOp::K::kAdd;
    else if (op == "Mul") c.k = ChainOp::K::kMul;
    else if (op == "Sub") c.k = di == 0 ? ChainOp::K::kSub : ChainOp::K::kSubFrom;
    else {
      if (di != 0) Fail(&n, "", "dividing a constant by a value is not supported (not monotone)");
      for (double x : c.c)
        if (x == 0) Fail(&n, fmt::format("input {}", ci), "division by zero");
      c.k = ChainOp::K::kDiv;
    }
    d.chain.push_back(c);
    if (d.pending) d.pending->nodes.push_back(n.name());
    return emit(d, d.kind == Dyn::Kind::kInput ? "input preprocessing (before the input quantizer)" : "folded into the requantization");
  }
  if (op == "BatchNormalization") {
    if (d.kind != Dyn::Kind::kAcc) Fail(&n, "", "BatchNormalization is supported between a MatMul/Gemm and its quantizer");
    if (n.input_size() != 5) Fail(&n, "inputs", "expected 5 inputs");
    ChainOp c;
    c.node = n.name();
    c.k = ChainOp::K::kBatchNorm;
    c.bn_scale = PerChannel(n, 1, d.channels()), c.bn_bias = PerChannel(n, 2, d.channels());
    c.bn_mean = PerChannel(n, 3, d.channels()), c.bn_var = PerChannel(n, 4, d.channels());
    c.eps = 1e-5;
    for (const auto& a : n.attribute())
      if (a.name() == "epsilon") c.eps = a.f();
    if (n.output_size() > 1 && !n.output(1).empty()) Fail(&n, "outputs", "training-mode BatchNormalization is not supported");
    d.chain.push_back(c);
    d.pending->nodes.push_back(n.name());
    return emit(d, "folded into the requantization");
  }
  if (op == "Relu") {
    if (d.kind != Dyn::Kind::kAcc) Fail(&n, "", "Relu is supported between a MatMul/Gemm and its quantizer");
    ChainOp c;
    c.node = n.name();
    c.k = ChainOp::K::kRelu;
    d.chain.push_back(c);
    d.pending->nodes.push_back(n.name());
    return emit(d, "folded into the requantization (clamp)");
  }
  if (op == "Quant" || op == "BipolarQuant" || op == "Trunc" || op == "QuantizeLinear") {
    if (di != 0) Fail(&n, "input 0", "only the quantized input may depend on the graph input");
    if (d.kind == Dyn::Kind::kCodes && d.raw)
      Fail(&n, "input 0", fmt::format("{} of integer codes (the output of a QuantizeLinear or an integer graph input): "
                                      "dequantize them first (DequantizeLinear)", op));
    Quantizer q = op == "Trunc" ? ReadTrunc(n)
                  : op == "QuantizeLinear" ? LinearQuantizer(n, ReadLinear(n, static_cast<int>(d.shape.size()), 0), d.shape)
                                           : ReadQuantizer(n, d.channels());
    Dyn out;
    out.kind = Dyn::Kind::kCodes;
    out.shape = d.shape;
    out.q = q;
    out.raw = op == "QuantizeLinear";
    if (d.kind == Dyn::Kind::kInput) {
      if (op == "Trunc") Fail(&n, "", "Trunc as the input quantizer is not supported (use Quant or QuantizeLinear)");
      SetInput(&n, d, q);
      out.producer = -1;
      return emit(out, "model input quantizer (hardwire input = its integer value)");
    }
    std::string note;
    if (d.kind == Dyn::Kind::kCodes) {  // a quantizer after a quantizer: an identity layer carries the requantization
      d = IdentityAcc(n, d);
      note = " (identity weights: wires, no adders)";
    }
    CloseLayer(n, d, q, out);
    return emit(out, fmt::format("requantization of layer '{}'{}", model_.layers.back().name, note));
  }
  if (op == "DequantizeLinear") {
    if (di != 0) Fail(&n, "input 0", "only the codes may depend on the graph input");
    if (d.kind != Dyn::Kind::kCodes || !d.raw)
      Fail(&n, "input 0", "DequantizeLinear must read integer codes (a QuantizeLinear, QLinearMatMul or an integer graph input)");
    const LinearParams lp = ReadLinear(n, static_cast<int>(d.shape.size()), 0);
    const Quantizer dq = LinearQuantizer(n, lp, d.shape);
    if (lp.lo != d.q.qmin || lp.hi != d.q.qmax) {
      // the zero point's type must be the codes' type (ONNX requires it); a mismatch is a malformed graph
      if (n.input_size() == 3 && !n.input(2).empty())
        Fail(&n, "input 2 (zero point)", fmt::format("zero point type {} does not match the codes' range [{}, {}]", DtypeName(lp.dtype), d.q.qmin, d.q.qmax));
    }
    d.q.scale = dq.scale, d.q.zp = dq.zp;  // the real value of each code is scale * (code - zp)
    d.raw = false;
    return emit(d, "nothing: the codes stay; the next layer folds scale and zero point");
  }
  if (op == "Cast") {
    const int64_t to = AttrInt(n, "to", onnx::TensorProto::FLOAT);
    if (to != onnx::TensorProto::FLOAT && to != onnx::TensorProto::DOUBLE)
      Fail(&n, "attribute to", fmt::format("Cast of a value to {} is not supported (only to float)", DtypeName(static_cast<int>(to))));
    if (d.kind == Dyn::Kind::kCodes && d.raw) {  // integer codes as float: real = code
      d.q.scale.assign(1, 1.0), d.q.zp.assign(1, 0.0);
      d.raw = false;
      return emit(d, "nothing: integer codes used as float values (scale 1, zero point 0)");
    }
    if (d.kind == Dyn::Kind::kAcc && d.chain.empty()) {
      const Pending& P = *d.pending;
      for (int o = 0; o < P.w.rows; ++o)
        if (std::max(std::abs(P.a[o] * static_cast<double>(P.lo[o]) + P.c[o]), std::abs(P.a[o] * static_cast<double>(P.hi[o]) + P.c[o])) > 16777216.0)
          Fail(&n, "", fmt::format("Cast of an integer accumulator that can exceed 2^24 (channel {}): float32 would round it", o));
      return emit(d, "nothing: the integer accumulator as float (exact below 2^24)");
    }
    Fail(&n, "", "Cast is supported on integer codes and integer accumulators only");
  }
  if (op == "MatMul" || op == "Gemm") {
    if (d.kind != Dyn::Kind::kCodes)
      Fail(&n, fmt::format("input {}", di), "MatMul/Gemm input must be quantized (the output of a Quant, BipolarQuant or DequantizeLinear)");
    if (d.raw) Fail(&n, fmt::format("input {}", di), "MatMul/Gemm of integer codes: dequantize them first (DequantizeLinear) or use MatMulInteger/QLinearMatMul");
    if (di != 0) Fail(&n, "input 0", "the quantized activation must be the first operand");
    bool trans_b = false;
    if (op == "Gemm") {
      trans_b = AttrInt(n, "transB", 0) != 0;
      if (AttrInt(n, "transA", 0) != 0) Fail(&n, "attribute transA", "transA = 1 is not supported");
      for (const auto& a : n.attribute())
        if ((a.name() == "alpha" || a.name() == "beta") && a.f() != 1.0f)
          Fail(&n, "attribute " + a.name(), "only alpha = beta = 1 is supported");
    }
    const CTensor& w = Const(n, 1);
    if (w.shape.size() != 2) Fail(&n, "input 1", fmt::format("weight must be 2-D, has shape {}", ShapeStr(w.shape)));
    const int64_t in = trans_b ? w.shape[1] : w.shape[0], outn = trans_b ? w.shape[0] : w.shape[1];
    const int64_t n_in = d.shape.empty() ? 1 : d.shape.back();
    if (Numel(d.shape) != n_in) Fail(&n, "input 0", fmt::format("activation shape {} is not a single vector (batch 1)", ShapeStr(d.shape)));
    if (in != n_in) Fail(&n, "input 1", fmt::format("weight shape {} does not match the input length {}", ShapeStr(w.shape), n_in));
    if (outn < 1 || outn > 65536 || in > 65536) Fail(&n, "input 1", "layer size out of range 1..65536");
    // Weight codes: from the quantizer that produced the weight, or the values themselves when they are integers.
    std::vector<double> codes = w.codes, qs = w.qs, qz = w.qz;
    if (codes.empty()) {
      for (double x : w.v)
        if (x != std::round(x))
          Fail(&n, "input 1", "weight is neither the output of a Quant/BipolarQuant/DequantizeLinear nor integer-valued");
      codes = w.v, qs.assign(w.v.size(), 1.0), qz.assign(w.v.size(), 0.0);
    }
    arith::IntMatrix W;
    W.rows = static_cast<int>(outn), W.cols = static_cast<int>(in);
    W.w.resize(outn * in);
    std::vector<double> wscale(outn);
    for (int64_t o = 0; o < outn; ++o)
      for (int64_t i = 0; i < in; ++i) {
        const int64_t k = trans_b ? o * in + i : i * outn + o;
        if (i == 0) wscale[o] = qs[k];
        else if (qs[k] != wscale[o])
          Fail(&n, "input 1", fmt::format("weight scales differ within output channel {} (only per-tensor or per-output-channel scales fold into integers)", o));
        const double c = codes[k] - qz[k];  // an integer zero point folds into the integer weight
        if (std::abs(c) > 65536 || c != std::round(c)) Fail(&n, "input 1", "weight code minus zero point is not an integer in [-65536, 65536]");
        W.at(static_cast<int>(o), static_cast<int>(i)) = static_cast<int64_t>(c);
      }
    if (d.q.scale.size() > 1)
      for (double sc : d.q.scale)
        if (sc != d.q.scale[0]) Fail(&n, "input 0", "per-channel activation scales do not fold into an integer matrix product");
    if (d.q.zp.size() > 1)
      for (double z : d.q.zp)
        if (z != d.q.zp[0]) Fail(&n, "input 0", "per-channel activation zero points do not fold into one bias per output");
    auto P = MakePending(n, d, std::move(W), wscale, d.q.scale[0], d.q.zp[0]);
    P->weight_quant = w.quant_node.empty() ? nlohmann::json("integer-valued initializer") : nlohmann::json(w.quant_node);
    Dyn out;
    out.kind = Dyn::Kind::kAcc;
    out.shape = {1, outn};
    out.pending = P;
    if (op == "Gemm" && n.input_size() > 2 && !n.input(2).empty()) {
      ChainOp c;
      c.node = n.name();
      c.k = ChainOp::K::kAdd;
      c.c = PerChannel(n, 2, static_cast<int>(outn));
      out.chain.push_back(c);
    }
    return emit(out, "dense layer (integer weight codes)");
  }
  if (op == "MatMulInteger" || op == "QLinearMatMul") {
    // MatMulInteger(A, B, a_zp, b_zp) = (A - a_zp) (B - b_zp) in int32;
    // QLinearMatMul(a, a_s, a_zp, b, b_s, b_zp, y_s, y_zp) = clamp(rint(that * a_s * b_s / y_s + y_zp)).
    const bool qlinear = op == "QLinearMatMul";
    if (di != 0) Fail(&n, "input 0", "the integer activation must be the first operand");
    if (d.kind != Dyn::Kind::kCodes || !d.raw)
      Fail(&n, "input 0", fmt::format("{} reads integer codes (a QuantizeLinear, QLinearMatMul or an integer graph input)", op));
    if (qlinear ? n.input_size() != 8 : (n.input_size() < 2 || n.input_size() > 4))
      Fail(&n, "inputs", fmt::format("{} takes {} inputs, found {}", op, qlinear ? "8" : "2 to 4", n.input_size()));
    const int bi = qlinear ? 3 : 1;
    auto opt = [&](int i, double def) -> CTensor {
      if (i < n.input_size() && !n.input(i).empty()) return Const(n, i);
      return CTensor{{}, {def}, false};
    };
    const CTensor a_zp = opt(qlinear ? 2 : 2, 0.0), b_zp = opt(qlinear ? 5 : 3, 0.0);
    if (a_zp.v.size() != 1) Fail(&n, fmt::format("input {} (a zero point)", qlinear ? 2 : 2), "per-row activation zero points are not supported (a scalar expected)");
    CTensor b = Const(n, bi);
    if (b.is_float) Fail(&n, fmt::format("input {}", bi), fmt::format("{} weight must be an integer tensor", op));
    // A batched weight [..., K, N] whose batch slices are all equal is the same dense layer for every batch entry.
    if (b.shape.size() > 2) {
      const int64_t slice = b.shape[b.shape.size() - 2] * b.shape.back();
      if (slice <= 0) Fail(&n, fmt::format("input {}", bi), fmt::format("weight of shape {} is empty", ShapeStr(b.shape)));
      for (size_t i = slice; i < b.v.size(); ++i)
        if (b.v[i] != b.v[i % slice])
          Fail(&n, fmt::format("input {}", bi), fmt::format("batched weight of shape {} with different matrices per batch entry: "
                                                            "hardwire applies one constant matrix to every input vector", ShapeStr(b.shape)));
      b.shape = {b.shape[b.shape.size() - 2], b.shape.back()};
      b.v.resize(slice);
    }
    if (b.shape.size() != 2) Fail(&n, fmt::format("input {}", bi), fmt::format("weight must be 2-D, has shape {}", ShapeStr(b.shape)));
    const int64_t in = b.shape[0], outn = b.shape[1];
    const int64_t n_in = d.shape.empty() ? 1 : d.shape.back();
    if (Numel(d.shape) != n_in) Fail(&n, "input 0", fmt::format("activation shape {} is not a single vector (batch 1)", ShapeStr(d.shape)));
    if (in != n_in) Fail(&n, fmt::format("input {}", bi), fmt::format("weight shape {} does not match the input length {}", ShapeStr(b.shape), n_in));
    if (outn < 1 || outn > 65536) Fail(&n, fmt::format("input {}", bi), "layer size out of range 1..65536");
    if (b_zp.v.size() != 1 && static_cast<int64_t>(b_zp.v.size()) != outn)
      Fail(&n, fmt::format("input {} (b zero point)", qlinear ? 5 : 3), fmt::format("shape {}: a scalar or one per output column ({}) expected", ShapeStr(b_zp.shape), outn));
    arith::IntMatrix W;
    W.rows = static_cast<int>(outn), W.cols = static_cast<int>(in);
    W.w.resize(outn * in);
    for (int64_t o = 0; o < outn; ++o)
      for (int64_t i = 0; i < in; ++i) W.at(static_cast<int>(o), static_cast<int>(i)) = static_cast<int64_t>(b.v[i * outn + o] - (b_zp.v.size() == 1 ? b_zp.v[0] : b_zp.v[o]));
    if (d.q.zp.size() > 1) Fail(&n, "input 0", "per-channel zero points on the codes are not supported here");
    // Integer codes: real = code - a_zp exactly (scale 1); the offset of the previous layer's values is folded too.
    auto P = MakePending(n, d, std::move(W), std::vector<double>(outn, 1.0), 1.0, a_zp.v[0]);
    P->weight_quant = fmt::format("integer weight '{}' minus its zero point", n.input(bi));
    Dyn acc;
    acc.kind = Dyn::Kind::kAcc;
    acc.shape = {1, outn};
    acc.pending = P;
    if (!qlinear) return emit(acc, "dense layer (integer weights minus zero points); output: the exact int32 accumulator");
    auto scalar = [&](int i, const char* what) {
      const CTensor& t = Const(n, i);
      if (t.v.size() != 1) Fail(&n, fmt::format("input {} ({})", i, what), "must be a scalar");
      if (!(t.v[0] > 0)) Fail(&n, fmt::format("input {} ({})", i, what), fmt::format("scale {} is not positive", t.v[0]));
      return t.v[0];
    };
    const double as = scalar(1, "a scale"), ys = scalar(6, "y scale");
    const CTensor& bs = Const(n, 4);
    if (bs.v.size() != 1 && static_cast<int64_t>(bs.v.size()) != outn) Fail(&n, "input 4 (b scale)", "a scalar or one per output column expected");
    for (double x : bs.v)
      if (!(x > 0)) Fail(&n, "input 4 (b scale)", fmt::format("scale {} is not positive", x));
    const CTensor& yz = Const(n, 7);
    if (yz.v.size() != 1) Fail(&n, "input 7 (y zero point)", "must be a scalar");
    Quantizer q;
    q.kind = Quantizer::Kind::kQLinearMatMul;
    q.node = n.name(), q.op = op;
    q.scale = {ys}, q.zp = yz.v;
    for (double x : bs.v) q.mult.push_back(F32(static_cast<double>(static_cast<float>(F32(as * x)) / static_cast<float>(ys))));
    if (!IntRange(yz.dtype, &q.qmin, &q.qmax, &q.bits, &q.is_signed))
      Fail(&n, "input 7 (y zero point)", fmt::format("code type {} is not supported (uint8, int8, uint16, int16)", DtypeName(yz.dtype)));
    q.rounding = "HALF_EVEN";
    Dyn out;
    out.kind = Dyn::Kind::kCodes;
    out.shape = acc.shape;
    out.q = q;
    out.raw = true;
    CloseLayer(n, acc, q, out);
    return emit(out, fmt::format("dense layer '{}' with its requantization (integer weights minus zero points)", model_.layers.back().name));
  }
  if (op == "Softmax") {
    d.shape = d.shape;
    finished_ = true;
    softmax_node_ = n.name();
    logits_tensor_ = n.input(di);
    return emit(d, "argmax (Softmax is monotone: the class with the largest probability is the largest logit)");
  }
  Fail(&n, "op_type", fmt::format("op '{}' (domain '{}') is not supported here; {}", op, n.domain(), kSupported));
}


// ---- integer requantization search ----------------------------------------------------------------------

struct Requant {
  int64_t b = 0, m = 1, s = 0;
};

// r(a) = floor(((a + b) * M + 2^(S-1)) / 2^S), the unclamped requantization of docs/semantics.md.
i128 R(int64_t a, const Requant& q) {
  const i128 p = (static_cast<i128>(a) + q.b) * q.m;
  if (q.s == 0) return p;
  const i128 t = p + (static_cast<i128>(1) << (q.s - 1));
  // floor division by 2^S (arithmetic shift of a negative __int128 floors)
  return t >> q.s;
}

struct Channel {
  int64_t lo = 0, hi = 0;          // reachable accumulator range (after the sign flip)
  int64_t ylo = 0, yhi = 0;        // the values at lo and hi
  std::vector<std::pair<int64_t, int64_t>> steps;  // (t, v): f(a) >= v exactly when a >= t, for v in (ylo, yhi]
};

bool Satisfies(const Channel& c, const Requant& q, int64_t clamp_lo, int64_t clamp_hi, int64_t off) {
  if (std::abs(q.b) > (int64_t{1} << 40) || q.m < 1 || q.m > (int64_t{1} << 31) - 1 || q.s < 0 || q.s > 62) return false;
  const i128 big = std::max<i128>(static_cast<i128>(c.lo) + q.b < 0 ? -(static_cast<i128>(c.lo) + q.b) : static_cast<i128>(c.lo) + q.b,
                                  static_cast<i128>(c.hi) + q.b < 0 ? -(static_cast<i128>(c.hi) + q.b) : static_cast<i128>(c.hi) + q.b);
  if (big * q.m + (q.s ? (static_cast<i128>(1) << (q.s - 1)) : 0) >= (static_cast<i128>(1) << 62)) return false;
  for (const auto& [t, v] : c.steps) {
    if (R(t, q) < v + off) return false;
    if (R(t - 1, q) > v + off - 1) return false;
  }
  if (c.ylo + off > clamp_lo && R(c.lo, q) < c.ylo + off) return false;
  if (c.yhi + off < clamp_hi && R(c.hi, q) > c.yhi + off) return false;
  return true;
}

i128 CeilDiv(i128 a, i128 b) {  // b > 0
  i128 q = a / b;
  if (q * b != a && a > 0) ++q;
  return q;
}

// `budget` bounds the work (step checks) so that a crafted model cannot make the import run for hours.
std::optional<Requant> FindRequant(const Channel& c, int64_t clamp_lo, int64_t clamp_hi, int64_t off, int64_t* budget) {
  if (c.steps.empty()) {
    const int64_t v = c.ylo + off;
    Requant q;
    if (v == clamp_lo) q.b = v - c.hi;
    else if (v == clamp_hi) q.b = v - c.lo;
    else {
      q.s = 1;
      while ((int64_t{1} << (q.s - 1)) <= c.hi - c.lo + 1) ++q.s;
      q.b = v * (int64_t{1} << q.s) - c.lo;
    }
    if (Satisfies(c, q, clamp_lo, clamp_hi, off)) return q;
    return std::nullopt;
  }
  const int64_t t0 = c.steps.front().first, v0 = c.steps.front().second;
  const int64_t t1 = c.steps.back().first, v1 = c.steps.back().second;
  auto b_for = [&](int64_t m, int64_t s) -> int64_t {
    const i128 k = s == 0 ? static_cast<i128>(v0 + off) : (static_cast<i128>(2 * (v0 + off) - 1) << (s - 1));
    return static_cast<int64_t>(CeilDiv(k, m) - t0);
  };
  for (int64_t s = 0; s <= 62; ++s) {
    if (c.steps.size() == 1) {
      Requant q{0, 1, s};
      q.b = b_for(1, s);
      if (Satisfies(c, q, clamp_lo, clamp_hi, off)) return q;
      continue;
    }
    const i128 dv = static_cast<i128>(v1 - v0) << s;
    const int64_t dt = t1 - t0;
    const i128 kMaxM = (static_cast<i128>(1) << 31) - 1;
    i128 mlo = dv / (dt + 1) + 1;
    i128 mhi = dt > 1 ? CeilDiv(dv, dt - 1) - 1 : kMaxM;
    mlo = std::max<i128>(mlo, 1), mhi = std::min<i128>(mhi, kMaxM);
    if (mlo > mhi) continue;
    const i128 center = dt > 0 ? std::min<i128>(std::max<i128>(dv / dt, mlo), mhi) : mlo;
    for (i128 k = 0; k < 4096; ++k) {
      bool any = false;
      for (int sign : {1, -1}) {
        if (k == 0 && sign < 0) continue;
        const i128 m = center + sign * k;
        if (m < mlo || m > mhi) continue;
        any = true;
        Requant q{0, static_cast<int64_t>(m), s};
        q.b = b_for(q.m, s);
        if ((*budget -= static_cast<int64_t>(c.steps.size()) + 2) < 0) return std::nullopt;
        if (Satisfies(c, q, clamp_lo, clamp_hi, off)) return q;
      }
      if (!any) break;
    }
  }
  return std::nullopt;
}

int MinBits(int64_t lo, int64_t hi, bool is_signed) {
  int bits = 1;
  while (!(lo >= (is_signed ? -(int64_t{1} << (bits - 1)) : 0) &&
           hi <= (is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1)))
    ++bits;
  return bits;
}

model::DenseLayer MakeDense(const Pending& p) {
  model::DenseLayer d;
  d.in = p.w.cols, d.out = p.w.rows;
  d.weight = p.w;
  return d;
}

void SetEncoding(model::DenseLayer& d, const onnx::NodeProto& n, const std::string& file) {
  int64_t lo = 0, hi = 0;
  bool binary = true;
  for (int64_t x : d.weight.w) lo = std::min(lo, x), hi = std::max(hi, x), binary = binary && (x == 1 || x == -1);
  if (binary) d.encoding = model::WeightEncoding::kBinary, d.weight_bits = 1;
  else if (lo >= -1 && hi <= 1) d.encoding = model::WeightEncoding::kTernary, d.weight_bits = 2;
  else {
    d.encoding = model::WeightEncoding::kSigned;
    d.weight_bits = std::max(2, MinBits(lo, hi, true));
    if (d.weight_bits > 16)
      throw Error(Location{file, fmt::format("node '{}' ({})", n.name(), n.op_type()), "weight"},
                  fmt::format("weight codes span [{}, {}], more than 16 bits", lo, hi));
  }
}

void Importer::CloseLayer(const onnx::NodeProto& n, Dyn& d, const Quantizer& q, Dyn& out) {
  const Pending& P = *d.pending;
  const int outn = P.w.rows;
  const std::string lname = fmt::format("fc{}", model_.layers.size());
  std::vector<Channel> ch(outn);
  std::vector<bool> flip(outn, false);
  // f(a): the hardwire value (before the offset) of the float graph at accumulator a of channel o.
  // QLinearMatMul requantizes the exact integer accumulator (no float32 rounding before its multiplier).
  const bool exact_int = q.kind == Quantizer::Kind::kQLinearMatMul;
  auto pre = [&](int o, int64_t a) {
    return exact_int ? P.a[o] * static_cast<double>(a) + P.c[o] : EvalChain(d.chain, o, P.a[o] * static_cast<double>(a) + P.c[o]);
  };
  auto f = [&](int o, int64_t a) -> int64_t {
    const int64_t code = q.Code(pre(o, flip[o] ? -a : a), o);
    return (code - q.beta()) / q.alpha();
  };
  double min_margin = 1e300;
  for (int o = 0; o < outn; ++o) {
    const double p_lo = pre(o, P.lo[o]), p_hi = pre(o, P.hi[o]);
    flip[o] = p_hi < p_lo;
    Channel& c = ch[o];
    c.lo = flip[o] ? -P.hi[o] : P.lo[o];
    c.hi = flip[o] ? -P.lo[o] : P.hi[o];
    c.ylo = f(o, c.lo), c.yhi = f(o, c.hi);
    if (c.ylo > c.yhi) Fail(&n, "", fmt::format("layer '{}' channel {}: the float map is not monotone", lname, o));
    for (int64_t v = c.ylo + 1; v <= c.yhi; ++v) {
      int64_t a = c.lo, b = c.hi;  // f(b) >= v > f(a)... binary search the first a with f(a) >= v
      while (b - a > 1) {
        const int64_t mid = a + (b - a) / 2;
        (f(o, mid) >= v ? b : a) = mid;
      }
      c.steps.push_back({b, v});
      // distance of the pre-quantizer value from the rounding boundary, in units of the quantizer step
      const double x0 = q.Grid(pre(o, flip[o] ? -(b - 1) : b - 1), o), x1 = q.Grid(pre(o, flip[o] ? -b : b), o);
      const double boundary = q.bipolar ? 0.0 : std::floor(std::max(x0, x1)) + (q.rounding == "FLOOR" ? 0.0 : 0.5) * (q.rounding != "CEIL");
      min_margin = std::min({min_margin, std::abs(x0 - boundary), std::abs(x1 - boundary)});
    }
  }
  // One output offset for the whole layer (the manifest's clamp is per layer).
  std::vector<Requant> rq(outn);
  int64_t off = 0;
  bool found = false;
  std::vector<int> failed;
  int64_t budget = int64_t{1} << 28;
  for (int64_t k = 0; k <= 16 && !found && budget > 0; ++k)
    for (int64_t sign : {1, -1}) {
      if (k == 0 && sign < 0) continue;
      off = sign * k;
      failed.clear();
      for (int o = 0; o < outn; ++o) {
        auto r = FindRequant(ch[o], q.ylo() + off, q.yhi() + off, off, &budget);
        if (!r) failed.push_back(o);
        else rq[o] = *r;
      }
      if (failed.empty()) {
        found = true;
        break;
      }
    }
  // No exact requantization (e.g. round-half-even ties, whose steps alternate in a pattern round-half-up cannot
  // follow): the threshold op, y = qmin + #{k : acc >= T_k}, with the steps found above (exact by construction).
  std::string why_threshold;
  if (!found) {
    off = 0;
    const bool ties = min_margin == 0 && (q.rounding == "ROUND" || q.rounding == "HALF_EVEN");
    why_threshold = fmt::format("no (acc*M + r) >> S reproduces the quantizer at {} channel(s) (first: {}){}", failed.size(),
                                failed.front(), ties ? "; the quantizer rounds half to even and accumulators land exactly on ties" : "");
  }
  const int64_t L = q.yhi() - q.ylo();
  if (!found && L * outn > (int64_t{1} << 24))
    Fail(&n, "", fmt::format("layer '{}': {}, and {} thresholds are above the limit of 2^24", lname, why_threshold, L * outn));
  std::vector<int64_t> thresholds;
  if (!found) {
    thresholds.resize(static_cast<size_t>(L * outn));
    for (int o = 0; o < outn; ++o) {
      const Channel& c = ch[o];
      for (int64_t k = 0; k < L; ++k) {
        const int64_t v = q.ylo() + k + 1;  // output >= v exactly when acc >= T
        int64_t t = v <= c.ylo ? c.lo : c.hi + 1;
        for (const auto& st : c.steps)
          if (st.second == v) t = st.first;
        thresholds[o * L + k] = t;
      }
    }
  }
  // Check the claim: value by value where the range is small enough, else at every step and the ends.
  const int64_t clamp_lo = q.ylo() + off, clamp_hi = q.yhi() + off;
  bool exhaustive = true;
  int64_t checked = 0;
  for (int o = 0; o < outn; ++o) {
    const Channel& c = ch[o];
    auto g = [&](int64_t a) {
      if (!found) {
        int64_t y = clamp_lo;
        for (int64_t k = 0; k < L; ++k) y += a >= thresholds[o * L + k];
        return y;
      }
      return static_cast<int64_t>(std::min<i128>(std::max<i128>(R(a, rq[o]), clamp_lo), clamp_hi));
    };
    auto check = [&](int64_t a) {
      ++checked;
      HW_CHECK(g(a) == f(o, a) + off, fmt::format("import: requantization of layer {} channel {} differs at accumulator {}", lname, o, a));
    };
    if (c.hi - c.lo + 1 <= opt_.exhaustive_limit && checked + (c.hi - c.lo + 1) <= (int64_t{1} << 27)) {
      for (int64_t a = c.lo; a <= c.hi; ++a) check(a);
    } else {
      exhaustive = false;
      check(c.lo), check(c.hi);
      for (const auto& [t, v] : c.steps) check(t), check(t - 1);
    }
  }
  model::Layer layer;
  layer.name = lname;
  model::DenseLayer dl = MakeDense(P);
  for (int o = 0; o < outn; ++o)
    if (flip[o])
      for (int i = 0; i < dl.in; ++i) dl.weight.at(o, i) = -dl.weight.at(o, i);
  SetEncoding(dl, n, file_);
  dl.bias.resize(outn), dl.multiplier.resize(outn), dl.shift.resize(outn);
  for (int o = 0; o < outn; ++o) dl.bias[o] = rq[o].b, dl.multiplier[o] = rq[o].m, dl.shift[o] = rq[o].s;
  dl.has_bias = std::any_of(dl.bias.begin(), dl.bias.end(), [](int64_t b) { return b != 0; });
  if (!found) {
    dl.has_threshold = true;
    dl.threshold = thresholds;
    dl.threshold_tensor = lname + ".threshold";
    std::fill(dl.bias.begin(), dl.bias.end(), 0), dl.has_bias = false;
    std::fill(dl.multiplier.begin(), dl.multiplier.end(), 1), std::fill(dl.shift.begin(), dl.shift.end(), 0);
  }
  dl.output.is_signed = clamp_lo < 0;
  dl.output.bits = MinBits(clamp_lo, clamp_hi, dl.output.is_signed);
  dl.clamp_lo = clamp_lo, dl.clamp_hi = clamp_hi;
  dl.weight_tensor = lname + ".weight", dl.bias_tensor = lname + ".bias";
  dl.multiplier_tensor = lname + ".multiplier", dl.shift_tensor = lname + ".shift";
  int64_t max_s = 0;
  for (const Requant& r : rq) max_s = std::max(max_s, r.s);
  int flips = static_cast<int>(std::count(flip.begin(), flip.end(), true));
  // With dyadic constants (powers of two; no BatchNorm or Div) and small codes every float32 operation above is
  // exact, so a value exactly on a rounding boundary is a true tie that every runtime resolves the same way.
  bool dyadic = true;
  auto is_dyadic = [](double x) { const double y = std::ldexp(x, 40); return std::abs(y) < 9e15 && y == std::round(y); };
  for (int o = 0; o < outn; ++o) dyadic = dyadic && is_dyadic(P.a[o]) && is_dyadic(P.c[o]) && is_dyadic(q.s(o));
  for (const ChainOp& c : d.chain) {
    dyadic = dyadic && c.k != ChainOp::K::kBatchNorm && c.k != ChainOp::K::kDiv;
    for (double x : c.c) dyadic = dyadic && is_dyadic(x);
  }
  for (double x : q.scale) dyadic = dyadic && (x == std::ldexp(1.0, std::ilogb(x)));
  nlohmann::json lj{{"name", lname},
                    {"onnx_nodes", [&] { auto v = P.nodes; v.push_back(n.name()); return v; }()},
                    {"weight_quantizer", P.weight_quant},
                    {"weight", {{"encoding", model::ToString(dl.encoding)}, {"bits", dl.weight_bits}, {"shape", {dl.out, dl.in}}}},
                    {"output_quantizer", q.Json()},
                    {"output_tensor", n.output(0)},
                    {"output", {{"signed", dl.output.is_signed}, {"bits", dl.output.bits}, {"clamp", {clamp_lo, clamp_hi}},
                                {"offset", off},
                                {"code", fmt::format("code = {} * (value - {}){}", q.alpha(), off, q.beta() ? fmt::format(" {:+d}", q.beta()) : "")}}},
                    {"negated_rows", flips},
                    {"max_shift", max_s},
                    {"exactness", exhaustive ? "proved: every reachable accumulator value checked"
                                             : "checked at every threshold and both ends (monotone chain)"},
                    {"accumulator_values_checked", checked},
                    {"min_margin_to_rounding_boundary", min_margin},
                    {"float_ops_exact", dyadic}};
  lj["activation"] = found ? "requant" : "threshold";
  if (!found) lj["threshold_reason"] = why_threshold;
  if (off != 0)
    lj["note"] = fmt::format("the integer values are the quantizer's codes plus {} (no exact requantization exists for the "
                             "codes themselves); the next layer's bias absorbs the offset", off);
  if (min_margin < 1e-4 && !(dyadic && min_margin == 0))
    approximations_.push_back(fmt::format("layer '{}': a float value lies within {:.2g} quantizer steps of a rounding boundary; "
                                          "float32 evaluation order in another runtime could round it differently", lname, min_margin));
  layers_.push_back(lj);
  layer.op = std::move(dl);
  model_.layers.push_back(std::move(layer));
  out.offset = off;
  out.producer = static_cast<int>(model_.layers.size()) - 1;
}


// The graph output. Quantized codes are output as they are; an unquantized final affine map (logits) becomes a
// last dense layer with M = 1, S = 0 whose integer output z is an exact positive affine image of the float
// logits when the per-channel scales agree and the offsets are integral (then argmax is the same).
void Importer::LogicalOutput(Dyn& d, bool argmax) {
  nlohmann::json oj;
  if (d.kind == Dyn::Kind::kInput) throw Error(Location{file_, "", "graph"}, "the graph output does not depend on a quantizer and a MatMul/Gemm; nothing to import");
  if (d.kind == Dyn::Kind::kCodes) {
    if (d.producer < 0) {
      // No MatMul: the graph only (de)quantizes its input. A hardwire model has at least one layer, so an identity
      // layer (W = I: wires, no adders) passes the codes through.
      const int len = model_.input_length;
      if (len > 4096) throw Error(Location{file_, "", "graph"}, fmt::format("the graph has no MatMul/Gemm layer and {} elements (an identity layer is made up to 4096)", len));
      model::Layer layer;
      layer.name = "fc0";
      model::DenseLayer dl;
      dl.in = dl.out = len;
      dl.weight.rows = dl.weight.cols = len;
      dl.weight.w.assign(static_cast<size_t>(len) * len, 0);
      for (int i = 0; i < len; ++i) dl.weight.at(i, i) = 1;
      SetEncoding(dl, onnx::NodeProto(), file_);
      dl.bias.assign(len, 0), dl.multiplier.assign(len, 1), dl.shift.assign(len, 0);
      dl.output = model_.input;
      dl.clamp_lo = d.q.ylo() + d.offset, dl.clamp_hi = d.q.yhi() + d.offset;
      dl.weight_tensor = "fc0.weight", dl.bias_tensor = "fc0.bias", dl.multiplier_tensor = "fc0.multiplier", dl.shift_tensor = "fc0.shift";
      layers_.push_back({{"name", "fc0"}, {"onnx_nodes", nlohmann::json::array()}, {"weight_quantizer", "identity"},
                         {"weight", {{"encoding", model::ToString(dl.encoding)}, {"bits", dl.weight_bits}, {"shape", {len, len}}}},
                         {"note", "the graph has no MatMul/Gemm: an identity layer (no adders) carries the input codes to the output"},
                         {"exactness", "exact: value = input value"}});
      layer.op = std::move(dl);
      model_.layers.push_back(std::move(layer));
    }
    // real = scale * (alpha * (value - offset) + beta - zero_point); integer codes (raw) are their own real value
    model_.output_scale.present = true;
    model_.output_scale.layer = model_.layers.back().name;
    const int channels = std::max<int>({1, static_cast<int>(d.q.scale.size()), static_cast<int>(d.q.zp.size())});
    for (int o = 0; o < channels; ++o) {
      const double sc = d.raw ? 1.0 : d.q.s(o), z = d.raw ? 0.0 : d.q.z(o);
      model_.output_scale.scale.push_back(sc * d.q.alpha());
      model_.output_scale.offset.push_back(sc * (static_cast<double>(d.q.beta()) - z - static_cast<double>(d.q.alpha() * d.offset)));
    }
    bool uniform = true;
    for (double x : d.q.scale) uniform = uniform && x == d.q.scale[0];
    for (double x : d.q.zp) uniform = uniform && x == d.q.zp[0];
    if (d.raw)
      oj = {{"kind", "codes"}, {"real", fmt::format("the graph outputs integer codes: code = value - {}", d.offset)}};
    else
      oj = {{"kind", "quantized"}, {"real", fmt::format("real = scale * ({} * (value - {}) {:+d} - zero_point)", d.q.alpha(), d.offset, d.q.beta())},
            {"scale", d.q.scale}, {"zero_point", d.q.zp}};
    oj["manifest_output"] = {{"scale", model_.output_scale.scale}, {"offset", model_.output_scale.offset}};
    if (argmax && !uniform)
      approximations_.push_back("the final Softmax reads per-channel scales: argmax of the integer codes may differ from the float argmax");
  } else {
    const Pending& P = *d.pending;
    const int outn = P.w.rows;
    // real_o = K_o * acc' + C_o, from the chain evaluated in double at two points (the chain is affine without Relu).
    bool has_relu = false;
    for (const ChainOp& c : d.chain) has_relu = has_relu || c.k == ChainOp::K::kRelu;
    std::vector<double> K(outn), C(outn);
    auto chain_d = [&](int o, double x) {
      std::vector<ChainOp> ch = d.chain;
      double v = x;
      for (const ChainOp& op : ch) {
        switch (op.k) {
          case ChainOp::K::kAdd: v += op.at(op.c, o); break;
          case ChainOp::K::kSub: v -= op.at(op.c, o); break;
          case ChainOp::K::kSubFrom: v = op.at(op.c, o) - v; break;
          case ChainOp::K::kMul: v *= op.at(op.c, o); break;
          case ChainOp::K::kDiv: v /= op.at(op.c, o); break;
          case ChainOp::K::kRelu: break;
          case ChainOp::K::kBatchNorm:
            v = (v - op.at(op.bn_mean, o)) / std::sqrt(op.at(op.bn_var, o) + op.eps) * op.at(op.bn_scale, o) + op.at(op.bn_bias, o);
            break;
        }
      }
      return v;
    };
    for (int o = 0; o < outn; ++o) {
      C[o] = chain_d(o, P.c[o]);
      K[o] = chain_d(o, P.a[o] + P.c[o]) - C[o];
    }
    bool same_k = K[0] > 0;
    for (int o = 0; o < outn; ++o) same_k = same_k && std::abs(K[o] - K[0]) <= 1e-6 * std::abs(K[0]);
    int mult = 0;
    std::vector<int64_t> b(outn, 0);
    if (same_k && !has_relu)
      for (int m : {1, 2, 4}) {
        bool ok = true;
        for (int o = 0; o < outn && ok; ++o) {
          const double x = m * (C[o] - C[0]) / K[0];
          ok = std::abs(x) < 1e12 && std::abs(x - std::round(x)) <= 1e-6 * std::max(1.0, std::abs(x));
          b[o] = ok ? static_cast<int64_t>(std::round(x)) : 0;
        }
        if (ok) {
          mult = m;
          break;
        }
      }
    const bool exact = mult > 0;
    if (!exact) {
      mult = 1;
      std::fill(b.begin(), b.end(), 0);
      approximations_.push_back(
          "the graph output is an unquantized float affine map whose per-channel scales or offsets are not integral "
          "multiples of one scale: hardwire outputs the integer accumulator; see output.per_channel for the float map");
    }
    model::Layer layer;
    layer.name = fmt::format("fc{}", model_.layers.size());
    model::DenseLayer dl = MakeDense(P);
    for (int64_t& w : dl.weight.w) w *= mult;
    SetEncoding(dl, onnx::NodeProto(), file_);
    int64_t lo = 0, hi = 0;
    for (int o = 0; o < outn; ++o) {
      lo = std::min(lo, P.lo[o] * mult + b[o]), hi = std::max(hi, P.hi[o] * mult + b[o]);
    }
    dl.bias = b;
    dl.has_bias = std::any_of(b.begin(), b.end(), [](int64_t x) { return x != 0; });
    dl.multiplier.assign(outn, 1), dl.shift.assign(outn, 0);
    dl.output.is_signed = lo < 0;
    dl.output.bits = MinBits(lo, hi, dl.output.is_signed);
    if (dl.output.bits > 32) throw Error(Location{file_, fmt::format("node '{}'", P.node), ""}, "the output accumulator needs more than 32 bits");
    dl.clamp_lo = dl.output.min(), dl.clamp_hi = dl.output.max();
    dl.weight_tensor = layer.name + ".weight", dl.bias_tensor = layer.name + ".bias";
    dl.multiplier_tensor = layer.name + ".multiplier", dl.shift_tensor = layer.name + ".shift";
    const double scale = K[0] / mult, offset = C[0] - scale * static_cast<double>(b[0]);
    nlohmann::json per = nlohmann::json::array();
    for (int o = 0; o < outn; ++o) per.push_back({{"scale", K[o] / mult}, {"offset", C[o] - K[o] / mult * static_cast<double>(b[o])}});
    oj = {{"kind", "logits"}, {"tensor", logits_tensor_}, {"exact_affine", exact}, {"real", "real = scale * value + offset"}, {"scale", scale},
          {"offset", offset}, {"weight_multiplier", mult}, {"per_channel", per}};
    model_.output_scale.present = true;
    model_.output_scale.layer = layer.name;
    bool same = true;
    for (const auto& e : per) same = same && e["scale"] == per[0]["scale"] && e["offset"] == per[0]["offset"];
    for (const auto& e : per) {
      if (same && !model_.output_scale.scale.empty()) break;
      model_.output_scale.scale.push_back(e["scale"].get<double>()), model_.output_scale.offset.push_back(e["offset"].get<double>());
    }
    std::vector<std::string> nodes = P.nodes;
    for (const ChainOp& c : d.chain) nodes.push_back(c.node);
    layers_.push_back({{"name", layer.name},
                       {"onnx_nodes", nodes},
                       {"weight_quantizer", P.weight_quant},
                       {"weight", {{"encoding", model::ToString(dl.encoding)}, {"bits", dl.weight_bits}, {"shape", {dl.out, dl.in}}}},
                       {"output", {{"signed", dl.output.is_signed}, {"bits", dl.output.bits}}},
                       {"exactness", exact ? "exact: value = (real - offset) / scale for every channel" : "not exact (see approximations)"}});
    layer.op = std::move(dl);
    model_.layers.push_back(std::move(layer));
  }
  if (argmax) {
    model::Layer a;
    a.name = "argmax";
    a.op = model::ArgmaxLayer{};
    model_.layers.push_back(std::move(a));
    oj["argmax"] = fmt::format("the final Softmax '{}' became argmax: the output is the class index (ties: lowest index), "
                               "not the probabilities", softmax_node_);
  }
  report_["output"] = oj;
}

ImportResult Importer::Run(const onnx::ModelProto& mp) {
  if (!mp.has_graph()) throw Error(Location{file_, "", "graph"}, "the file holds no graph");
  const onnx::GraphProto& g = mp.graph();
  std::set<std::string> init_names;
  for (const auto& t : g.initializer()) {
    if (t.name().empty()) throw Error(Location{file_, "", "initializer"}, "an initializer has no name");
    consts_[t.name()] = FromProto(t, nullptr, "initializer '" + t.name() + "'");
    init_names.insert(t.name());
  }
  std::string input_name;
  for (const auto& in : g.input()) {
    if (init_names.count(in.name())) continue;
    if (!input_name.empty())
      throw Error(Location{file_, "", "graph.input"}, fmt::format("more than one graph input without an initializer ('{}', '{}')", input_name, in.name()));
    input_name = in.name();
    Dyn d;
    const auto& tt = in.type().tensor_type();
    for (const auto& dim : tt.shape().dim()) d.shape.push_back(dim.has_dim_value() && dim.dim_value() > 0 ? std::min<int64_t>(dim.dim_value(), int64_t{1} << 31) : 1);
    if (d.shape.size() > 16) throw Error(Location{file_, "", "graph.input '" + in.name() + "'"}, "rank above 16");
    if (d.shape.empty()) throw Error(Location{file_, "", "graph.input '" + in.name() + "'"}, "input has no shape");
    if (Numel(d.shape) > 65536) throw Error(Location{file_, "", "graph.input '" + in.name() + "'"}, "input has more than 65536 elements");
    report_["input"]["onnx_input"] = {{"name", in.name()}, {"shape", d.shape}};
    const int et = tt.elem_type();
    if (et != onnx::TensorProto::FLOAT && et != onnx::TensorProto::DOUBLE && et != onnx::TensorProto::UNDEFINED) {
      // An integer input is already quantized: its values are the codes (scale 1, zero point 0).
      Quantizer q;
      q.node = in.name(), q.op = "integer graph input";
      q.scale = {1.0}, q.zp = {0.0};
      if (!IntRange(et, &q.qmin, &q.qmax, &q.bits, &q.is_signed))
        throw Error(Location{file_, "", "graph.input '" + in.name() + "'"},
                    fmt::format("element type {} is not supported (float, double, uint8, int8, uint16, int16)", DtypeName(et)));
      d.kind = Dyn::Kind::kCodes;
      d.raw = true;
      d.q = q;
      SetInput(nullptr, d, q);
    }
    dyns_[in.name()] = d;
  }
  if (input_name.empty()) throw Error(Location{file_, "", "graph.input"}, "the graph has no input");
  if (g.output_size() != 1) throw Error(Location{file_, "", "graph.output"}, fmt::format("the graph has {} outputs, expected 1", g.output_size()));
  for (const auto& n : g.node())
    for (const auto& i : n.input()) ++uses_[i];
  for (const auto& n : g.node()) {
    bool dynamic = false;
    for (const auto& i : n.input()) {
      if (i.empty()) continue;
      if (IsDyn(i)) dynamic = true;
      else if (!IsConst(i))
        Fail(&n, "input '" + i + "'", "is not an initializer, a graph input or the output of an earlier node (missing initializer?)");
    }
    if (n.op_type() == "Shape" && dynamic) {  // the shape of the dynamic value is known statically
      const Dyn& d = dyns_.at(n.input(0));
      CTensor t{{static_cast<int64_t>(d.shape.size())}, {}, false};
      for (int64_t x : d.shape) t.v.push_back(static_cast<double>(x));
      consts_[n.output(0)] = t;
      --uses_[n.input(0)];  // reading the shape is not a data use
      nodes_.push_back({{"node", n.name()}, {"op", n.op_type()}, {"becomes", "constant (static shape)"}});
      continue;
    }
    const bool known_domain = n.domain().empty() || n.domain() == "ai.onnx" || n.domain() == "onnx.brevitas" ||
                              n.domain().rfind("qonnx", 0) == 0 || n.domain().rfind("finn", 0) == 0;
    if (!known_domain) Fail(&n, "domain", fmt::format("unknown op domain '{}'; {}", n.domain(), kSupported));
    if (dynamic) Dynamic(n);
    else {
      FoldConstant(n);
      nodes_.push_back({{"node", n.name()}, {"op", n.op_type()}, {"becomes", "constant (folded at import)"}});
    }
  }
  const std::string& out = g.output(0).name();
  if (!IsDyn(out)) throw Error(Location{file_, "", "graph.output"}, fmt::format("the output '{}' does not depend on the graph input", out));
  if (!have_input_) throw Error(Location{file_, "", "graph"}, "no quantizer (Quant / BipolarQuant / QuantizeLinear) on the graph input");
  if (logits_tensor_.empty()) logits_tensor_ = out;
  LogicalOutput(dyns_.at(out), finished_);
  if (model_.layers.empty()) throw Error(Location{file_, "", "graph"}, "no layers");
  report_["layers"] = layers_;
  report_["nodes"] = nodes_;
  report_["approximations"] = approximations_;
  ImportResult r;
  r.model = std::move(model_);
  r.report = std::move(report_);
  return r;
}

std::string ModelName(const std::string& path, const std::string& given) {
  std::string n = given.empty() ? fs::path(path).stem().string() : given;
  std::string s;
  for (char c : n) s += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) s = "m_" + s;
  return s.substr(0, 64);
}

}  // namespace

ImportResult ImportOnnxBytes(const std::string& bytes, const std::string& file_name, const ImportOptions& options) {
  onnx::ModelProto mp;
  if (bytes.size() > static_cast<size_t>(kMaxFileBytes)) throw Error(Location{file_name, "", ""}, "file larger than 1 GiB");
  if (!mp.ParseFromString(bytes))
    throw Error(Location{file_name, "", ""}, "not a valid ONNX protobuf (truncated or corrupt ModelProto)");
  Importer imp(file_name, options);
  ImportResult r = imp.Run(mp);
  r.model.name = ModelName(file_name, options.name);
  r.model.tensors_file = r.model.name + ".safetensors";
  r.model.manifest_path = file_name;
  nlohmann::json opsets = nlohmann::json::array();
  for (const auto& o : mp.opset_import()) opsets.push_back({{"domain", o.domain()}, {"version", o.version()}});
  nlohmann::json head{{"format", "hardwire-import"}, {"source", fs::path(file_name).filename().string()},
                      {"producer", mp.producer_name() + " " + mp.producer_version()}, {"opsets", opsets},
                      {"model", r.model.name}};
  head.update(r.report);
  r.report = head;
  return r;
}

ImportResult ImportOnnx(const std::string& onnx_path, const ImportOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(onnx_path, ec)) throw Error(Location{onnx_path, "", ""}, "not a regular file (or missing)");
  if (fs::file_size(onnx_path, ec) > static_cast<uintmax_t>(kMaxFileBytes)) throw Error(Location{onnx_path, "", ""}, "file larger than 1 GiB");
  return ImportOnnxBytes(ReadFileOrThrow(onnx_path, "ONNX file"), onnx_path, options);
}

void WriteImport(const ImportResult& result, const std::string& dir) {
  fs::path target = fs::path(dir).lexically_normal();
  if (!target.has_filename() && target.has_parent_path() && target != target.root_path()) target = target.parent_path();
  std::error_code ec;
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec)) throw Error(Location{dir, "", ""}, "output path exists and is not a directory");
    if (!fs::is_empty(target, ec) && !fs::exists(target / "import.json", ec))
      throw Error(Location{dir, "", ""}, "output directory is not empty and does not hold a previous import; refusing to replace it");
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) throw Error(Location{parent.string(), "", ""}, "cannot create directory: " + ec.message());
  const fs::path tmp = parent / (target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  try {
    model::WriteModel(result.model, tmp.string());
    WriteFileOrThrow((tmp / "import.json").string(), result.report.dump(1) + "\n");
    model::LoadModel((tmp / "model.json").string());  // the written model must load (every manifest rule)
    const fs::path old = parent / (target.filename().string() + ".old-" + std::to_string(::getpid()));
    const bool had = fs::exists(target, ec);
    if (had) {
      fs::rename(target, old, ec);
      if (ec) throw Error(Location{dir, "", ""}, "cannot move the previous import aside: " + ec.message());
    }
    fs::rename(tmp, target, ec);
    if (ec) {
      if (had) fs::rename(old, target);
      throw Error(Location{dir, "", ""}, "cannot rename the new import into place: " + ec.message());
    }
    if (had) fs::remove_all(old, ec);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace hw::onnx_import
