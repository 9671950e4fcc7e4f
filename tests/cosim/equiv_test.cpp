// Formal equivalence (yosys miter + temporal induction, generator/synth/equiv.h) of generated shift-add layer
// modules against the behavioral `y = W * x` modules, for random small layers under csd and cmvm arithmetic
// and several bit widths and pipeline depths; and proof that a corrupted netlist (a flipped adder sign, a
// changed shift) is caught.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <regex>

#include "common/file_util.h"
#include "driver/generate.h"
#include "model/random_model.h"
#include "synth/behavioral.h"
#include "synth/equiv.h"

namespace hw {
namespace {

namespace fs = std::filesystem;

struct Case {
  uint64_t seed;
  passes::ArithMode mode;
  int adders_per_stage;
  int max_weight_bits;
  int max_input_bits;
};

// A one- or two-layer random model; returns the compiled design.
driver::CompiledDesign CompileRandom(const Case& c, model::Model* m) {
  model::RandomModelSpec spec;
  spec.min_layers = 1, spec.max_layers = 1;
  spec.min_width = 2, spec.max_width = 5;
  spec.min_weight_bits = 2, spec.max_weight_bits = c.max_weight_bits;
  spec.max_input_bits = c.max_input_bits;
  spec.allow_argmax = false;
  *m = model::RandomModel(spec, c.seed);
  driver::GenerateOptions o;
  o.adders_per_stage = c.adders_per_stage;
  o.lower.arith.mode = c.mode;
  return driver::Compile(*m, o);
}

// Writes ours (optionally mutated) and the behavioral module for layer `li` and proves them equivalent.
synth::EquivResult Prove(const model::Model& m, const driver::CompiledDesign& c, size_t li, const fs::path& dir,
                         const std::function<std::string(const std::string&)>& mutate = {}) {
  fs::create_directories(dir);
  const hw::ir2::Graph& mod = c.design.ModuleOf(static_cast<int>(li)).graph;
  std::vector<std::string> gold;
  for (const auto& f : c.files)
    if (f.name == mod.name + ".v") {
      gold.push_back((dir / f.name).string());
      WriteFileOrThrow(gold.back(), mutate ? mutate(f.text) : f.text);
    }
  const auto& d = std::get<model::DenseLayer>(m.layers[li].op);
  synth::BehavioralOptions bo;
  bo.output_regs = mod.latency;
  const std::string bname = mod.name + "_behavioral";
  const std::string bpath = (dir / (bname + ".v")).string();
  WriteFileOrThrow(bpath, synth::EmitBehavioralDense(d, m.OutputType(static_cast<int>(li) - 1), bname, bo));
  synth::EquivJob job;
  job.work_dir = dir.string();
  job.gold_files = gold;
  job.gold_top = mod.name;
  job.gate_files = {bpath};
  job.gate_top = bname;
  job.latency = mod.latency;
  job.timeout_seconds = 300;
  return synth::ProveEquivalent(job);
}

const fs::path kWork = fs::path(HW_BINARY_DIR) / "equiv_test";

TEST(Equiv, GeneratedLayersEqualBehavioral) {
  const std::vector<Case> cases = {
      {11, passes::ArithMode::kCsd, 1, 4, 4},
      {12, passes::ArithMode::kCmvm, 1, 5, 3},
      {13, passes::ArithMode::kCmvm, 2, 8, 6},
      {14, passes::ArithMode::kCsd, 3, 6, 8},
  };
  int proofs = 0;
  for (const Case& cs : cases) {
    model::Model m;
    const driver::CompiledDesign c = CompileRandom(cs, &m);
    for (size_t li = 0; li < c.design.instances.size(); ++li) {
      const fs::path dir = kWork / fmt::format("seed{}_l{}", cs.seed, li);
      const synth::EquivResult r = Prove(m, c, li, dir);
      EXPECT_TRUE(r.proven) << "seed " << cs.seed << " layer " << li << ": " << r.message << " (log " << r.log_path << ")";
      proofs += r.proven;
    }
  }
  EXPECT_EQ(proofs, 4);
}

// Threshold layers (docs/semantics.md, dense with thresholds): the behavioral module counts comparisons; the
// generated one lowers them to shift-0 requant nodes and an adder tree. Equal and out-of-range thresholds included.
TEST(Equiv, ThresholdLayerEqualsBehavioral) {
  const Case cs{31, passes::ArithMode::kCmvm, 1, 4, 4};
  model::RandomModelSpec spec;
  spec.min_layers = 1, spec.max_layers = 1;
  spec.min_width = 2, spec.max_width = 4;
  spec.min_weight_bits = 2, spec.max_weight_bits = cs.max_weight_bits;
  spec.max_input_bits = cs.max_input_bits;
  spec.allow_argmax = false;
  model::Model m = model::RandomModel(spec, cs.seed);
  auto& d = std::get<model::DenseLayer>(m.layers[0].op);
  d.has_threshold = true;
  d.threshold_tensor = "t";
  d.clamp_hi = d.clamp_lo + 5;
  d.output.bits = std::max(d.output.bits, 4);
  if (d.clamp_hi > d.output.max()) d.clamp_lo = d.output.max() - 5, d.clamp_hi = d.output.max();
  d.threshold.clear();
  for (int o = 0; o < d.out; ++o)
    for (int64_t t : {int64_t{-1000}, int64_t{-3} * o, int64_t{0}, int64_t{0}, int64_t{7} + o}) d.threshold.push_back(t);
  std::fill(d.multiplier.begin(), d.multiplier.end(), 1), std::fill(d.shift.begin(), d.shift.end(), 0);
  driver::GenerateOptions o;
  o.lower.arith.mode = cs.mode;
  const driver::CompiledDesign c = driver::Compile(m, o);
  const synth::EquivResult r = Prove(m, c, 0, kWork / "threshold");
  EXPECT_TRUE(r.proven) << r.message << " (log " << r.log_path << ")";
}

// Flips the first subtraction/addition found in an adder assignment: `wire [..] n.. = a + b;`.
std::string FlipFirstAdder(const std::string& text, bool* changed) {
  static const std::regex re(R"((\n  wire \[\d+:0\] \w+ = [^;\n]*?) ([+-]) ([^;\n]*;))");
  std::smatch mt;
  if (!std::regex_search(text, mt, re)) return text;
  *changed = true;
  return mt.prefix().str() + mt[1].str() + (mt[2].str() == "+" ? " - " : " + ") + mt[3].str() + mt.suffix().str();
}

// Changes the first shift written as a zero-padding concatenation {a, N'h0} (Align's form of `a << N`).
std::string ChangeFirstShift(const std::string& text, bool* changed) {
  static const std::regex re(R"(, (\d+)'h0\})");
  std::smatch mt;
  if (!std::regex_search(text, mt, re)) return text;
  *changed = true;
  const int n = std::stoi(mt[1].str());
  return mt.prefix().str() + fmt::format(", {}'h0}}", n + 1) + mt.suffix().str();
}

TEST(Equiv, CorruptedNetlistFailsTheProof) {
  const Case cs{21, passes::ArithMode::kCmvm, 1, 6, 4};
  model::Model m;
  const driver::CompiledDesign c = CompileRandom(cs, &m);
  bool flipped = false;
  const synth::EquivResult a = Prove(m, c, 0, kWork / "corrupt_sign", [&](const std::string& t) { return FlipFirstAdder(t, &flipped); });
  ASSERT_TRUE(flipped) << "no adder found to corrupt";
  EXPECT_FALSE(a.proven) << "a flipped adder sign was not detected";
  EXPECT_TRUE(a.failed) << a.message;
  bool shifted = false;
  const synth::EquivResult b = Prove(m, c, 0, kWork / "corrupt_shift", [&](const std::string& t) { return ChangeFirstShift(t, &shifted); });
  if (shifted) {
    EXPECT_FALSE(b.proven) << "a changed shift was not detected";
  }
  // And the uncorrupted module of the same layer proves.
  EXPECT_TRUE(Prove(m, c, 0, kWork / "corrupt_none").proven);
}

}  // namespace
}  // namespace hw
