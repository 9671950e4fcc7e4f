// What faults do to a model's quality: evaluation of fault sets on a data set, rate sweeps per level and per
// layer, a yield estimate, and ablation of neurons and layers. Results are plain structs; faults/report.h
// writes them as JSON / CSV / Markdown.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "faults/faults.h"
#include "faults/interpreter.h"
#include "model/model.h"
#include "reference/reference.h"

namespace hw::faults {

struct Quality {
  double accuracy = -1;  // fraction of rows whose output equals the label; -1 without labels
  double changed = 0;    // fraction of rows whose output differs from the fault-free model's
};

// Evaluates fault sets on fixed inputs. Layers before the first faulty one are not recomputed (their
// fault-free outputs are cached), so faults confined to late layers cost little.
class Evaluator {
 public:
  // `d` are `m`'s layer graphs (driver::Compile's CompiledDesign::graphs). `labels` may be empty (then accuracy
  // is -1).
  Evaluator(const model::Model& m, const Graphs& d, reference::Batch x, std::vector<int64_t> labels);
  // Weight faults are evaluated with the reference on the faulty model, hardware faults with the interpreter
  // of the design; a set holding both is an error (hardware faults name nodes of the fault-free design).
  Quality Evaluate(const FaultSet& f) const;
  reference::Batch Outputs(const FaultSet& f) const;
  const reference::Batch& fault_free() const { return clean_.output(); }
  Quality Score(const reference::Batch& out) const;
  const model::Model& model() const { return m_; }
  const Graphs& design() const { return d_; }
  const Sites& sites() const { return sites_; }
  bool labelled() const { return !labels_.empty(); }
  const reference::Batch& inputs() const { return x_; }
  const std::vector<int64_t>& labels() const { return labels_; }

 private:
  const model::Model& m_;
  const Graphs& d_;
  reference::Batch x_;
  std::vector<int64_t> labels_;
  reference::Trace clean_;  // fault-free output of every layer
  Sites sites_;
};

// One point of a curve: `samples` random fault sets at one rate (or count), confined to one layer or not.
struct Point {
  Level level = Level::kAdder;
  std::string layer;   // "" = the whole model
  double rate = 0;     // per site; with count >= 0 the number of faults instead
  long count = -1;
  double mean_faults = 0;
  std::vector<double> accuracy;  // per sample
  std::vector<double> changed;
  double Quantile(const std::vector<double>& v, double q) const;
};

struct StudyOptions {
  int samples = 50;
  uint64_t seed = 1;
  int threads = 1;
  std::string adder_kind = "stuck";
  std::string weight_kind = "mix";
};

// Samples and evaluates one point. Sample i uses seed Mix(options.seed, level, layer, rate, i): points are
// independent of each other and of the thread count.
Point RunPoint(const Evaluator& ev, Level level, const std::string& layer, double rate, long count,
               const StudyOptions& o);

// Yield: dies with Poisson(lambda) point defects, each a stuck-at-0/1 on a uniformly drawn site among all
// adder output bits and register flip-flops (a defect is equally likely anywhere in the datapath's bits).
// A die is good when its accuracy is at least `floor`.
struct YieldPoint {
  double lambda = 0;   // mean defects per die in the datapath
  int dies = 0;
  int good = 0;
  double mean_defects = 0;
};
YieldPoint RunYield(const Evaluator& ev, double lambda, double floor, const StudyOptions& o);

// Ablation: each neuron of each dense layer (its weight row and bias zeroed, so it emits what a neuron with
// no input emits) and each dense layer's weights (bias kept).
struct AblationRow {
  std::string unit;  // "fc1 neuron 3", "fc1 (all weights)"
  std::string layer;
  int neuron = -1;   // -1: the whole layer
  Quality quality;
};
std::vector<AblationRow> Ablate(const Evaluator& ev, int threads);

}  // namespace hw::faults
