// CMVM optimizer benchmark.
//
// Reproduces the published random-matrix protocol (da4ml / H_cmvm): N x N matrices with entries uniform in
// [129, 255], N in {4, 8, 12, 16, 24, 32}, a seeded number of trials per N, unconstrained and minimum-depth
// modes. One line per (N, mode): mean adders, mean output depth, mean optimisation time per matrix, and the
// CSD-tree baseline (BuildCsdTrees) adders. Then Gaussian-like int8 layers (round(N(0, sigma)) clipped to
// [-128, 127]): a 128 x 784 matrix (time target) and Fashion-MNIST-like 64 x 784 / 64 x 196 layers.
//
// Then, if the shipped model exists, one line per dense layer of it (shape, CSD-tree adders, optimized adders
// unconstrained and min-depth, saving, time).
//
// Usage: cmvm_bench [--trials T] [--large-trials T] [--sizes 4,8,16] [--seed S] [--no-layers] [--per-trial]
//                   [--model PATH/model.json] [--no-model]
//   --trials T        trials per N for N <= 16 (default 20); N >= 24 uses max(1, T / 4) unless
//   --large-trials T  is given.
//   --model PATH      model manifest (default HW_SOURCE_DIR/weights/fashion_mlp/model.json; skipped with a
//                     message if it does not exist).
//
// Times: "cpu" is the CPU time of the optimising thread (CLOCK_THREAD_CPUTIME_ID), "wall" the elapsed time;
// on a shared machine only the CPU time is meaningful. Every graph is checked with ReconstructMatrix before its
// numbers are used.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "arith/adder_graph.h"
#include "arith/cmvm.h"
#include "model/model.h"
#include "model/model_io.h"

using hw::arith::AdderGraph;
using hw::arith::CmvmOptions;
using hw::arith::DepthMode;
using hw::arith::IntMatrix;

namespace {

IntMatrix UniformMatrix(int rows, int cols, int64_t lo, int64_t hi, std::mt19937_64& rng) {
  IntMatrix m{rows, cols, std::vector<int64_t>(static_cast<size_t>(rows) * cols)};
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (auto& v : m.w) v = dist(rng);
  return m;
}

IntMatrix GaussianInt8Matrix(int rows, int cols, double sigma, std::mt19937_64& rng) {
  IntMatrix m{rows, cols, std::vector<int64_t>(static_cast<size_t>(rows) * cols)};
  std::normal_distribution<double> dist(0.0, sigma);
  for (auto& v : m.w) v = std::clamp<int64_t>(std::llround(dist(rng)), -128, 127);
  return m;
}

struct Measured {
  size_t adders = 0;
  int depth = 0;
  double ms = 0;      // wall
  double cpu_ms = 0;  // CPU time of this thread
  size_t baseline = 0;
};

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e3 * static_cast<double>(ts.tv_sec) + 1e-6 * static_cast<double>(ts.tv_nsec);
}

Measured Measure(const IntMatrix& w, const CmvmOptions& opt) {
  Measured m;
  const double c0 = ThreadCpuMs();
  const auto t0 = std::chrono::steady_clock::now();
  AdderGraph g = hw::arith::OptimizeCmvm(w, opt);
  const auto t1 = std::chrono::steady_clock::now();
  m.cpu_ms = ThreadCpuMs() - c0;
  m.ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  if (hw::arith::ReconstructMatrix(g, w.rows).w != w.w) {
    std::fprintf(stderr, "FATAL: optimized graph does not reproduce the matrix\n");
    std::exit(1);
  }
  if (opt.depth_mode == DepthMode::kMinimum && hw::arith::OutputDepth(g) > hw::arith::MinimumDepth(w)) {
    std::fprintf(stderr, "FATAL: depth constraint violated\n");
    std::exit(1);
  }
  m.adders = g.adders.size();
  m.depth = hw::arith::OutputDepth(g);
  m.baseline = hw::arith::BuildCsdTrees(w).adders.size();
  return m;
}

const char* ModeName(DepthMode m) { return m == DepthMode::kUnconstrained ? "unconstrained" : "min-depth"; }

}  // namespace

// Reports one named matrix (e.g. a trained layer) in both modes. `ranges`: one input range per column, or empty
// (int8 default).
void ReportLayer(const std::string& name, const IntMatrix& w, const std::vector<hw::arith::InputRange>& ranges = {}) {
  for (DepthMode mode : {DepthMode::kUnconstrained, DepthMode::kMinimum}) {
    CmvmOptions opt;
    opt.depth_mode = mode;
    opt.input_ranges = ranges;
    const Measured m = Measure(w, opt);
    std::printf("%-28s %-13s adders %8zu  depth %3d  cpu %8.1f ms  wall %8.1f ms  csd-trees %8zu  saving %5.1f %%\n",
                name.c_str(), ModeName(mode), m.adders, m.depth, m.cpu_ms, m.ms, m.baseline,
                100.0 * (1.0 - static_cast<double>(m.adders) / static_cast<double>(m.baseline)));
    std::fflush(stdout);
  }
}

