// hardwire faults MODEL.json [-o DIR]                 the study: curves per level and per layer, tolerance,
//                                                     yield, ablation (JSON, CSV, Markdown, PNG plots)
// hardwire faults MODEL.json --level L --rate R       one point: --samples random fault sets, summarised
// hardwire faults MODEL.json --fault-list FILE        one explicit fault set
// hardwire faults MODEL.json --ablate                 the ablation table only
// hardwire faults MODEL.json --rtl-check N            N random faulty designs in Verilator vs the interpreter
// See docs/faults.md.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <tuple>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/file_util.h"
#include "cosim/cosim.h"
#include "data/fashion_preprocess.h"
#include "driver/generate.h"
#include "faults/faults.h"
#include "faults/rtl_check.h"
#include "faults/lm_study.h"
#include "faults/study.h"
#include "model/lm_model_io.h"
#include "passes/lower_lm.h"
#include "reference/lm_reference.h"

namespace hw::cli {

namespace fs = std::filesystem;

namespace {

struct Flags {
  std::string model, out = "out/faults", fault_list, level, layer, adder_kind = "stuck", weight_kind = "mix", text;
  int windows = 32, prompt_length = 16;
  bool samples_given = false, k_given = false, ablate_neurons = false;
  double rate = -1;
  long count = -1;
  int samples = 50, threads = 1, images = 0, rtl_check = 0, adders_per_stage = 1;
  uint64_t seed = 1;
  bool ablate = false, no_plots = false, quick = false;
  double floor_loss = 1.0;  // percentage points of accuracy a good die may lose
  std::vector<double> weight_rates, adder_rates, register_rates, memory_rates, table_rates;
  ArithFlags arith;
};

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The test set of a model trained on Fashion-MNIST (its weights directory has training.json), else random
// vectors without labels.
void LoadData(const model::Model& m, const std::string& model_path, int images, reference::Batch* x,
              std::vector<int64_t>* labels, std::string* what) {
  const std::string dir = fs::path(model_path).parent_path().string();
  if (fs::exists(fs::path(dir) / "training.json")) {
    const std::string pre = data::ReadPreprocessName(dir);
    data::CheckPreprocessMatchesInput(pre, m.input_length, m.input.is_signed, m.input.bits, model_path);
    const data::LabeledImages test = data::ReadFashionMnist("t10k");
    const int n = images > 0 ? std::min(images, test.images.count) : test.images.count;
    x->resize(n, m.input_length);
    for (int i = 0; i < n; ++i) {
      const auto v = data::FashionPreprocess(pre, test.images.image(i));
      for (int k = 0; k < m.input_length; ++k) (*x)(i, k) = v[k];
      labels->push_back(test.labels[i]);
    }
    *what = fmt::format("Fashion-MNIST test set, {} images ({} preprocessing)", n, pre);
  } else {
    *x = cosim::RandomInputs(m, images > 0 ? images : 2000, 1);
    *what = fmt::format("{} random input vectors (no labels: quality is the fraction of outputs unchanged)", x->rows());
  }
}

void CheckRates(const std::vector<double>& rates, const std::string& field) {
  for (double r : rates)
    if (!(r >= 0 && r <= 1)) throw Error(Location{"", "", field}, fmt::format("fault rate {} is outside [0, 1]", r));
}

std::string Pct(double v) { return v < 0 ? "n/a" : fmt::format("{:.2f} %", 100 * v); }

nlohmann::ordered_json PointJson(const faults::Point& p) {
  return {{"level", faults::ToString(p.level)}, {"layer", p.layer.empty() ? "all" : p.layer},
          {"rate", p.rate}, {"count", p.count}, {"mean_faults", p.mean_faults},
          {"samples", p.accuracy.size()},
          {"accuracy", {{"median", p.Quantile(p.accuracy, 0.5)}, {"p10", p.Quantile(p.accuracy, 0.1)},
                        {"p90", p.Quantile(p.accuracy, 0.9)}}},
          {"changed", {{"median", p.Quantile(p.changed, 0.5)}, {"p10", p.Quantile(p.changed, 0.1)},
                       {"p90", p.Quantile(p.changed, 0.9)}}},
          {"accuracy_per_sample", p.accuracy}, {"changed_per_sample", p.changed}};
}

std::string PointsCsv(const std::vector<faults::Point>& ps) {
  std::string s = "level,layer,rate,count,mean_faults,samples,acc_median,acc_p10,acc_p90,changed_median,changed_p10,changed_p90\n";
  for (const faults::Point& p : ps)
    s += fmt::format("{},{},{},{},{:.3f},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f}\n", faults::ToString(p.level),
                     p.layer.empty() ? "all" : p.layer, p.rate, p.count, p.mean_faults, p.accuracy.size(),
                     p.Quantile(p.accuracy, 0.5), p.Quantile(p.accuracy, 0.1), p.Quantile(p.accuracy, 0.9),
                     p.Quantile(p.changed, 0.5), p.Quantile(p.changed, 0.1), p.Quantile(p.changed, 0.9));
  return s;
}

void PrintPoint(const faults::Point& p, bool labelled) {
  if (labelled)
    std::cout << fmt::format("  {:<8} {:<7} {:>9} {:>9.1f} faults  accuracy median {:>7}  [10 % {:>7}, 90 % {:>7}]  changed median {:>7}\n",
                             faults::ToString(p.level), p.layer.empty() ? "all" : p.layer,
                             p.count >= 0 ? fmt::format("n={}", p.count) : fmt::format("{:g}", p.rate), p.mean_faults,
                             Pct(p.Quantile(p.accuracy, 0.5)), Pct(p.Quantile(p.accuracy, 0.1)),
                             Pct(p.Quantile(p.accuracy, 0.9)), Pct(p.Quantile(p.changed, 0.5)));
  else
    std::cout << fmt::format("  {:<8} {:<7} {:>9} {:>9.1f} faults  changed median {:>7}  [10 % {:>7}, 90 % {:>7}]\n",
                             faults::ToString(p.level), p.layer.empty() ? "all" : p.layer,
                             p.count >= 0 ? fmt::format("n={}", p.count) : fmt::format("{:g}", p.rate), p.mean_faults,
                             Pct(p.Quantile(p.changed, 0.5)), Pct(p.Quantile(p.changed, 0.1)), Pct(p.Quantile(p.changed, 0.9)));
}

// Layers that hold sites of `level` (a layer without adders gets no adder curve).
std::vector<std::string> LayersWithSites(const faults::Evaluator& ev, faults::Level level) {
  std::map<int, bool> has;
  const faults::Sites& s = ev.sites();
  if (level == faults::Level::kWeight)
    for (const auto& w : s.weights) has[w.layer] = true;
  if (level == faults::Level::kAdder)
    for (const auto& a : s.adder_bits) has[a.layer] = true;
  if (level == faults::Level::kRegister)
    for (const auto& r : s.register_bits) has[r.layer] = true;
  std::vector<std::string> out;
  for (const auto& [l, yes] : has) out.push_back(ev.model().layers[l].name);
  return out;
}

int RunRtlCheck(const Flags& f, const faults::Evaluator& ev, const driver::CompiledDesign& c, const driver::GenerateOptions& go) {
  // Cycle through the kinds of fault, a handful of faults per design so that outputs do change.
  struct Kind {
    faults::Level level;
    std::string adder_kind, layer;
    long count;
  };
  const std::vector<Kind> kinds = {{faults::Level::kAdder, "stuck", "", 12},  {faults::Level::kRegister, "stuck", "", 12},
                                   {faults::Level::kAdder, "drop", "", 6},    {faults::Level::kWeight, "stuck", "", 40},
                                   {faults::Level::kAdder, "stuck", "", 40},
                                   {faults::Level::kRegister, "stuck", "", 60}};
  int bad = 0;
  long total_diff = 0;
  for (int i = 0; i < f.rtl_check; ++i) {
    const Kind& k = kinds[i % kinds.size()];
    faults::SampleSpec spec;
    spec.level = k.level;
    spec.count = k.count;
    spec.adder_kind = k.adder_kind;
    spec.layer = k.layer;
    faults::FaultSet set = faults::Sample(spec, ev.sites(), ev.model(), ev.design(), f.seed * 7919 + i);
    if (i % kinds.size() == 5) {  // a mixed set: register and adder faults together
      spec.level = faults::Level::kAdder;
      spec.count = 8;
      const faults::FaultSet more = faults::Sample(spec, ev.sites(), ev.model(), ev.design(), f.seed * 7919 + 1000 + i);
      set.hw.insert(set.hw.end(), more.hw.begin(), more.hw.end());
    }
    const std::string work = (fs::path(f.out) / fmt::format("rtl_check_{}", i)).string();
    const std::string list = faults::FormatFaultList(set, ev.model(), ev.design());
    const faults::RtlCheckResult r = faults::CheckInRtl(ev, set, c, go, work);
    WriteFileOrThrow((fs::path(work) / "faults.txt").string(), list);
    std::cout << fmt::format("rtl check {}: {} {} fault(s) ({}): RTL == fault model on {} of {} vectors ({} mismatches); "
                             "{} vectors differ from the fault-free model; verilator build {:.1f} s\n",
                             i, set.size(), i % kinds.size() == 5 ? "mixed" : faults::ToString(k.level), i % kinds.size() == 5 ? "register + adder" : k.level == faults::Level::kWeight ? f.weight_kind : k.adder_kind,
                             r.passed, r.passed + r.failed, r.failed, r.differ_from_clean, r.build_seconds);
    bad += r.failed > 0 ? 1 : 0;
    total_diff += r.differ_from_clean;
  }
  std::cout << fmt::format("rtl check: {} of {} faulty designs bit-exact against the fault model\n", f.rtl_check - bad, f.rtl_check);
  return bad == 0 ? 0 : 1;
}

// ---- the language model (docs/faults.md, "The language model")

nlohmann::ordered_json LmPointJson(const faults::LmPoint& p, const faults::LmQuality& clean) {
  std::vector<double> ce, acc, ch;
  for (const auto& q : p.samples) ce.push_back(q.cross_entropy), acc.push_back(q.accuracy), ch.push_back(q.changed);
  faults::Point tmp;
  auto band = [&](const std::vector<double>& v) {
    return nlohmann::ordered_json{{"median", tmp.Quantile(v, 0.5)}, {"p10", tmp.Quantile(v, 0.1)}, {"p90", tmp.Quantile(v, 0.9)}};
  };
  double mean_ce = 0;
  for (double c : ce) mean_ce += c / std::max<size_t>(1, ce.size());
  return {{"level", faults::ToString(p.level)}, {"unit", p.unit.empty() ? "all" : p.unit}, {"rate", p.rate}, {"count", p.count},
          {"mean_faults", p.mean_faults}, {"samples", p.samples.size()}, {"cross_entropy", band(ce)},
          {"mean_cross_entropy_increase", mean_ce - clean.cross_entropy}, {"accuracy", band(acc)}, {"changed", band(ch)},
          {"cross_entropy_per_sample", ce}, {"accuracy_per_sample", acc}, {"changed_per_sample", ch}};
}

std::string LmPointLine(const faults::LmPoint& p) {
  std::vector<double> ce, acc, ch;
  for (const auto& q : p.samples) ce.push_back(q.cross_entropy), acc.push_back(q.accuracy), ch.push_back(q.changed);
  faults::Point tmp;
  return fmt::format("  {:<8} {:<19} {:>9} {:>9.1f} faults  CE median {:.4f} [10 % {:.4f}, 90 % {:.4f}]  next-token {}  generated changed {}",
                     faults::ToString(p.level), p.unit.empty() ? "all" : p.unit,
                     p.count >= 0 ? fmt::format("n={}", p.count) : fmt::format("{:g}", p.rate), p.mean_faults, tmp.Quantile(ce, 0.5),
                     tmp.Quantile(ce, 0.1), tmp.Quantile(ce, 0.9), Pct(tmp.Quantile(acc, 0.5)), Pct(tmp.Quantile(ch, 0.5)));
}

std::string LmCsv(const std::vector<faults::LmPoint>& ps) {
  std::string s = "level,unit,rate,count,mean_faults,samples,ce_median,ce_p10,ce_p90,ce_mean,acc_median,acc_p10,acc_p90,changed_median,changed_p10,changed_p90\n";
  faults::Point tmp;
  for (const auto& p : ps) {
    std::vector<double> ce, acc, ch;
    double mean = 0;
    for (const auto& q : p.samples) ce.push_back(q.cross_entropy), acc.push_back(q.accuracy), ch.push_back(q.changed), mean += q.cross_entropy;
    mean /= std::max<size_t>(1, p.samples.size());
    s += fmt::format("{},{},{},{},{:.3f},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f}\n", faults::ToString(p.level),
                     p.unit.empty() ? "all" : p.unit, p.rate, p.count, p.mean_faults, p.samples.size(), tmp.Quantile(ce, 0.5), tmp.Quantile(ce, 0.1),
                     tmp.Quantile(ce, 0.9), mean, tmp.Quantile(acc, 0.5), tmp.Quantile(acc, 0.1), tmp.Quantile(acc, 0.9), tmp.Quantile(ch, 0.5),
                     tmp.Quantile(ch, 0.1), tmp.Quantile(ch, 0.9));
  }
  return s;
}

int RunLm(const Flags& f) {
  const auto t_start = std::chrono::steady_clock::now();
  std::cout << std::unitbuf;
  for (const auto* r : {&f.weight_rates, &f.adder_rates, &f.register_rates, &f.memory_rates, &f.table_rates})
    CheckRates(*r, "--rates");
  if (f.rate != -1 && !(f.rate >= 0 && f.rate <= 1))
    throw Error(Location{"", "", "--rate"}, fmt::format("fault rate {} is outside [0, 1]", f.rate));
  if (f.text.empty())
    throw Error(Location{"", "", "--text"},
                "a language model is measured on a held-out text: give --text FILE (examples/tiny_lm/corpus.py --heldout prints it)");
  const model::LmModel m = model::LoadLmModel(f.model);
  const std::vector<int> ids = reference::Encode(m, ReadFileOrThrow(f.text, "text file"), f.text);
  const size_t w = static_cast<size_t>(m.context) + 1;
  std::vector<std::vector<int>> windows;
  for (size_t i = 0; i + w <= ids.size() && static_cast<int>(windows.size()) < f.windows; i += w) windows.emplace_back(ids.begin() + i, ids.begin() + i + w);
  if (static_cast<int>(windows.size()) < f.windows)
    throw Error(Location{f.text, "", "--windows"}, fmt::format("the text holds {} windows of {} characters, {} asked", windows.size(), w, f.windows));
  passes::lm::LmLowerOptions lo;
  lo.adders_per_stage = f.k_given ? f.adders_per_stage : 4;
  const hw::ir2::Graph g = passes::lm::LowerLmModel(m, lo);
  const auto t_eval = std::chrono::steady_clock::now();
  const faults::LmEvaluator ev(m, g, windows, f.prompt_length);
  const double eval_seconds = Since(t_eval);
  const faults::LmQuality clean = ev.clean();
  const faults::LmQuality ref = ev.Score(ev.RunReference(m));
  const faults::LmSites& s = ev.sites();
  std::cout << fmt::format("language model {}: S = {} streams, K = {}; {} weights, {} adder output bits, {} register bits ({} carrying the stream "
                           "slot, not modelled), {} per-stream state bits, {} table bits\n",
                           f.model, g.streams, lo.adders_per_stage, s.weights.size(), s.adder_bits.size(), s.register_bits.size(),
                           s.registers_excluded, s.StateBits(), s.table_bits.size());
  std::cout << fmt::format("held-out: {} windows of {} characters as streams 0..{} ({} teacher-forced positions; generation from {}-character "
                           "prompts); one fault-free evaluation {:.2f} s\n",
                           windows.size(), w, windows.size() - 1, windows.size() * m.context, f.prompt_length, eval_seconds);
  std::cout << fmt::format("fault-free: cross-entropy {:.4f} nats/char, next-token accuracy {} (interpreter of the RTL; the C++ reference: "
                           "{:.4f}, {}, generated tokens differing {})\n",
                           clean.cross_entropy, Pct(clean.accuracy), ref.cross_entropy, Pct(ref.accuracy), Pct(ref.changed));
  if (ref.cross_entropy != clean.cross_entropy || ref.accuracy != clean.accuracy || ref.changed != 0)
    throw InternalError("the fault-free interpreter of the LM graph differs from the C++ reference");
  const int samples = f.samples_given ? f.samples : 8;
  if (!f.fault_list.empty()) {
    const faults::FaultSet set = faults::ParseLmFaultList(ReadFileOrThrow(f.fault_list, "fault list"), f.fault_list, ev.graphs());
    const faults::LmQuality q = ev.Evaluate(set);
    std::cout << fmt::format("{}: {} fault(s): cross-entropy {:.4f} (+{:.4f}), next-token accuracy {}, generated tokens changed {}\n", f.fault_list,
                             set.size(), q.cross_entropy, q.cross_entropy - clean.cross_entropy, Pct(q.accuracy), Pct(q.changed));
    if (f.rtl_check > 0) {
      const faults::LmRtlCheck r = faults::CheckLmInRtl(ev, set, (fs::path(f.out) / "rtl_check_list").string());
      std::cout << fmt::format("rtl check: RTL == fault model on {} of {} slots ({} mismatches); {} tokens differ from fault-free; build {:.1f} s\n",
                               r.passed, r.passed + r.failed, r.failed, r.tokens_changed, r.build_seconds);
      return r.failed == 0 ? 0 : 1;
    }
    return 0;
  }
  if (f.rtl_check > 0) {
    // One design per hardware level, a handful of faults each, so that outputs change.
    struct Kind {
      faults::Level level;
      long count;
    };
    const std::vector<Kind> kinds = {{faults::Level::kAdder, 20}, {faults::Level::kMemory, 400}, {faults::Level::kTable, 20},
                                     {faults::Level::kRegister, 20}};
    int bad = 0;
    for (int i = 0; i < f.rtl_check; ++i) {
      const Kind& k = kinds[i % kinds.size()];
      faults::FaultSet set = faults::SampleLm(ev, k.level, "", 0, k.count, f.seed * 7919 + i);
      if (i % kinds.size() == 0) {  // the first design mixes stuck adder bits and stuck flip-flops
        const faults::FaultSet regs = faults::SampleLm(ev, faults::Level::kRegister, "", 0, 20, f.seed * 7919 + 1000 + i);
        set.hw.insert(set.hw.end(), regs.hw.begin(), regs.hw.end());
      }
      // Stuck memory cells are moved to the evaluated streams (the others are never read in the check); a cell
      // that two draws fold onto is kept once.
      if (k.level == faults::Level::kMemory) {
        std::set<std::tuple<int, int, int, int>> seen;
        std::vector<faults::HwFault> kept;
        for (faults::HwFault h : set.hw) {
          h.stream %= static_cast<int>(windows.size());
          if (seen.insert({h.node, h.stream, h.lane, h.bit}).second) kept.push_back(h);
        }
        set.hw = kept;
      }
      faults::CheckHwFaults(set.hw, ev.graphs(), "rtl check");
      const std::string work = (fs::path(f.out) / fmt::format("rtl_check_{}", i)).string();
      const faults::LmRtlCheck r = faults::CheckLmInRtl(ev, set, work);
      WriteFileOrThrow((fs::path(work) / "faults.txt").string(), faults::FormatLmHwFaults(set.hw, ev.graphs()));
      const faults::LmQuality q = ev.Evaluate(set);
      std::cout << fmt::format("rtl check {}: {} {} fault(s): RTL == fault model on {} of {} slots ({} mismatches); {} tokens differ from the "
                               "fault-free model (CE {:.4f}); verilator build {:.1f} s, simulation {:.1f} s\n",
                               i, set.size(), i % kinds.size() == 0 ? "adder + register" : faults::ToString(k.level), r.passed, r.passed + r.failed, r.failed, r.tokens_changed, q.cross_entropy,
                               r.build_seconds, r.sim_seconds);
      bad += r.failed > 0 || r.passed == 0 ? 1 : 0;
    }
    std::cout << fmt::format("rtl check: {} of {} faulty designs bit-exact against the fault model\n", f.rtl_check - bad, f.rtl_check);
    return bad == 0 ? 0 : 1;
  }
  if (!f.level.empty()) {
    if (f.rate < 0 && f.count < 0) throw Error(Location{"", "", "--rate"}, "give --rate R or --count N with --level");
    const faults::LmPoint p = faults::RunLmPoint(ev, faults::ParseLevel(f.level), f.layer, f.rate < 0 ? 0 : f.rate, f.count, samples, f.seed, f.threads);
    std::cout << LmPointLine(p) << fmt::format("  [{:.1f} s]\n", Since(t_start));
    return 0;
  }
  if (f.ablate) {
    for (const faults::LmAblationRow& r : faults::AblateLm(ev, f.threads, f.ablate_neurons))
      std::cout << fmt::format("  {:<28} CE {:.4f} (+{:.4f})  next-token {}  generated changed {}\n", r.unit, r.quality.cross_entropy,
                               r.quality.cross_entropy - clean.cross_entropy, Pct(r.quality.accuracy), Pct(r.quality.changed));
    return 0;
  }
  // ---- the study
  fs::create_directories(f.out);
  nlohmann::ordered_json j;
  j["model"] = f.model;
  j["text"] = f.text;
  j["windows"] = windows.size();
  j["prompt_length"] = f.prompt_length;
  j["streams"] = g.streams;
  j["adders_per_stage"] = lo.adders_per_stage;
  j["fault_free"] = {{"cross_entropy", clean.cross_entropy}, {"accuracy", clean.accuracy}};
  j["sites"] = {{"weights", s.weights.size()}, {"adder_output_bits", s.adder_bits.size()}, {"register_bits", s.register_bits.size()},
                {"register_bits_not_modelled", s.registers_excluded}, {"state_bits", s.StateBits()}, {"table_bits", s.table_bits.size()}};
  j["samples_per_point"] = samples;
  j["seed"] = f.seed;
  const std::vector<std::pair<faults::Level, std::vector<double>>> rates = {{faults::Level::kWeight, f.weight_rates},
                                                                            {faults::Level::kAdder, f.adder_rates},
                                                                            {faults::Level::kRegister, f.register_rates},
                                                                            {faults::Level::kMemory, f.memory_rates},
                                                                            {faults::Level::kTable, f.table_rates}};
  std::vector<faults::LmPoint> curves, per_unit;
  std::cout << "curves (whole model):\n";
  for (const auto& lr : rates)
    for (double r : lr.second) {
      curves.push_back(faults::RunLmPoint(ev, lr.first, "", r, -1, samples, f.seed, f.threads));
      std::cout << LmPointLine(curves.back()) << fmt::format("  [{:.0f} s]\n", Since(t_start));
    }
  // Per unit: the same number of faults confined to one unit at a time (per defect, which unit hurts most).
  const std::vector<std::pair<faults::Level, long>> unit_counts = {{faults::Level::kWeight, 50}, {faults::Level::kAdder, 10},
                                                                   {faults::Level::kRegister, 10}, {faults::Level::kMemory, 1000},
                                                                   {faults::Level::kTable, 10}};
  std::cout << "per unit (the same count of faults confined to one unit):\n";
  for (const auto& lc : unit_counts)
    for (const std::string& u : s.units) {
      if (u == "control" && lc.first == faults::Level::kWeight) continue;
      // skip units without sites of this level
      bool any = false;
      if (lc.first == faults::Level::kWeight) for (size_t i = 0; i < s.weights.size() && !any; ++i) any = s.units[s.weight_unit[i]] == u;
      if (lc.first == faults::Level::kAdder) for (const auto& b : s.adder_bits) if (!any) any = s.units[b.unit] == u;
      if (lc.first == faults::Level::kRegister) for (const auto& b : s.register_bits) if (!any) any = s.units[b.unit] == u;
      if (lc.first == faults::Level::kTable) for (const auto& b : s.table_bits) if (!any) any = s.units[b.unit] == u;
      if (lc.first == faults::Level::kMemory) for (const auto& b : s.state_bits) if (!any) any = s.units[b.unit] == u;
      if (!any) continue;
      per_unit.push_back(faults::RunLmPoint(ev, lc.first, u, 0, lc.second, samples, f.seed, f.threads));
      std::cout << LmPointLine(per_unit.back()) << fmt::format("  [{:.0f} s]\n", Since(t_start));
    }
  std::cout << "ablation (worst cross-entropy first):\n";
  const std::vector<faults::LmAblationRow> ablation = faults::AblateLm(ev, f.threads, f.ablate_neurons);
  std::string ab_csv = "unit,cross_entropy,ce_increase,accuracy,changed\n";
  std::string ab_md = "| unit | cross-entropy (nats/char) | increase | next-token accuracy | generated tokens changed |\n|---|---:|---:|---:|---:|\n";
  nlohmann::ordered_json ja = nlohmann::ordered_json::array();
  for (size_t i = 0; i < ablation.size(); ++i) {
    const auto& r = ablation[i];
    ab_csv += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f}\n", r.unit, r.quality.cross_entropy, r.quality.cross_entropy - clean.cross_entropy,
                          r.quality.accuracy, r.quality.changed);
    ab_md += fmt::format("| {} | {:.4f} | {:+.4f} | {} | {} |\n", r.unit, r.quality.cross_entropy, r.quality.cross_entropy - clean.cross_entropy,
                         Pct(r.quality.accuracy), Pct(r.quality.changed));
    ja.push_back({{"unit", r.unit}, {"cross_entropy", r.quality.cross_entropy}, {"accuracy", r.quality.accuracy}, {"changed", r.quality.changed}});
    if (i < 12)
      std::cout << fmt::format("  {:<28} CE {:.4f} (+{:.4f})  next-token {}  generated changed {}\n", r.unit, r.quality.cross_entropy,
                               r.quality.cross_entropy - clean.cross_entropy, Pct(r.quality.accuracy), Pct(r.quality.changed));
  }
  nlohmann::ordered_json jc = nlohmann::ordered_json::array(), ju = nlohmann::ordered_json::array();
  for (const auto& p : curves) jc.push_back(LmPointJson(p, clean));
  for (const auto& p : per_unit) ju.push_back(LmPointJson(p, clean));
  j["curves"] = jc;
  j["per_unit"] = ju;
  j["ablation"] = ja;
  const double seconds = Since(t_start);
  j["seconds"] = seconds;
  WriteFileOrThrow((fs::path(f.out) / "faults_lm.json").string(), j.dump(1) + "\n");
  WriteFileOrThrow((fs::path(f.out) / "lm_curves.csv").string(), LmCsv(curves));
  WriteFileOrThrow((fs::path(f.out) / "lm_per_unit.csv").string(), LmCsv(per_unit));
  WriteFileOrThrow((fs::path(f.out) / "lm_ablation.csv").string(), ab_csv);
  WriteFileOrThrow((fs::path(f.out) / "lm_ablation.md").string(), ab_md);
  std::cout << fmt::format("study: {:.1f} s; wrote {}/faults_lm.json, lm_curves.csv, lm_per_unit.csv, lm_ablation.csv/.md\n", seconds, f.out);
  if (!f.no_plots) {
    const std::string cmd = fmt::format("/usr/bin/python3 {}/scripts/plot_faults.py --lm {}", HW_SOURCE_DIR, cosim::ShellQuote(f.out));
    std::string log;
    if (cosim::RunCommand(cmd, &log, false) != 0) std::cout << "warning: plots not written:\n" << log;
    else std::cout << log;
  }
  return 0;
}

