// CMVM optimizer benchmark.
//
// Reproduces the published random-matrix protocol (da4ml / H_cmvm): N x N matrices with entries uniform in
// [129, 255], N in {4, 8, 12, 16, 24, 32}, a seeded number of trials per N, unconstrained and minimum-depth
// modes. One line per (N, mode): mean adders, mean output depth, mean optimisation time per matrix, and the
// CSD-tree baseline (BuildCsdTrees) adders. Then Gaussian-like int8 layers (round(N(0, sigma)) clipped to
// [-128, 127]): a 128 x 784 matrix (time target) and Fashion-MNIST-like 64 x 784 / 64 x 196 layers.
//
// Then the layer-scale protocol of issue 12: uniform random full-range matrices (16 x 16 int8, 64 x 64 int4,
// 128 x 49 / 98 / 196 int8; with --large also 128 x 392, 128 x 784, 512 x 512, 1024 x 256 int8), inputs signed
// 8-bit, unconstrained and minimum-depth, with adders, adder bits, depth and CPU time per matrix, and da4ml
// v0.6.0's published figures (issue 12) as the reference row with the ratio. bench/cmvm_vs_da4ml.py runs da4ml
// itself on the same kind of matrices.
//
// Then, if the shipped model exists, one line per dense layer of it (shape, CSD-tree adders, optimized adders
// unconstrained and min-depth, saving, time).
//
// Usage: cmvm_bench [--trials T] [--large-trials T] [--sizes 4,8,16] [--seed S] [--no-layers] [--per-trial]
//                   [--model PATH/model.json] [--no-model] [--effort E] [--no-protocol] [--protocol-only]
//                   [--large] [--min-plus K]
//        cmvm_bench --matrix-file FILE [--mode unconstrained|min|min+K] [--effort E] [--input-range LO HI]
//                   [--block-pairs P]
//   --trials T        trials per N for N <= 16 (default 20); N >= 24 uses max(1, T / 4) unless
//   --large-trials T  is given.
//   --model PATH      model manifest (default HW_SOURCE_DIR/weights/fashion_mlp/model.json; skipped with a
//                     message if it does not exist).
//   --effort E        CmvmOptions::effort for every solve (default 1).
//   --no-protocol / --protocol-only   skip / run only the layer-scale protocol; --large adds its big sizes;
//   --min-plus K      also report the min+K mode in the layer-scale protocol.
//   --matrix-file F   solve one matrix (text: "rows cols" then rows x cols integers, row = output) and print
//                     one JSON line: adders, adder_bits, depth, min_depth, csd_trees, cpu_s, wall_s, peak_rss_mb,
//                     checked (ReconstructMatrix == W and Evaluate == W x on random and extreme vectors).
//                     Exit status 1 if a check fails. Used by bench/cmvm_vs_da4ml.py.
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
#include <fstream>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include <sys/resource.h>

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
  double bits = 0;  // AdderWidthSum
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
  if (opt.depth_mode == DepthMode::kMinimumPlusK &&
      hw::arith::OutputDepth(g) > hw::arith::MinimumDepth(w) + opt.extra_depth) {
    std::fprintf(stderr, "FATAL: depth constraint violated\n");
    std::exit(1);
  }
  m.adders = g.adders.size();
  m.bits = hw::arith::AdderWidthSum(g, opt.input_ranges);
  m.depth = hw::arith::OutputDepth(g);
  m.baseline = hw::arith::BuildCsdTrees(w).adders.size();
  return m;
}

const char* ModeName(DepthMode m) {
  return m == DepthMode::kUnconstrained ? "unconstrained" : m == DepthMode::kMinimum ? "min-depth" : "min+k";
}

double PeakRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// --matrix-file mode: one matrix from a text file, one JSON line out.
int SolveMatrixFile(const std::string& path, const CmvmOptions& opt_in, int64_t in_lo, int64_t in_hi) {
  std::ifstream f(path);
  IntMatrix w;
  if (!(f >> w.rows >> w.cols) || w.rows <= 0 || w.cols <= 0) {
    std::fprintf(stderr, "%s: expected 'rows cols' then the entries\n", path.c_str());
    return 2;
  }
  w.w.resize(static_cast<size_t>(w.rows) * w.cols);
  for (auto& v : w.w)
    if (!(f >> v)) {
      std::fprintf(stderr, "%s: fewer than rows x cols entries\n", path.c_str());
      return 2;
    }
  CmvmOptions opt = opt_in;
  opt.input_ranges.assign(w.cols, hw::arith::InputRange{in_lo, in_hi});
  const double c0 = ThreadCpuMs();
  const auto t0 = std::chrono::steady_clock::now();
  const AdderGraph g = hw::arith::OptimizeCmvm(w, opt);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = (ThreadCpuMs() - c0) / 1e3;
  bool ok = hw::arith::Verify(g, w.rows).empty() && hw::arith::ReconstructMatrix(g, w.rows).w == w.w;
  // W x on 16 random vectors, all-min and all-max.
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int64_t> dist(in_lo, in_hi);
  for (int k = 0; k < 18 && ok; ++k) {
    std::vector<int64_t> x(w.cols);
    for (auto& v : x) v = k == 16 ? in_lo : k == 17 ? in_hi : dist(rng);
    const std::vector<int64_t> y = hw::arith::Evaluate(g, x);
    for (int r = 0; r < w.rows && ok; ++r) {
      int64_t s = 0;
      for (int c = 0; c < w.cols; ++c) s += w.at(r, c) * x[c];
      ok = y[r] == s;
    }
  }
  const int dmin = hw::arith::MinimumDepth(w);
  const int bound = opt.depth_mode == DepthMode::kMinimum        ? dmin
                    : opt.depth_mode == DepthMode::kMinimumPlusK ? dmin + opt.extra_depth
                                                                 : -1;
  if (bound >= 0 && hw::arith::OutputDepth(g) > bound) ok = false;
  std::printf("{\"rows\": %d, \"cols\": %d, \"adders\": %zu, \"adder_bits\": %.0f, \"depth\": %d, \"min_depth\": %d, "
              "\"csd_trees\": %zu, \"cpu_s\": %.4f, \"wall_s\": %.4f, \"peak_rss_mb\": %.1f, \"effort\": %d, "
              "\"checked\": %s}\n",
              w.rows, w.cols, g.adders.size(), hw::arith::AdderWidthSum(g, opt.input_ranges), hw::arith::OutputDepth(g),
              dmin, hw::arith::BuildCsdTrees(w).adders.size(), cpu, wall, PeakRssMb(), opt.effort, ok ? "true" : "false");
  return ok ? 0 : 1;
}

// The layer-scale protocol (issue 12). Reference: da4ml v0.6.0 as published in the issue (default cost
// settings, 2 threads, adders counted as here); negative = no published figure.
struct LayerCase {
  const char* name;
  int rows, cols;
  int64_t lo, hi;
  int trials;
  bool large;
  double da4ml_adders, da4ml_s;
};

void RunLayerProtocol(uint64_t seed, bool large, int effort, int min_plus, bool per_trial) {
  const LayerCase cases[] = {
      {"16x16 int8", 16, 16, -128, 127, 10, false, 356, 0.08},
      {"64x64 int4", 64, 64, -8, 7, 5, false, 2750, 3.2},
      {"128x49 int8", 128, 49, -128, 127, 3, false, -1, -1},
      {"128x98 int8", 128, 98, -128, 127, 2, false, -1, -1},
      {"128x196 int8", 128, 196, -128, 127, 1, false, 26395, 260},
      {"128x392 int8", 128, 392, -128, 127, 1, true, 50176, 1431},
      {"128x784 int8", 128, 784, -128, 127, 1, true, -1, -1},
      {"512x512 int8", 512, 512, -128, 127, 1, true, -1, -1},
      {"1024x256 int8", 1024, 256, -128, 127, 1, true, -1, -1},
  };
  std::printf("# layer-scale protocol (issue 12): uniform random full-range weights, inputs int8 [-128, 127], "
              "seed %llu, effort %d\n",
              static_cast<unsigned long long>(seed), effort);
  std::printf("# %-14s %-13s %6s %10s %12s %7s %10s %10s %8s\n", "matrix", "mode", "trials", "adders", "adder-bits",
              "depth", "cpu-s/mat", "csd-trees", "rss-MB");
  std::vector<std::pair<DepthMode, int>> modes = {{DepthMode::kUnconstrained, 0}, {DepthMode::kMinimum, 0}};
  if (min_plus > 0) modes.push_back({DepthMode::kMinimumPlusK, min_plus});
  for (const LayerCase& c : cases) {
    if (c.large && !large) continue;
    double unconstrained_adders = 0, unconstrained_s = 0;
    for (const auto& [mode, k] : modes) {
      std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(c.rows) * 7919 + static_cast<uint64_t>(c.cols));
      double adders = 0, bits = 0, depth = 0, cpu = 0, base = 0;
      for (int t = 0; t < c.trials; ++t) {
        const IntMatrix w = UniformMatrix(c.rows, c.cols, c.lo, c.hi, rng);
        CmvmOptions opt;
        opt.depth_mode = mode;
        opt.extra_depth = k;
        opt.effort = effort;
        opt.input_ranges.assign(c.cols, {-128, 127});
        const Measured m = Measure(w, opt);
        adders += m.adders, bits += m.bits, depth += m.depth, cpu += m.cpu_ms / 1e3, base += m.baseline;
        if (per_trial)
          std::printf("    trial %2d %-13s adders %7zu bits %9.0f depth %2d cpu %8.3f s\n", t, ModeName(mode), m.adders,
                      m.bits, m.depth, m.cpu_ms / 1e3);
      }
      const double n = c.trials;
      const std::string mode_name = mode == DepthMode::kMinimumPlusK ? "min+" + std::to_string(k) : ModeName(mode);
      std::printf("  %-14s %-13s %6d %10.1f %12.0f %7.2f %10.3f %10.1f %8.0f\n", c.name, mode_name.c_str(), c.trials,
                  adders / n, bits / n, depth / n, cpu / n, base / n, PeakRssMb());
      if (mode == DepthMode::kUnconstrained) unconstrained_adders = adders / n, unconstrained_s = cpu / n;
      std::fflush(stdout);
    }
    if (c.da4ml_adders > 0)
      std::printf("  %-14s %-13s %6s %10.1f %12s %7s %10.2f   -> hardwire/da4ml adders %.3f, time %.2g %%\n", c.name,
                  "da4ml-0.6.0", "ref", c.da4ml_adders, "-", "-", c.da4ml_s, unconstrained_adders / c.da4ml_adders,
                  100.0 * unconstrained_s / c.da4ml_s);
  }
}

