#include "faults/study.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <future>
#include <random>
#include <set>

#include "common/diag.h"
#include "faults/parallel.h"

namespace hw::faults {

namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t Mix(uint64_t seed, std::initializer_list<uint64_t> parts) {
  uint64_t h = SplitMix(seed);
  for (uint64_t p : parts) h = SplitMix(h ^ p);
  return h;
}

uint64_t HashString(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The layers first.. of `m` as a model of their own (its input is what layer first-1 outputs).
model::Model Tail(const model::Model& m, int first) {
  model::Model t;
  t.name = m.name;
  t.manifest_path = m.manifest_path;
  t.input = m.OutputType(first - 1);
  t.input_length = m.OutputLength(first - 1);
  t.layers.assign(m.layers.begin() + first, m.layers.end());
  return t;
}


}  // namespace

Evaluator::Evaluator(const model::Model& m, const Graphs& d, reference::Batch x, std::vector<int64_t> labels)
    : m_(m), d_(d), x_(std::move(x)), labels_(std::move(labels)) {
  HW_CHECK(labels_.empty() || static_cast<long>(labels_.size()) == x_.rows(), "labels and inputs differ in count");
  if (d_.size() != m_.layers.size())
    throw Error(Location{"", "", "graphs"},
                fmt::format("fault injection needs one IR v2 graph per model layer ({} layers, {} graphs): compile with "
                            "driver::Compile (CompiledDesign::graphs)", m_.layers.size(), d_.size()));
  clean_ = reference::Run(m_, x_);
  sites_ = EnumerateSites(m_, d_);
}

reference::Batch Evaluator::Outputs(const FaultSet& f) const {
  if (!f.weights.empty() && !f.hw.empty())
    throw Error(Location{"", "", "fault set"},
                "weight faults and hardware faults in one set are not supported (hardware faults name nodes of the "
                "fault-free design, which a faulty weight changes); evaluate them separately");
  if (!f.weights.empty()) {
    int first = static_cast<int>(m_.layers.size());
    for (const WeightFault& w : f.weights) first = std::min(first, w.layer);
    const model::Model faulty = Tail(ApplyWeightFaults(m_, f.weights), first);
    return reference::Run(faulty, first == 0 ? x_ : clean_.layers[first - 1]).output();
  }
  if (f.hw.empty()) return clean_.output();
  const Interpreter in(m_, d_, f.hw);
  const int first = in.first_faulty_layer();
  return in.Run(first == 0 ? x_ : clean_.layers[first - 1], first);
}

Quality Evaluator::Score(const reference::Batch& out) const {
  Quality q;
  const reference::Batch& ref = clean_.output();
  long changed = 0, right = 0;
  for (long r = 0; r < out.rows(); ++r) {
    changed += (out.row(r) != ref.row(r)) ? 1 : 0;
    if (!labels_.empty()) right += out(r, 0) == labels_[r] ? 1 : 0;
  }
  q.changed = static_cast<double>(changed) / std::max<long>(1, out.rows());
  if (!labels_.empty()) q.accuracy = static_cast<double>(right) / std::max<long>(1, out.rows());
  return q;
}

Quality Evaluator::Evaluate(const FaultSet& f) const { return Score(Outputs(f)); }

double Point::Quantile(const std::vector<double>& v, double q) const {
  if (v.empty()) return 0;
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  const double pos = q * (s.size() - 1);  // linear interpolation between order statistics
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (pos - lo) * (s[hi] - s[lo]);
}

Point RunPoint(const Evaluator& ev, Level level, const std::string& layer, double rate, long count,
               const StudyOptions& o) {
  SampleSpec spec;
  spec.level = level;
  spec.rate = count >= 0 ? 0 : rate;
  spec.count = count;
  spec.layer = layer;
  spec.adder_kind = o.adder_kind;
  spec.weight_kind = o.weight_kind;
  CheckSpec(spec, ev.model());
  Point p;
  p.level = level, p.layer = layer, p.rate = rate, p.count = count;
  uint64_t rate_bits = 0;
  static_assert(sizeof(rate_bits) == sizeof(rate));
  std::memcpy(&rate_bits, &rate, sizeof rate);
  struct One {
    Quality q;
    size_t faults = 0;
  };
  const auto results = Parallel<One>(o.samples, o.threads, [&](int i) {
    const uint64_t seed = Mix(o.seed, {static_cast<uint64_t>(level), HashString(layer), rate_bits,
                                       static_cast<uint64_t>(count), static_cast<uint64_t>(i)});
    const FaultSet f = Sample(spec, ev.sites(), ev.model(), ev.design(), seed);
    return One{ev.Evaluate(f), f.size()};
  });
  double total = 0;
  for (const One& r : results) {
    p.accuracy.push_back(r.q.accuracy);
    p.changed.push_back(r.q.changed);
    total += static_cast<double>(r.faults);
  }
  p.mean_faults = total / std::max(1, o.samples);
  return p;
}

YieldPoint RunYield(const Evaluator& ev, double lambda, double floor, const StudyOptions& o) {
  if (!(lambda >= 0)) throw Error(Location{"", "", "--yield-lambda"}, "defect count per die must be >= 0");
  const Sites& s = ev.sites();
  const size_t n_add = s.adder_bits.size(), n_reg = s.register_bits.size();
  struct One {
    bool good = false;
    long defects = 0;
  };
  uint64_t lambda_bits = 0;
  std::memcpy(&lambda_bits, &lambda, sizeof lambda);
  const auto dies = Parallel<One>(o.samples, o.threads, [&](int i) {
    std::mt19937_64 rng(Mix(o.seed, {0x9d1e1d, lambda_bits, static_cast<uint64_t>(i)}));
    // Poisson by inversion with the engine's raw bits (portable across standard libraries).
    auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
    long k = 0;
    double p = std::exp(-lambda), cdf = p;
    const double u = uniform();
    while (u > cdf && k < 1000000) {
      ++k;
      p *= lambda / k;
      cdf += p;
    }
    FaultSet f;
    std::set<size_t> used;
    while (static_cast<long>(used.size()) < k && used.size() < n_add + n_reg) {
      const size_t site = static_cast<size_t>(uniform() * (n_add + n_reg));
      if (!used.insert(site).second) continue;
      HwFault h;
      h.one = uniform() < 0.5;
      if (site < n_add) {
        const Sites::AdderBit& a = s.adder_bits[site];
        h.kind = HwFault::Kind::kStuckOutput, h.layer = a.layer, h.node = a.node, h.bit = a.bit;
      } else {
        const Sites::RegisterBit& r = s.register_bits[site - n_add];
        h.kind = HwFault::Kind::kStuckRegister, h.layer = r.layer, h.node = r.node, h.bit = r.bit;
      }
      f.hw.push_back(h);
    }
    const Quality q = ev.Evaluate(f);
    return One{ev.labelled() ? q.accuracy >= floor : q.changed <= 1.0 - floor, k};
  });
  YieldPoint y;
  y.lambda = lambda;
  y.dies = o.samples;
  double total = 0;
  for (const One& d : dies) y.good += d.good ? 1 : 0, total += static_cast<double>(d.defects);
  y.mean_defects = total / std::max(1, o.samples);
  return y;
}

std::vector<AblationRow> Ablate(const Evaluator& ev, int threads) {
  const model::Model& m = ev.model();
  std::vector<AblationRow> rows;
  for (size_t li = 0; li < m.layers.size(); ++li) {
    const auto* dl = std::get_if<model::DenseLayer>(&m.layers[li].op);
    if (!dl) continue;
    rows.push_back({m.layers[li].name + " (all weights)", m.layers[li].name, -1, {}});
    for (int o = 0; o < dl->out; ++o)
      rows.push_back({m.layers[li].name + " neuron " + std::to_string(o), m.layers[li].name, o, {}});
  }
  const auto qs = Parallel<Quality>(static_cast<int>(rows.size()), threads, [&](int i) {
    const AblationRow& row = rows[i];
    int li = 0;
    while (m.layers[li].name != row.layer) ++li;
    model::Model a = m;
    auto& dl = std::get<model::DenseLayer>(a.layers[li].op);
    if (row.neuron < 0) {
      std::fill(dl.weight.w.begin(), dl.weight.w.end(), 0);
    } else {
      for (int c = 0; c < dl.in; ++c) dl.weight.at(row.neuron, c) = 0;
      dl.bias[row.neuron] = 0;
    }
    return ev.Score(reference::Run(a, ev.inputs()).output());
  });
  for (size_t i = 0; i < rows.size(); ++i) rows[i].quality = qs[i];
  // Most harmful first: lowest accuracy (or most outputs changed), then by name for a stable order.
  std::stable_sort(rows.begin(), rows.end(), [&](const AblationRow& a, const AblationRow& b) {
    const double ka = ev.labelled() ? a.quality.accuracy : -a.quality.changed;
    const double kb = ev.labelled() ? b.quality.accuracy : -b.quality.changed;
    return ka < kb;
  });
  return rows;
}

}  // namespace hw::faults