int Run(const Flags& f) {
  if (model::IsGraphManifest(f.model)) return RunLm(f);
  const auto t_start = std::chrono::steady_clock::now();
  std::cout << std::unitbuf;  // progress lines appear as they are computed, also when redirected
  CheckRates(f.weight_rates, "--weight-rates");
  CheckRates(f.adder_rates, "--adder-rates");
  CheckRates(f.register_rates, "--register-rates");
  if (f.rate != -1 && !(f.rate >= 0 && f.rate <= 1))
    throw Error(Location{"", "", "--rate"}, fmt::format("fault rate {} is outside [0, 1]", f.rate));
  if (f.samples < 1) throw Error(Location{"", "", "--samples"}, "must be at least 1");
  const model::Model m = LoadAnyModel(f.model);
  driver::GenerateOptions go;
  go.lower = f.arith.Resolve(m);
  go.threads = 1;
  // The fault machinery reads the IR v2 layer graphs (the default); their RTL is the one the faults are injected
  // into and checked against.
  go.adders_per_stage = f.adders_per_stage;
  const driver::CompiledDesign c = driver::Compile(m, go);
  reference::Batch x;
  std::vector<int64_t> labels;
  std::string data_what;
  LoadData(m, f.model, f.images, &x, &labels, &data_what);
  const faults::Evaluator ev(m, c.graphs, x, labels);
  const faults::Quality clean = ev.Evaluate({});
  const faults::Sites& sites = ev.sites();
  std::cout << fmt::format("model {}: {} weights, {} adders ({} output bits), {} register bits; data: {}\n", f.model,
                           sites.weights.size(), sites.adders.size(), sites.adder_bits.size(), sites.register_bits.size(),
                           data_what);
  if (ev.labelled()) std::cout << fmt::format("fault-free accuracy: {}\n", Pct(clean.accuracy));
  faults::StudyOptions so;
  so.samples = f.samples, so.seed = f.seed, so.threads = f.threads, so.adder_kind = f.adder_kind, so.weight_kind = f.weight_kind;

  if (!f.fault_list.empty()) {
    const faults::FaultSet set = faults::ReadFaultList(f.fault_list, m, c.graphs);
    if (!set.weights.empty() && !set.hw.empty())
      throw Error(Location{f.fault_list, "", ""},
                  "lists both weight faults and hardware faults; hardware faults name nodes of the fault-free design, "
                  "which a faulty weight changes: put them in separate lists");
    const faults::Quality q = ev.Evaluate(set);
    std::cout << fmt::format("{}: {} fault(s): accuracy {}, outputs changed {}\n", f.fault_list, set.size(), Pct(q.accuracy),
                             Pct(q.changed));
    if (f.rtl_check > 0) {
      const faults::RtlCheckResult r = faults::CheckInRtl(ev, set, c, go, (fs::path(f.out) / "rtl_check_list").string());
      std::cout << fmt::format("rtl check: RTL == fault model on {} of {} vectors ({} mismatches); {} differ from fault-free\n",
                               r.passed, r.passed + r.failed, r.failed, r.differ_from_clean);
      return r.failed == 0 ? 0 : 1;
    }
    return 0;
  }
  if (f.rtl_check > 0) return RunRtlCheck(f, ev, c, go);
  if (!f.level.empty()) {
    if (f.rate < 0 && f.count < 0) throw Error(Location{"", "", "--rate"}, "give --rate R or --count N with --level");
    const faults::Point p = faults::RunPoint(ev, faults::ParseLevel(f.level), f.layer, f.rate < 0 ? 0 : f.rate, f.count, so);
    PrintPoint(p, ev.labelled());
    return 0;
  }
  if (f.ablate) {
    for (const faults::AblationRow& r : faults::Ablate(ev, f.threads))
      std::cout << fmt::format("  {:<24} accuracy {:>8}  loss {:>8}  changed {:>8}\n", r.unit, Pct(r.quality.accuracy),
                               ev.labelled() ? fmt::format("{:.2f} pp", 100 * (clean.accuracy - r.quality.accuracy)) : "n/a",
                               Pct(r.quality.changed));
    return 0;
  }

  // ---- the study
  fs::create_directories(f.out);
  nlohmann::ordered_json j;
  j["model"] = f.model;
  j["data"] = data_what;
  j["fault_free_accuracy"] = clean.accuracy;
  j["sites"] = {{"weights", sites.weights.size()}, {"adders", sites.adders.size()},
                {"adder_output_bits", sites.adder_bits.size()}, {"register_bits", sites.register_bits.size()}};
  j["samples_per_point"] = f.samples;
  j["seed"] = f.seed;
  j["adder_kind"] = f.adder_kind;
  j["weight_kind"] = f.weight_kind;
  const std::map<faults::Level, std::vector<double>> rates = {
      {faults::Level::kWeight, f.weight_rates}, {faults::Level::kAdder, f.adder_rates}, {faults::Level::kRegister, f.register_rates}};
  std::vector<faults::Point> curves, per_layer;
  std::cout << "curves (whole model):\n";
  for (const auto& [level, rs] : rates)
    for (double r : rs) {
      curves.push_back(faults::RunPoint(ev, level, "", r, -1, so));
      PrintPoint(curves.back(), ev.labelled());
    }
  std::cout << fmt::format("  [{:.1f} s]\nper-layer sensitivity (faults confined to one layer):\n", Since(t_start));
  for (const auto& [level, rs] : rates)
    for (const std::string& layer : LayersWithSites(ev, level))
      for (double r : rs) {
        per_layer.push_back(faults::RunPoint(ev, level, layer, r, -1, so));
        PrintPoint(per_layer.back(), ev.labelled());
      }
  // One defect per die, confined to a layer: the expected damage of a single defect there.
  std::cout << fmt::format("  [{:.1f} s]\none defect, by layer ({} dies each): mean accuracy loss, share of dies losing > 1 pp\n",
                           Since(t_start), 2 * f.samples);
  nlohmann::ordered_json single = nlohmann::ordered_json::array();
  std::string single_csv = "level,layer,dies,mean_loss_pp,share_over_1pp,mean_changed\n";
  for (faults::Level level : {faults::Level::kWeight, faults::Level::kAdder, faults::Level::kRegister})
    for (const std::string& layer : LayersWithSites(ev, level)) {
      faults::StudyOptions s1 = so;
      s1.samples = 2 * f.samples;
      const faults::Point p = faults::RunPoint(ev, level, layer, 0, 1, s1);
      double loss = 0, changed = 0;
      int over = 0;
      for (size_t i = 0; i < p.accuracy.size(); ++i) {
        const double l = ev.labelled() ? clean.accuracy - p.accuracy[i] : p.changed[i];
        loss += l, changed += p.changed[i], over += l > 0.01 ? 1 : 0;
      }
      const double n = static_cast<double>(p.accuracy.size());
      std::cout << fmt::format("  {:<8} {:<7} mean loss {:>6.3f} pp   losing > 1 pp: {:>5.1f} %   outputs changed {:>6.3f} %\n",
                               faults::ToString(level), layer, 100 * loss / n, 100 * over / n, 100 * changed / n);
      single.push_back({{"level", faults::ToString(level)}, {"layer", layer}, {"dies", p.accuracy.size()},
                        {"mean_loss", loss / n}, {"share_over_1pp", over / n}, {"mean_changed", changed / n}});
      single_csv += fmt::format("{},{},{},{:.4f},{:.4f},{:.6f}\n", faults::ToString(level), layer, p.accuracy.size(),
                                100 * loss / n, over / n, changed / n);
    }
  std::cout << fmt::format("  [{:.1f} s]\nadder defects by count (stuck-at output bits, uniformly placed):\n", Since(t_start));
  std::vector<faults::Point> tolerance;
  long tolerated = 0, tolerated_p10 = 0;  // largest count of the doubling series still within 1 pp (median / 10 %)
  for (long k : {1L, 2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L}) {
    faults::StudyOptions st = so;
    st.adder_kind = "stuck";
    tolerance.push_back(faults::RunPoint(ev, faults::Level::kAdder, "", 0, k, st));
    const faults::Point& p = tolerance.back();
    PrintPoint(p, ev.labelled());
    if (ev.labelled() && clean.accuracy - p.Quantile(p.accuracy, 0.5) <= 0.01 && tolerated == k / 2) tolerated = k;
    if (ev.labelled() && clean.accuracy - p.Quantile(p.accuracy, 0.1) <= 0.01 && tolerated_p10 == k / 2) tolerated_p10 = k;
  }
  // Yield: a die is good when it loses at most floor_loss percentage points of accuracy.
  const double floor = ev.labelled() ? clean.accuracy - f.floor_loss / 100 : 1.0 - f.floor_loss / 100;
  std::cout << fmt::format("  [{:.1f} s]\nyield (Poisson point defects on adder output bits and flip-flops; good = accuracy >= {}):\n",
                           Since(t_start), Pct(floor));
  std::vector<faults::YieldPoint> yields;
  for (double lambda : {0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 100.0}) {
    faults::StudyOptions sy = so;
    sy.samples = 2 * f.samples;
    yields.push_back(faults::RunYield(ev, lambda, floor, sy));
    const faults::YieldPoint& y = yields.back();
    std::cout << fmt::format("  lambda {:>6g} defects/die: {:>3} of {} dies good ({:.1f} %)  [Poisson(lambda)=0: {:.1f} %]\n", y.lambda,
                             y.good, y.dies, 100.0 * y.good / y.dies, 100.0 * std::exp(-y.lambda));
  }
  std::cout << fmt::format("  [{:.1f} s]\nablation (most harmful first):\n", Since(t_start));
  const std::vector<faults::AblationRow> ablation = faults::Ablate(ev, f.threads);
  std::string ab_csv = "unit,layer,neuron,accuracy,loss_pp,changed\n";
  std::string ab_md = "| unit | accuracy | loss (pp) | outputs changed |\n|---|---:|---:|---:|\n";
  for (size_t i = 0; i < ablation.size(); ++i) {
    const faults::AblationRow& r = ablation[i];
    const double loss = ev.labelled() ? 100 * (clean.accuracy - r.quality.accuracy) : 0;
    ab_csv += fmt::format("{},{},{},{:.6f},{:.3f},{:.6f}\n", r.unit, r.layer, r.neuron, r.quality.accuracy, loss, r.quality.changed);
    ab_md += fmt::format("| {} | {} | {:.2f} | {} |\n", r.unit, Pct(r.quality.accuracy), loss, Pct(r.quality.changed));
    if (i < 10) std::cout << fmt::format("  {:<24} accuracy {:>8}  loss {:>6.2f} pp  changed {:>8}\n", r.unit, Pct(r.quality.accuracy), loss, Pct(r.quality.changed));
  }
  nlohmann::ordered_json jc = nlohmann::ordered_json::array(), jl = nlohmann::ordered_json::array(),
                         jt = nlohmann::ordered_json::array(), jy = nlohmann::ordered_json::array(),
                         ja = nlohmann::ordered_json::array();
  for (const auto& p : curves) jc.push_back(PointJson(p));
  for (const auto& p : per_layer) jl.push_back(PointJson(p));
  for (const auto& p : tolerance) jt.push_back(PointJson(p));
  std::string y_csv = "lambda,dies,good,yield,mean_defects,poisson_zero\n";
  for (const auto& y : yields) {
    jy.push_back({{"lambda", y.lambda}, {"dies", y.dies}, {"good", y.good}, {"yield", double(y.good) / y.dies},
                  {"mean_defects", y.mean_defects}, {"poisson_zero_defects", std::exp(-y.lambda)}});
    y_csv += fmt::format("{},{},{},{:.4f},{:.3f},{:.4f}\n", y.lambda, y.dies, y.good, double(y.good) / y.dies, y.mean_defects,
                         std::exp(-y.lambda));
  }
  for (const auto& r : ablation)
    ja.push_back({{"unit", r.unit}, {"layer", r.layer}, {"neuron", r.neuron}, {"accuracy", r.quality.accuracy},
                  {"changed", r.quality.changed}});
  j["curves"] = jc;
  j["per_layer"] = jl;
  j["adder_count_sweep"] = jt;
  j["single_defect"] = single;
  j["adder_defects_tolerated_at_1pp"] = {{"median", tolerated}, {"p10", tolerated_p10}};
  j["yield"] = {{"floor_accuracy", floor}, {"floor_loss_pp", f.floor_loss},
                {"assumptions", "dies carry Poisson(lambda) point defects in the datapath; each defect is one stuck-at-0 or "
                                "stuck-at-1 (equally likely) on a uniformly drawn adder output bit or pipeline flip-flop; "
                                "defects in clock, reset, control or I/O are not modelled (they need chip-level redundancy)"},
                {"points", jy}};
  j["ablation"] = ja;
  const double seconds = Since(t_start);
  j["seconds"] = seconds;
  WriteFileOrThrow((fs::path(f.out) / "faults.json").string(), j.dump(1) + "\n");
  WriteFileOrThrow((fs::path(f.out) / "curves.csv").string(), PointsCsv(curves));
  WriteFileOrThrow((fs::path(f.out) / "per_layer.csv").string(), PointsCsv(per_layer));
  WriteFileOrThrow((fs::path(f.out) / "adder_count.csv").string(), PointsCsv(tolerance));
  WriteFileOrThrow((fs::path(f.out) / "single_defect.csv").string(), single_csv);
  WriteFileOrThrow((fs::path(f.out) / "yield.csv").string(), y_csv);
  WriteFileOrThrow((fs::path(f.out) / "ablation.csv").string(), ab_csv);
  WriteFileOrThrow((fs::path(f.out) / "ablation.md").string(), ab_md);
  if (ev.labelled())
    std::cout << fmt::format("adder defects tolerated at <= 1 pp accuracy loss: {} (median die), {} (9 dies in 10)\n",
                             tolerated, tolerated_p10);
  std::cout << fmt::format("study: {:.1f} s; wrote {}/faults.json, curves.csv, per_layer.csv, adder_count.csv, single_defect.csv, yield.csv, ablation.csv/.md\n",
                           seconds, f.out);
  if (!f.no_plots) {
    const std::string cmd = fmt::format("/usr/bin/python3 {}/scripts/plot_faults.py {}", HW_SOURCE_DIR, cosim::ShellQuote(f.out));
    std::string log;
    if (cosim::RunCommand(cmd, &log, false) != 0)
      std::cout << "warning: plots not written (needs python3-matplotlib: scripts/setup.sh installs it):\n" << log;
    else
      std::cout << log;
  }
  return 0;
}

}  // namespace