int g_effort = 1;          // --effort, for every solve of the bench
double g_block_pairs = 0;  // --block-pairs (CmvmOptions::block_pairs), --matrix-file mode only

}  // namespace

// Reports one named matrix (e.g. a trained layer) in both modes. `ranges`: one input range per column, or empty
// (int8 default).
void ReportLayer(const std::string& name, const IntMatrix& w, const std::vector<hw::arith::InputRange>& ranges = {}) {
  for (DepthMode mode : {DepthMode::kUnconstrained, DepthMode::kMinimum}) {
    CmvmOptions opt;
    opt.depth_mode = mode;
    opt.input_ranges = ranges;
    opt.effort = g_effort;
    const Measured m = Measure(w, opt);
    std::printf("%-28s %-13s adders %8zu  bits %8.0f  depth %3d  cpu %8.1f ms  wall %8.1f ms  csd-trees %8zu  saving %5.1f %%\n",
                name.c_str(), ModeName(mode), m.adders, m.bits, m.depth, m.cpu_ms, m.ms, m.baseline,
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
  bool protocol = true, protocol_only = false, large = false;
  int min_plus = 0;
  std::string matrix_file, mode_name = "unconstrained";
  int64_t in_lo = -128, in_hi = 127;
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
    } else if (!std::strcmp(argv[i], "--effort")) {
      g_effort = std::atoi(next());
    } else if (!std::strcmp(argv[i], "--no-protocol")) {
      protocol = false;
    } else if (!std::strcmp(argv[i], "--protocol-only")) {
      protocol_only = true;
    } else if (!std::strcmp(argv[i], "--large")) {
      large = true;
    } else if (!std::strcmp(argv[i], "--min-plus")) {
      min_plus = std::atoi(next());
    } else if (!std::strcmp(argv[i], "--matrix-file")) {
      matrix_file = next();
    } else if (!std::strcmp(argv[i], "--block-pairs")) {
      g_block_pairs = std::atof(next());
    } else if (!std::strcmp(argv[i], "--mode")) {
      mode_name = next();
    } else if (!std::strcmp(argv[i], "--input-range")) {
      in_lo = std::strtoll(next(), nullptr, 10);
      in_hi = std::strtoll(next(), nullptr, 10);
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
                   "       [--model PATH/model.json] [--no-model] [--effort E] [--no-protocol] [--protocol-only]\n"
                   "       [--large] [--min-plus K]\n"
                   "   or: %s --matrix-file FILE [--mode unconstrained|min|min+K] [--effort E] [--input-range LO HI]\n"
                   "       [--block-pairs P]\n",
                   argv[0], argv[0]);
      return 2;
    }
  }
  if (large_trials < 0) large_trials = std::max(1, trials / 4);
  if (!matrix_file.empty()) {
    CmvmOptions opt;
    opt.effort = g_effort;
    opt.block_pairs = g_block_pairs;
    if (mode_name == "min") {
      opt.depth_mode = DepthMode::kMinimum;
    } else if (mode_name.rfind("min+", 0) == 0) {
      opt.depth_mode = DepthMode::kMinimumPlusK;
      opt.extra_depth = std::atoi(mode_name.c_str() + 4);
    } else if (mode_name != "unconstrained") {
      std::fprintf(stderr, "--mode: unconstrained, min or min+K\n");
      return 2;
    }
    return SolveMatrixFile(matrix_file, opt, in_lo, in_hi);
  }
  if (protocol_only) {
    RunLayerProtocol(seed, large, g_effort, min_plus, per_trial);
    return 0;
  }

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
        opt.effort = g_effort;
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
  if (protocol) RunLayerProtocol(seed, large, g_effort, min_plus, per_trial);
  if (!model_path.empty()) ReportModel(model_path);
  return 0;
}