// One ReportLayer per dense layer of a model manifest; the layer's input type gives the width cost ranges.
void ReportModel(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    std::printf("# model %s not found: skipping the per-layer lines\n", path.c_str());
    return;
  }
  hw::model::Model model;
  try {
    model = hw::model::LoadModel(path);
  } catch (const std::exception& e) {
    std::printf("# model %s could not be loaded, skipping the per-layer lines: %s\n", path.c_str(), e.what());
    return;
  }
  std::printf("# model %s (%s)\n", path.c_str(), model.name.c_str());
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const auto* d = std::get_if<hw::model::DenseLayer>(&model.layers[i].op);
    if (d == nullptr) continue;
    const hw::model::IntType in = model.OutputType(static_cast<int>(i) - 1);
    const std::vector<hw::arith::InputRange> ranges(d->weight.cols, hw::arith::InputRange{in.min(), in.max()});
    const std::string name = model.layers[i].name + " " + std::to_string(d->weight.rows) + "x" +
                             std::to_string(d->weight.cols) + " w" + std::to_string(d->weight_bits);
    ReportLayer(name, d->weight, ranges);
  }
}

int main(int argc, char** argv) {
  int trials = 20, large_trials = -1;
  bool per_trial = false;
  uint64_t seed = 2025;
  bool layers = true;
  std::string model_path;
#ifdef HW_SOURCE_DIR
  model_path = std::string(HW_SOURCE_DIR) + "/weights/fashion_mlp/model.json";
#endif
  std::vector<int> sizes = {4, 8, 12, 16, 24, 32};
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--trials")) {
      trials = std::atoi(next());
    } else if (!std::strcmp(argv[i], "--large-trials")) {
      large_trials = std::atoi(next());
    } else if (!std::strcmp(argv[i], "--seed")) {
      seed = std::strtoull(next(), nullptr, 10);
    } else if (!std::strcmp(argv[i], "--per-trial")) {
      per_trial = true;
    } else if (!std::strcmp(argv[i], "--no-layers")) {
      layers = false;
    } else if (!std::strcmp(argv[i], "--model")) {
      model_path = next();
    } else if (!std::strcmp(argv[i], "--no-model")) {
      model_path.clear();
    } else if (!std::strcmp(argv[i], "--sizes")) {
      sizes.clear();
      std::string s = next();
      size_t p = 0;
      while (p < s.size()) {
        size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        sizes.push_back(std::atoi(s.substr(p, q - p).c_str()));
        p = q + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: %s [--trials T] [--large-trials T] [--sizes 4,8,16] [--seed S] [--no-layers] [--per-trial]\n"
                   "       [--model PATH/model.json] [--no-model]\n",
                   argv[0]);
      return 2;
    }
  }
  if (large_trials < 0) large_trials = std::max(1, trials / 4);

  std::printf("# random N x N, entries uniform in [129, 255]; seed %llu\n", static_cast<unsigned long long>(seed));
  std::printf("# %-4s %-13s %6s %10s %8s %12s %12s %10s\n", "N", "mode", "trials", "adders", "depth", "cpu-ms/mat",
              "wall-ms/mat", "csd-trees");
  for (int n : sizes) {
    const int t = n <= 16 ? trials : large_trials;
    for (DepthMode mode : {DepthMode::kUnconstrained, DepthMode::kMinimum}) {
      std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(n));  // same matrices for both modes
      double adders = 0, depth = 0, ms = 0, cpu = 0, base = 0;
      for (int k = 0; k < t; ++k) {
        const IntMatrix w = UniformMatrix(n, n, 129, 255, rng);
        CmvmOptions opt;
        opt.depth_mode = mode;
        opt.input_ranges.assign(n, {0, 255});
        const Measured m = Measure(w, opt);
        adders += m.adders;
        depth += m.depth;
        ms += m.ms;
        cpu += m.cpu_ms;
        base += m.baseline;
        if (per_trial)
          std::printf("    trial %2d %-13s adders %5zu depth %2d min-depth %2d cpu %7.2f ms\n", k, ModeName(mode),
                      m.adders, m.depth, hw::arith::MinimumDepth(w), m.cpu_ms);
      }
      std::printf("  %-4d %-13s %6d %10.2f %8.2f %12.2f %12.2f %10.1f\n", n, ModeName(mode), t, adders / t,
                  depth / t, cpu / t, ms / t, base / t);
      std::fflush(stdout);
    }
  }
  if (layers) {
    std::printf("# Gaussian-like int8 layers: round(N(0, 30)) clipped to [-128, 127]\n");
    std::mt19937_64 rng(seed);
    ReportLayer("gauss-int8 128x784", GaussianInt8Matrix(128, 784, 30.0, rng));
    ReportLayer("fmnist-like 64x784", GaussianInt8Matrix(64, 784, 30.0, rng));
    ReportLayer("fmnist-like 64x196", GaussianInt8Matrix(64, 196, 30.0, rng));
  }
  if (!model_path.empty()) ReportModel(model_path);
  return 0;
}
