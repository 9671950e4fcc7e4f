// fashion_train: trains the default shipped model of hardwire, a small quantized MLP for Fashion-MNIST, and
// writes it in the hardwire model format (docs/model-format.md) with hw::model::WriteModel.
//
//   fashion_train --seed 1 --out weights/fashion_mlp [--hidden 64 --weight-bits 4 --preprocess pool2x2_u8 ...]
//   fashion_train --export-test DIR [--model-dir weights/fashion_mlp | --preprocess NAME]
//
// Training: float training with Adam (Eigen, single-threaded, fixed-seed RNG => deterministic), then
// quantization-aware training (per-output-channel symmetric weight fake-quantization, fake-quantized unsigned
// activations, straight-through estimator), then conversion to integers:
//   hidden layer:  h = clamp((b + W x) * M >> S, 0, 2^act_bits - 1)     (per-channel M, S)
//   output layer:  logit = (b + W x) * M                                (S = 0, M per channel; exact)
//   argmax.
// The recorded integer accuracy is computed with exact integer arithmetic per docs/semantics.md.
#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "arith/csd.h"
#include "common/diag.h"
#include "common/file_util.h"
#include "data/fashion_preprocess.h"
#include "data/idx.h"
#include "model/model.h"
#include "model/model_io.h"

namespace {

using Mat = Eigen::MatrixXf;
using Vec = Eigen::VectorXf;

struct Options {
  uint64_t seed = 1;
  std::string out;
  std::string preprocess = "pool2x2_u4";
  std::vector<int> hidden = {64};
  int weight_bits = 4;
  std::string weight_grid = "pow2";
  int act_bits = 8;
  int float_epochs = 20;
  int qat_epochs = 20;
  int batch = 128;
  float lr = 2e-3f;
  float qat_lr = 5e-4f;
  float weight_decay = 0.0f;
  float act_percentile = 99.9f;
  int tail_epochs = 3;         // fine-tuning of the later layers after each layer is made integer
  float tail_lr = 3e-4f;
  float prune = 0.0f;          // fraction of smallest weights per layer forced to zero (QAT phase)
  int m_bits = 12;             // significant bits of M before digit limiting
  int m_digits = 3;            // max nonzero CSD digits of M (0: no limit)
  bool out_per_channel = true; // per-channel weight scale in the output layer
  std::string data_dir;
  std::string name = "fashion_mlp";
  std::string export_test;
  std::string model_dir;
};

// ---------------------------------------------------------------------------------------------------------
// Deterministic randomness (std distributions are implementation-defined; these are not).

struct Rng {
  std::mt19937_64 gen;
  explicit Rng(uint64_t seed) : gen(seed) {}
  double Uniform() { return static_cast<double>(gen() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double Normal() {
    double u1 = Uniform();
    while (u1 <= 0.0) u1 = Uniform();
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  void Shuffle(std::vector<int>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen() % i]);
  }
};

// ---------------------------------------------------------------------------------------------------------
// Network

struct Layer {
  Mat w;     // [out, in]
  Vec b;     // [out]
  Mat mask;  // 1 = weight kept, 0 = pruned
  // Adam state
  Mat mw, vw;
  Vec mb, vb;
};

struct Net {
  std::vector<Layer> layers;
  int weight_bits = 4;
  int act_bits = 8;
  bool out_per_channel = true;
  bool qat = false;
  std::vector<float> act_scale;  // per hidden layer: float value of one activation LSB
};

// Weight grids: "uniform" = all integers in [-qmax, qmax], qmax = 2^(bits-1) - 1; "pow2" = 0 and +-2^k up to
// 2^(bits-2) (one nonzero CSD digit per weight, i.e. at most one adder).
bool g_pow2 = false;
int QMax(int bits) { return g_pow2 ? 1 << (bits - 2) : (1 << (bits - 1)) - 1; }

// Nearest grid level of u (in units of the scale); ties round away from zero.
float QuantLevel(float u, int bits) {
  const float qmax = static_cast<float>(QMax(bits));
  const float a = std::fabs(u);
  float q;
  if (!g_pow2) {
    q = std::min(std::floor(a + 0.5f), qmax);
  } else if (a < 0.5f) {
    q = 0.0f;
  } else {
    q = 1.0f;
    while (q < qmax && a >= 1.5f * q) q *= 2.0f;
  }
  return u < 0 ? -q : q;
}

// Per-row (or whole-tensor) symmetric scale: max|w| / qmax.
Vec WeightScales(const Mat& w, int bits, bool per_channel) {
  const float qmax = static_cast<float>(QMax(bits));
  Vec s(w.rows());
  if (per_channel) {
    for (int r = 0; r < w.rows(); ++r) s[r] = std::max(w.row(r).cwiseAbs().maxCoeff(), 1e-8f) / qmax;
  } else {
    s.setConstant(std::max(w.cwiseAbs().maxCoeff(), 1e-8f) / qmax);
  }
  return s;
}

Mat FakeQuantWeights(const Mat& w, int bits, bool per_channel) {
  const Vec s = WeightScales(w, bits, per_channel);
  Mat q(w.rows(), w.cols());
  for (int c = 0; c < w.cols(); ++c)
    for (int r = 0; r < w.rows(); ++r)
      q(r, c) = QuantLevel(w(r, c) / s[r], bits) * s[r];
  return q;
}

bool PerChannel(const Net& net, size_t l) { return l + 1 < net.layers.size() || net.out_per_channel; }

struct ForwardState {
  std::vector<Mat> acts;   // acts[0] = input, acts[l+1] = output of layer l (logits last)
  std::vector<Mat> wq;     // weights used
  std::vector<Mat> pass;   // gradient pass masks of hidden activations
};

void Forward(const Net& net, const Mat& x, ForwardState& st, bool keep) {
  const size_t L = net.layers.size();
  st.acts.resize(L + 1);
  st.wq.resize(L);
  st.pass.resize(L);
  st.acts[0] = x;
  for (size_t l = 0; l < L; ++l) {
    const Layer& ly = net.layers[l];
    st.wq[l] = net.qat ? FakeQuantWeights(ly.w, net.weight_bits, PerChannel(net, l)) : ly.w;
    Mat z = st.wq[l] * st.acts[l];
    z.colwise() += ly.b;
    if (l + 1 < L) {
      if (keep) st.pass[l].resize(z.rows(), z.cols());
      if (net.qat) {
        const float a = net.act_scale[l];
        const float amax = static_cast<float>((1 << net.act_bits) - 1);
        for (Eigen::Index i = 0; i < z.size(); ++i) {
          const float u = z.data()[i] / a;
          if (keep) st.pass[l].data()[i] = (u > 0.0f && u < amax) ? 1.0f : 0.0f;
          z.data()[i] = std::clamp(std::nearbyint(u), 0.0f, amax) * a;
        }
      } else {
        for (Eigen::Index i = 0; i < z.size(); ++i) {
          if (keep) st.pass[l].data()[i] = z.data()[i] > 0.0f ? 1.0f : 0.0f;
          z.data()[i] = std::max(z.data()[i], 0.0f);
        }
      }
    }
    st.acts[l + 1] = std::move(z);
  }
}

// One Adam step on a batch; returns the mean cross-entropy.
float TrainStep(Net& net, const Mat& x, const std::vector<int>& y, float lr, float wd, int step) {
  ForwardState st;
  Forward(net, x, st, true);
  const size_t L = net.layers.size();
  const int B = static_cast<int>(x.cols());
  Mat dz = st.acts[L];
  float loss = 0.0f;
  for (int c = 0; c < B; ++c) {
    const float mx = dz.col(c).maxCoeff();
    dz.col(c) = (dz.col(c).array() - mx).exp();
    const float sum = dz.col(c).sum();
    dz.col(c) /= sum;
    loss -= std::log(std::max(dz(y[c], c), 1e-12f));
    dz(y[c], c) -= 1.0f;
  }
  dz /= static_cast<float>(B);
  const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  const float c1 = 1.0f - std::pow(b1, static_cast<float>(step));
  const float c2 = 1.0f - std::pow(b2, static_cast<float>(step));
  for (size_t li = L; li-- > 0;) {
    Layer& ly = net.layers[li];
    Mat dw = dz * st.acts[li].transpose();
    Vec db = dz.rowwise().sum();
    if (li > 0) {
      Mat da = st.wq[li].transpose() * dz;
      dz = da.cwiseProduct(st.pass[li - 1]);
    }
    if (wd > 0.0f) dw += wd * ly.w;
    dw = dw.cwiseProduct(ly.mask);
    ly.mw = b1 * ly.mw + (1 - b1) * dw;
    ly.vw = b2 * ly.vw + (1 - b2) * dw.cwiseProduct(dw);
    ly.mb = b1 * ly.mb + (1 - b1) * db;
    ly.vb = b2 * ly.vb + (1 - b2) * db.cwiseProduct(db);
    ly.w.array() -= lr * (ly.mw.array() / c1) / ((ly.vw.array() / c2).sqrt() + eps);
    ly.b.array() -= lr * (ly.mb.array() / c1) / ((ly.vb.array() / c2).sqrt() + eps);
    ly.w = ly.w.cwiseProduct(ly.mask);
  }
  return loss / static_cast<float>(B);
}

Mat Gather(const Mat& x, const std::vector<int>& idx, size_t begin, size_t end) {
  Mat b(x.rows(), static_cast<Eigen::Index>(end - begin));
  for (size_t i = begin; i < end; ++i) b.col(static_cast<Eigen::Index>(i - begin)) = x.col(idx[i]);
  return b;
}

double FloatAccuracy(const Net& net, const Mat& x, const std::vector<uint8_t>& y) {
  int correct = 0;
  const int n = static_cast<int>(x.cols());
  for (int begin = 0; begin < n; begin += 1000) {
    const int len = std::min(1000, n - begin);
    ForwardState st;
    Forward(net, x.middleCols(begin, len), st, false);
    for (int c = 0; c < len; ++c) {
      Eigen::Index arg;
      st.acts.back().col(c).maxCoeff(&arg);
      correct += (arg == y[begin + c]);
    }
  }
  return static_cast<double>(correct) / n;
}

// Activation LSB per hidden layer from a percentile of the positive pre-activations on a calibration set.
void CalibrateActivations(Net& net, const Mat& x, float percentile) {
  ForwardState st;
  const bool was_qat = net.qat;
  net.qat = false;
  Forward(net, x, st, false);
  net.qat = was_qat;
  net.act_scale.assign(net.layers.size() - 1, 1.0f);
  for (size_t l = 0; l + 1 < net.layers.size(); ++l) {
    std::vector<float> pos;
    const Mat& h = st.acts[l + 1];
    for (Eigen::Index i = 0; i < h.size(); ++i)
      if (h.data()[i] > 0.0f) pos.push_back(h.data()[i]);
    float clip = 1.0f;
    if (!pos.empty()) {
      const size_t k = std::min(pos.size() - 1, static_cast<size_t>(percentile / 100.0 * pos.size()));
      std::nth_element(pos.begin(), pos.begin() + static_cast<std::ptrdiff_t>(k), pos.end());
      clip = pos[k];
    }
    net.act_scale[l] = clip / static_cast<float>((1 << net.act_bits) - 1);
  }
}

void Prune(Net& net, float fraction) {
  if (fraction <= 0.0f) return;
  for (Layer& ly : net.layers) {
    std::vector<float> mags(ly.w.data(), ly.w.data() + ly.w.size());
    for (float& m : mags) m = std::fabs(m);
    const size_t k = static_cast<size_t>(fraction * mags.size());
    if (k == 0) continue;
    std::nth_element(mags.begin(), mags.begin() + static_cast<std::ptrdiff_t>(k), mags.end());
    const float thr = mags[k];
    for (Eigen::Index i = 0; i < ly.w.size(); ++i) ly.mask.data()[i] = std::fabs(ly.w.data()[i]) < thr ? 0.0f : 1.0f;
    ly.w = ly.w.cwiseProduct(ly.mask);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Integer conversion

// Approximates real m > 0 by M / 2^S: M with `bits` significant bits, then at most `digits` nonzero CSD digits
// (0 = no limit), then trailing zero bits removed (smallest S).
std::pair<int64_t, int64_t> ChooseMultiplier(double m, int bits, int digits) {
  int s = 0;
  while (m * std::ldexp(1.0, s) < std::ldexp(1.0, bits - 1) && s < 62) ++s;
  while (m * std::ldexp(1.0, s) >= std::ldexp(1.0, bits) && s > 0) --s;
  int64_t M = std::llround(m * std::ldexp(1.0, s));
  if (digits > 0) {
    auto d = hw::arith::CsdDigits(M);
    while (static_cast<int>(d.size()) > digits) {
      // Keep the top `digits` digits, rounding the rest: compare the dropped remainder with half an LSB of
      // the kept part by recomputing CSD of the rounded value.
      const int keep_lsb = d[d.size() - static_cast<size_t>(digits)].shift;
      const int64_t unit = int64_t{1} << keep_lsb;
      M = ((M + unit / 2) >> keep_lsb) << keep_lsb;
      d = hw::arith::CsdDigits(M);
    }
  }
  if (M < 1) M = 1;
  while (M % 2 == 0 && s > 0) {
    M /= 2;
    --s;
  }
  return {M, s};
}

int BitsSigned(int64_t lo, int64_t hi) {
  int b = 1;
  while (-(int64_t{1} << (b - 1)) > lo || (int64_t{1} << (b - 1)) - 1 < hi) ++b;
  return b;
}

using IMat = Eigen::Matrix<int64_t, Eigen::Dynamic, Eigen::Dynamic>;  // one column per sample

// Converts one trained float layer to integers. The layer's input is integer with LSB `in_scale` (float value
// of one input unit) and range [0, in_max]. Hidden layers produce unsigned act_bits outputs with LSB
// `out_scale`; the last layer produces exact logits acc * M (S = 0) on a common scale across channels.
hw::model::DenseLayer ConvertLayer(const Layer& ly, const std::string& lname, bool last, bool per_channel,
                                   int weight_bits, int act_bits, double in_scale, int64_t in_max,
                                   double out_scale, const Options& opt) {
  const Vec s = WeightScales(ly.w, weight_bits, per_channel);
  hw::model::DenseLayer d;
  d.in = static_cast<int>(ly.w.cols());
  d.out = static_cast<int>(ly.w.rows());
  d.weight.rows = d.out;
  d.weight.cols = d.in;
  d.weight.w.resize(static_cast<size_t>(d.out) * d.in);
  d.encoding = hw::model::WeightEncoding::kSigned;
  d.weight_bits = weight_bits;
  d.has_bias = true;
  d.bias.resize(d.out);
  d.multiplier.resize(d.out);
  d.shift.resize(d.out);
  d.weight_tensor = lname + ".weight";
  d.bias_tensor = lname + ".bias";
  d.multiplier_tensor = lname + ".multiplier";
  d.shift_tensor = lname + ".shift";
  const double s_max = s.maxCoeff();
  std::vector<int64_t> acc_lo(d.out), acc_hi(d.out);
  for (int r = 0; r < d.out; ++r) {
    int64_t lo = 0, hi = 0;
    for (int c = 0; c < d.in; ++c) {
      const int64_t q = static_cast<int64_t>(QuantLevel(ly.w(r, c) / s[r], weight_bits));
      d.weight.at(r, c) = q;
      (q > 0 ? hi : lo) += q * in_max;
    }
    const double acc_scale = static_cast<double>(s[r]) * in_scale;  // float value of one acc unit
    d.bias[r] = std::llround(ly.b[r] / acc_scale);
    acc_lo[r] = lo + std::min<int64_t>(d.bias[r], 0);
    acc_hi[r] = hi + std::max<int64_t>(d.bias[r], 0);
    const double mreal = last ? s[r] / s_max : acc_scale / out_scale;
    auto [M, S] = ChooseMultiplier(mreal, opt.m_bits, opt.m_digits);
    d.multiplier[r] = M;
    d.shift[r] = S;
  }
  if (!last) {
    d.output = hw::model::IntType{false, act_bits};
    d.clamp_lo = 0;
    d.clamp_hi = (int64_t{1} << act_bits) - 1;
  } else {
    // Bring every channel to the common exponent: logit = acc * (M << (k_max - k)), no shift, exact.
    const int64_t kmax = *std::max_element(d.shift.begin(), d.shift.end());
    int64_t out_lo = 0, out_hi = 0;
    for (int r = 0; r < d.out; ++r) {
      d.multiplier[r] <<= (kmax - d.shift[r]);
      d.shift[r] = 0;
      out_lo = std::min(out_lo, acc_lo[r] * d.multiplier[r]);
      out_hi = std::max(out_hi, acc_hi[r] * d.multiplier[r]);
    }
    const int bits = BitsSigned(out_lo, out_hi);
    if (bits > 32) throw hw::Error(hw::Location{opt.out, lname, "output.bits"}, "logits need more than 32 bits");
    d.output = hw::model::IntType{true, bits};
    d.clamp_lo = d.output.min();
    d.clamp_hi = d.output.max();
  }
  for (int r = 0; r < d.out; ++r) {
    const __int128 worst = static_cast<__int128>(std::max(-acc_lo[r], acc_hi[r])) * d.multiplier[r] +
                           (d.shift[r] > 0 ? (__int128{1} << (d.shift[r] - 1)) : 0);
    if (worst >= (__int128{1} << 62))
      throw hw::Error(hw::Location{opt.out, lname, "requant"}, "|acc| * M + 2^(S-1) may reach 2^62");
  }
  return d;
}

// Exact integer forward of one dense layer on a batch (docs/semantics.md).
IMat IntForward(const hw::model::DenseLayer& d, const IMat& x) {
  IMat w(d.out, d.in);
  for (int r = 0; r < d.out; ++r)
    for (int c = 0; c < d.in; ++c) w(r, c) = d.weight.at(r, c);
  IMat y = w * x;
  for (Eigen::Index j = 0; j < y.cols(); ++j)
    for (int r = 0; r < d.out; ++r) {
      const int64_t S = d.shift[r];
      int64_t p = (y(r, j) + d.bias[r]) * d.multiplier[r];
      if (S > 0) p = (p + (int64_t{1} << (S - 1))) >> S;
      y(r, j) = std::clamp(p, d.clamp_lo, d.clamp_hi);
    }
  return y;
}

struct DigitCount {
  int64_t weights = 0, multipliers = 0, nonzero_weights = 0, total_weights = 0;
};

DigitCount CountDigits(const hw::model::Model& m) {
  DigitCount n;
  for (const auto& layer : m.layers)
    if (const auto* d = std::get_if<hw::model::DenseLayer>(&layer.op)) {
      for (int64_t q : d->weight.w) {
        n.weights += static_cast<int64_t>(hw::arith::CsdDigits(q).size());
        n.nonzero_weights += q != 0;
        ++n.total_weights;
      }
      for (int64_t M : d->multiplier) n.multipliers += static_cast<int64_t>(hw::arith::CsdDigits(M).size());
    }
  return n;
}

// Exact integer forward pass (docs/semantics.md); returns the predicted class.
int IntegerPredict(const hw::model::Model& m, const std::vector<int64_t>& x) {
  std::vector<int64_t> v = x, next;
  for (const auto& layer : m.layers) {
    if (const auto* d = std::get_if<hw::model::DenseLayer>(&layer.op)) {
      next.assign(d->out, 0);
      for (int r = 0; r < d->out; ++r) {
        int64_t acc = d->has_bias ? d->bias[r] : 0;
        const int64_t* w = d->weight.w.data() + static_cast<size_t>(r) * d->in;
        for (int c = 0; c < d->in; ++c) acc += w[c] * v[c];
        const int64_t S = d->shift[r];
        int64_t p = acc * d->multiplier[r];
        if (S > 0) p = (p + (int64_t{1} << (S - 1))) >> S;
        next[r] = std::clamp(p, d->clamp_lo, d->clamp_hi);
      }
      v.swap(next);
    } else {
      int best = 0;
      for (size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[best]) best = static_cast<int>(i);
      return best;
    }
  }
  return -1;
}

IMat ToIMat(const std::vector<std::vector<int64_t>>& x) {
  IMat m(static_cast<Eigen::Index>(x[0].size()), static_cast<Eigen::Index>(x.size()));
  for (size_t i = 0; i < x.size(); ++i)
    for (size_t j = 0; j < x[i].size(); ++j) m(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(i)) = x[i][j];
  return m;
}

Mat ToFloat(const IMat& x, double scale) { return (x.cast<double>() * scale).cast<float>(); }

int Accuracy(const IMat& logits, const std::vector<uint8_t>& labels) {
  int correct = 0;
  for (Eigen::Index j = 0; j < logits.cols(); ++j) {
    Eigen::Index best = 0;
    for (Eigen::Index r = 1; r < logits.rows(); ++r)
      if (logits(r, j) > logits(best, j)) best = r;  // lowest index on ties
    correct += best == labels[static_cast<size_t>(j)];
  }
  return correct;
}

void ResetAdam(Net& net) {
  for (Layer& ly : net.layers) {
    ly.mw.setZero();
    ly.vw.setZero();
    ly.mb.setZero();
    ly.vb.setZero();
  }
}

// Runs `epochs` epochs of Adam with cosine learning-rate decay from lr0; prints loss and test accuracy.
void RunEpochs(Net& net, const Mat& x, const std::vector<int>& y, const Mat& test_x,
               const std::vector<uint8_t>& test_y, int epochs, float lr0, const Options& opt, Rng& rng,
               const char* phase) {
  ResetAdam(net);
  const int n = static_cast<int>(x.cols());
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  const int steps_per_epoch = (n + opt.batch - 1) / opt.batch;
  const int total = std::max(1, epochs * steps_per_epoch);
  int k = 0;
  for (int e = 0; e < epochs; ++e) {
    rng.Shuffle(order);
    double loss = 0.0;
    for (int begin = 0; begin < n; begin += opt.batch) {
      const int end = std::min(n, begin + opt.batch);
      const Mat xb = Gather(x, order, static_cast<size_t>(begin), static_cast<size_t>(end));
      std::vector<int> yb(order.begin() + begin, order.begin() + end);
      for (int& v : yb) v = y[static_cast<size_t>(v)];
      const float lr = lr0 * 0.5f * (1.0f + std::cos(static_cast<float>(M_PI) * static_cast<float>(k) / total));
      ++k;
      loss += static_cast<double>(TrainStep(net, xb, yb, lr, opt.weight_decay, k)) * (end - begin);
    }
    std::printf("%s epoch %2d: loss %.4f  test acc %.4f\n", phase, e + 1, loss / n, FloatAccuracy(net, test_x, test_y));
    std::fflush(stdout);
  }
}

std::string DefaultModelDir() { return std::string(HW_SOURCE_DIR) + "/weights/fashion_mlp"; }

int ExportTest(const Options& opt, bool preprocess_given) {
  const std::string model_dir = opt.model_dir.empty() ? DefaultModelDir() : opt.model_dir;
  std::string name = opt.preprocess;
  if (!preprocess_given) name = hw::data::ReadPreprocessName(model_dir);
  const std::string manifest = (std::filesystem::path(model_dir) / "model.json").string();
  if (!preprocess_given || std::filesystem::exists(manifest)) {
    const hw::model::Model m = hw::model::LoadModel(manifest);
    hw::data::CheckPreprocessMatchesInput(name, m.input_length, m.input.is_signed, m.input.bits, manifest);
  }
  const auto test = hw::data::ReadFashionMnist("t10k", opt.data_dir);
  const auto xs = hw::data::FashionPreprocessAll(name, test.images);
  std::filesystem::create_directories(opt.export_test);
  const std::string in_path = (std::filesystem::path(opt.export_test) / "test_inputs.txt").string();
  const std::string lb_path = (std::filesystem::path(opt.export_test) / "test_labels.txt").string();
  std::string inputs, labels;
  for (size_t i = 0; i < xs.size(); ++i) {
    for (size_t j = 0; j < xs[i].size(); ++j) {
      if (j) inputs += ' ';
      inputs += std::to_string(xs[i][j]);
    }
    inputs += '\n';
    labels += std::to_string(test.labels[i]) + '\n';
  }
  hw::WriteFileOrThrow(in_path, inputs);
  hw::WriteFileOrThrow(lb_path, labels);
  std::printf("wrote %zu vectors (%s, %zu elements) to %s and %s\n", xs.size(), name.c_str(), xs[0].size(),
              in_path.c_str(), lb_path.c_str());
  return 0;
}

// A float option as the decimal the user typed (0.002, not 0.0020000000949949026).
double Decimal(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return std::strtod(buf, nullptr);
}

std::string JoinInts(const std::vector<int>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + std::to_string(v[i]);
  return s;
}

int Train(const Options& opt, const std::string& command) {
  const auto t0 = std::chrono::steady_clock::now();
  const hw::data::PreprocessSpec pre = hw::data::ParsePreprocess(opt.preprocess);
  const auto train = hw::data::ReadFashionMnist("train", opt.data_dir);
  const auto test = hw::data::ReadFashionMnist("t10k", opt.data_dir);
  IMat train_xi = ToIMat(hw::data::FashionPreprocessAll(pre.name, train.images));
  IMat test_xi = ToIMat(hw::data::FashionPreprocessAll(pre.name, test.images));
  const IMat test_x0 = test_xi;  // model inputs, for the final check
  double in_scale = 1.0 / ((1 << pre.bits) - 1);  // float value of one input unit; inputs are in [0, 1]
  int64_t in_max = (int64_t{1} << pre.bits) - 1;
  const Mat train_x = ToFloat(train_xi, in_scale);
  const Mat test_x = ToFloat(test_xi, in_scale);
  const std::vector<int> train_y(train.labels.begin(), train.labels.end());

  Rng rng(opt.seed);
  Net net;
  net.weight_bits = opt.weight_bits;
  net.act_bits = opt.act_bits;
  net.out_per_channel = opt.out_per_channel;
  std::vector<int> widths = {pre.length()};
  widths.insert(widths.end(), opt.hidden.begin(), opt.hidden.end());
  widths.push_back(10);
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    Layer ly;
    const int in = widths[l], out = widths[l + 1];
    const double stddev = std::sqrt(2.0 / in);
    ly.w.resize(out, in);
    for (Eigen::Index i = 0; i < ly.w.size(); ++i) ly.w.data()[i] = static_cast<float>(rng.Normal() * stddev);
    ly.b = Vec::Zero(out);
    ly.mask = Mat::Ones(out, in);
    ly.mw = Mat::Zero(out, in);
    ly.vw = Mat::Zero(out, in);
    ly.mb = Vec::Zero(out);
    ly.vb = Vec::Zero(out);
    net.layers.push_back(std::move(ly));
  }

  // 1. Float training.
  RunEpochs(net, train_x, train_y, test_x, test.labels, opt.float_epochs, opt.lr, opt, rng, "float");
  const double float_acc = FloatAccuracy(net, test_x, test.labels);

  // 2. Quantization-aware training (fixed activation scales from a calibration percentile, optional pruning).
  CalibrateActivations(net, train_x.leftCols(std::min<Eigen::Index>(train_x.cols(), 10000)), opt.act_percentile);
  Prune(net, opt.prune);
  net.qat = true;
  RunEpochs(net, train_x, train_y, test_x, test.labels, opt.qat_epochs, opt.qat_lr, opt, rng, "qat  ");
  const double qat_acc = FloatAccuracy(net, test_x, test.labels);

  // 3. Conversion, layer by layer. Once layer l is integer (its multipliers rounded), the layers after it are
  //    fine-tuned (still QAT) on the exact integer outputs of layers 0..l, so they absorb the rounding.
  hw::model::Model model;
  model.name = opt.name;
  model.tensors_file = opt.name + ".safetensors";
  model.input_length = pre.length();
  model.input = hw::model::IntType{false, pre.bits};
  Net tail = net;
  const size_t L = net.layers.size();
  for (size_t l = 0; l < L; ++l) {
    const bool last = l + 1 == L;
    const std::string lname = last ? "logits" : "fc" + std::to_string(l + 1);
    hw::model::DenseLayer d =
        ConvertLayer(tail.layers[0], lname, last, last ? opt.out_per_channel : true, opt.weight_bits, opt.act_bits,
                     in_scale, in_max, last ? 1.0 : tail.act_scale[0], opt);
    train_xi = IntForward(d, train_xi);
    test_xi = IntForward(d, test_xi);
    if (!last) {
      in_scale = tail.act_scale[0];
      in_max = d.clamp_hi;
      tail.layers.erase(tail.layers.begin());
      tail.act_scale.erase(tail.act_scale.begin());
      if (opt.tail_epochs > 0) {
        const std::string phase = "tail" + std::to_string(l + 2);
        RunEpochs(tail, ToFloat(train_xi, in_scale), train_y, ToFloat(test_xi, in_scale), test.labels,
                  opt.tail_epochs, opt.tail_lr, opt, rng, phase.c_str());
      }
    }
    hw::model::Layer layer;
    layer.name = lname;
    layer.op = std::move(d);
    model.layers.push_back(std::move(layer));
  }
  hw::model::Layer am;
  am.name = "class";
  am.op = hw::model::ArgmaxLayer{};
  model.layers.push_back(std::move(am));

  const int correct = Accuracy(test_xi, test.labels);
  const int train_correct = Accuracy(train_xi, train.labels);
  const double int_acc = static_cast<double>(correct) / static_cast<double>(test_xi.cols());
  const double train_acc = static_cast<double>(train_correct) / static_cast<double>(train_xi.cols());
  const DigitCount dc = CountDigits(model);
  const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::printf("float test accuracy   %.4f\n", float_acc);
  std::printf("qat test accuracy     %.4f\n", qat_acc);
  std::printf("integer test accuracy %.4f (%d / %lld), train %.4f\n", int_acc, correct,
              static_cast<long long>(test_xi.cols()), train_acc);
  std::printf("weights %lld, nonzero %lld, nonzero CSD digits: weights %lld + multipliers %lld = %lld\n",
              static_cast<long long>(dc.total_weights), static_cast<long long>(dc.nonzero_weights),
              static_cast<long long>(dc.weights), static_cast<long long>(dc.multipliers),
              static_cast<long long>(dc.weights + dc.multipliers));
  std::printf("time %.1f s\n", train_seconds);

  if (!opt.out.empty()) {
    hw::model::WriteModel(model, opt.out);
    // Round trip through the loader: the written files must validate and give the same predictions.
    const hw::model::Model back = hw::model::LoadModel((std::filesystem::path(opt.out) / "model.json").string());
    int back_correct = 0;
    std::vector<int64_t> x(static_cast<size_t>(test_x0.rows()));
    for (Eigen::Index j = 0; j < test_x0.cols(); ++j) {
      for (Eigen::Index i = 0; i < test_x0.rows(); ++i) x[static_cast<size_t>(i)] = test_x0(i, j);
      back_correct += IntegerPredict(back, x) == test.labels[static_cast<size_t>(j)];
    }
    if (back_correct != correct)
      throw std::runtime_error("reloaded model disagrees with the trained one: " + std::to_string(back_correct) +
                               " vs " + std::to_string(correct));

    nlohmann::ordered_json j;
    j["model"] = opt.name;
    j["dataset"] = "Fashion-MNIST (60,000 train / 10,000 test images)";
    j["seed"] = opt.seed;
    j["command"] = command;
    j["preprocess"] = pre.name;
    nlohmann::ordered_json arch;
    arch["input"] = {{"length", pre.length()}, {"signed", false}, {"bits", pre.bits}};
    arch["layers"] = JoinInts(widths, "-");
    arch["hidden"] = opt.hidden;
    arch["weight_bits"] = opt.weight_bits;
    arch["weight_grid"] = opt.weight_grid;
    arch["activation_bits"] = opt.act_bits;
    arch["output_layer_per_channel_scale"] = opt.out_per_channel;
    arch["multiplier_bits"] = opt.m_bits;
    arch["multiplier_max_csd_digits"] = opt.m_digits;
    arch["prune_fraction"] = Decimal(opt.prune);
    j["architecture"] = arch;
    nlohmann::ordered_json tr;
    tr["float_epochs"] = opt.float_epochs;
    tr["qat_epochs"] = opt.qat_epochs;
    tr["tail_epochs"] = opt.tail_epochs;
    tr["batch"] = opt.batch;
    tr["lr"] = Decimal(opt.lr);
    tr["qat_lr"] = Decimal(opt.qat_lr);
    tr["tail_lr"] = Decimal(opt.tail_lr);
    tr["weight_decay"] = Decimal(opt.weight_decay);
    tr["activation_percentile"] = Decimal(opt.act_percentile);
    j["training"] = tr;
    j["float_test_accuracy"] = std::round(float_acc * 1e4) / 1e4;
    j["qat_float_test_accuracy"] = std::round(qat_acc * 1e4) / 1e4;
    j["integer_test_accuracy"] = std::round(int_acc * 1e4) / 1e4;
    j["integer_test_correct"] = correct;
    j["test_count"] = test_xi.cols();
    j["integer_train_accuracy"] = std::round(train_acc * 1e4) / 1e4;
    j["weights_total"] = dc.total_weights;
    j["weights_nonzero"] = dc.nonzero_weights;
    j["nonzero_csd_digits"] = {
        {"weights", dc.weights}, {"multipliers", dc.multipliers}, {"total", dc.weights + dc.multipliers}};
    j["train_time_seconds"] = std::round(train_seconds * 10) / 10;
    hw::WriteFileOrThrow((std::filesystem::path(opt.out) / "training.json").string(), j.dump(2) + "\n");
    std::printf("wrote %s/{model.json,%s,training.json}\n", opt.out.c_str(), model.tensors_file.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Train the quantized Fashion-MNIST MLP shipped with hardwire"};
  app.add_option("--seed", opt.seed, "RNG seed");
  app.add_option("--out", opt.out, "Write the model (model.json, safetensors, training.json) to this directory");
  auto* pre_opt = app.add_option("--preprocess", opt.preprocess,
                                 "Input preprocessing: full_u<B> or pool<P>x<P>_u<B> (see fashion_preprocess.h)");
  app.add_option("--hidden", opt.hidden, "Hidden layer widths, e.g. --hidden 64 or --hidden 64,32")->delimiter(',');
  app.add_option("--weight-bits", opt.weight_bits, "Signed weight bits (2..8)")->check(CLI::Range(2, 8));
  app.add_option("--weight-grid", opt.weight_grid, "Weight levels: uniform or pow2 (0, +-1, +-2, ..., +-2^(bits-2))")
      ->check(CLI::IsMember({"uniform", "pow2"}));
  app.add_option("--act-bits", opt.act_bits, "Unsigned hidden activation bits (1..16)")->check(CLI::Range(1, 16));
  app.add_option("--float-epochs", opt.float_epochs, "Float training epochs");
  app.add_option("--qat-epochs", opt.qat_epochs, "Quantization-aware training epochs");
  app.add_option("--batch", opt.batch, "Mini-batch size")->check(CLI::Range(1, 60000));
  app.add_option("--lr", opt.lr, "Adam learning rate (float phase)");
  app.add_option("--qat-lr", opt.qat_lr, "Adam learning rate (QAT phase)");
  app.add_option("--tail-epochs", opt.tail_epochs, "Fine-tuning epochs of later layers after each layer is made integer");
  app.add_option("--tail-lr", opt.tail_lr, "Learning rate of that fine-tuning");
  app.add_option("--weight-decay", opt.weight_decay, "L2 weight decay");
  app.add_option("--act-percentile", opt.act_percentile, "Percentile of positive activations mapped to full scale")
      ->check(CLI::Range(1.0, 100.0));
  app.add_option("--prune", opt.prune, "Fraction of smallest weights per layer pruned before QAT")
      ->check(CLI::Range(0.0, 0.99));
  app.add_option("--m-bits", opt.m_bits, "Significant bits of requantization multipliers")->check(CLI::Range(1, 30));
  app.add_option("--m-digits", opt.m_digits, "Max nonzero CSD digits per multiplier (0 = no limit)")
      ->check(CLI::Range(0, 30));
  app.add_option("--out-per-channel", opt.out_per_channel, "Per-channel weight scale in the output layer (0/1)");
  app.add_option("--data-dir", opt.data_dir, "Fashion-MNIST directory (default $HW_FASHION_MNIST_DIR or "
                                             "/usr/share/datasets/fashion-mnist)");
  app.add_option("--name", opt.name, "Model name");
  app.add_option("--export-test", opt.export_test,
                 "Instead of training: write DIR/test_inputs.txt and DIR/test_labels.txt (preprocessed test set)");
  app.add_option("--model-dir", opt.model_dir,
                 "With --export-test: model whose training.json names the preprocessing (default: shipped model)");
  CLI11_PARSE(app, argc, argv);
  std::string command = "fashion_train";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  try {
    if (!opt.export_test.empty()) return ExportTest(opt, pre_opt->count() > 0);
    g_pow2 = opt.weight_grid == "pow2";
    return Train(opt, command);
  } catch (const hw::Error& e) {
    for (const auto& msg : e.messages()) std::fprintf(stderr, "error: %s\n", msg.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