void AddFaults(CLI::App& app, Registry& r) {
  auto f = std::make_shared<Flags>();
  f->weight_rates = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0};
  f->adder_rates = {1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2};
  f->register_rates = {1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2};
  f->memory_rates = {1e-7, 1e-6, 1e-5, 1e-4, 1e-3};
  f->table_rates = {1e-5, 1e-4, 1e-3, 1e-2, 3e-2};
  CLI::App* sub = app.add_subcommand("faults", "Inject faults (weights, adders, registers) and measure quality; ablation");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  sub->add_option("-o,--out", f->out, "output directory of the study (JSON, CSV, PNG)")->default_val("out/faults");
  sub->add_option("--fault-list", f->fault_list, "evaluate the faults listed in this file (docs/faults.md)");
  sub->add_option("--level", f->level, "one point: weight, adder or register");
  sub->add_option("--rate", f->rate, "one point: fault probability per site, in [0, 1]");
  sub->add_option("--count", f->count, "one point: exactly this many faulty sites");
  sub->add_option("--layer", f->layer, "one point: confine faults to this layer");
  sub->add_option("--adder-kind", f->adder_kind, "stuck (per output bit) or drop (per adder)")->default_val("stuck");
  sub->add_option("--weight-kind", f->weight_kind, "mix, zero, flip, digit-remove, digit-add")->default_val("mix");
  sub->add_option("--samples", f->samples, "random fault sets per point")->default_val(50);
  sub->add_option("--seed", f->seed, "seed of the fault draws")->default_val(1);
  sub->add_option("--threads", f->threads, "evaluation threads")->default_val(1);
  sub->add_option("--images", f->images, "use the first N test images (default all)");
  sub->add_option("--weight-rates", f->weight_rates, "study: rates of the weight curve")->delimiter(',');
  sub->add_option("--adder-rates", f->adder_rates, "study: rates of the adder curve")->delimiter(',');
  sub->add_option("--register-rates", f->register_rates, "study: rates of the register curve")->delimiter(',');
  sub->add_option("--floor-loss", f->floor_loss, "yield: accuracy a good die may lose, in percentage points")->default_val(1.0);
  sub->add_flag("--ablate", f->ablate, "print the ablation table (neurons and layers zeroed)");
  sub->add_option("--rtl-check", f->rtl_check, "build N faulty designs in Verilator and compare with the fault model");
  sub->add_option("--adders-per-stage,-K", f->adders_per_stage, "pipeline: a register rank after every K adder levels")
      ->default_val(1);
  sub->add_flag("--no-plots", f->no_plots, "do not run scripts/plot_faults.py");
  // The language model (a graph manifest): held-out text, windows as streams, memory and table levels.
  sub->add_option("--text", f->text, "language model: held-out text (examples/tiny_lm/corpus.py --heldout)");
  sub->add_option("--windows", f->windows, "language model: windows of context+1 characters, one stream each")->default_val(32);
  sub->add_option("--prompt-length", f->prompt_length, "language model: characters of each window given as the prompt")->default_val(16);
  sub->add_option("--memory-rates", f->memory_rates, "language model study: rates of the memory (per-stream state) curve")->delimiter(',');
  sub->add_option("--table-rates", f->table_rates, "language model study: rates of the lookup-table curve")->delimiter(',');
  sub->add_flag("--ablate-neurons", f->ablate_neurons, "language model: also ablate every MLP neuron");
  f->arith.AddTo(sub);
  r.push_back({sub, [f, sub]() {
                 f->samples_given = sub->count("--samples") > 0;
                 f->k_given = sub->count("--adders-per-stage") > 0;
                 if (model::IsGraphManifest(f->model)) {  // the language model's own default rates
                   if (sub->count("--weight-rates") == 0) f->weight_rates = {1e-4, 1e-3, 3e-3, 1e-2, 3e-2};
                   if (sub->count("--adder-rates") == 0) f->adder_rates = {1e-6, 1e-5, 3e-5, 1e-4, 1e-3};
                   if (sub->count("--register-rates") == 0) f->register_rates = {1e-6, 1e-5, 3e-5, 1e-4, 1e-3};
                 }
                 return Run(*f);
               }});
}

}  // namespace hw::cli
