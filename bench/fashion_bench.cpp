// Fashion-MNIST targets (issue 3), measured in one run so the ratios are comparable on a noisy machine:
//   - integer (reference) accuracy on the 10,000 test images >= 85 %, RTL identical on all of them
//   - Verilator build of the generated design <= 60 s (fresh build directory, ccache off)
//   - Verilator simulation >= 20,000 images/s
//   - `generate` (load + compile + write) <= 2 s
// With --study it also builds alternative RTL/flag variants to show what drives Verilator build time.
//
//   build/bench/fashion_bench [--model weights/fashion_mlp/model.json] [--study]
// It also times the compile step alone (lower + passes + emit, in memory).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "cosim/cosim.h"
#include "data/fashion_preprocess.h"
#include "data/idx.h"
#include "driver/generate.h"
#include "model/model_io.h"
#include "reference/reference.h"

namespace fs = std::filesystem;
using namespace hw;

namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Variant {
  std::string label;
  int k = 1;
  passes::ArithMode arith = passes::ArithMode::kCmvm;
  std::string opt_fast = "-O1";
  bool split = true;
};

}  // namespace

int main(int argc, char** argv) {
  std::string model_path = std::string(HW_SOURCE_DIR) + "/weights/fashion_mlp/model.json";
  bool study = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model_path = argv[++i];
    else if (a == "--study") study = true;
    else {
      std::cerr << "usage: fashion_bench [--model PATH] [--study]\n";
      return 2;
    }
  }
  try {
    setenv("CCACHE_DISABLE", "1", 1);  // honest build times: nothing reused from earlier builds
    const fs::path work = fs::temp_directory_path() / fmt::format("hw_fashion_bench_{}", ::getpid());
    fs::remove_all(work);

    // generate
    auto t0 = std::chrono::steady_clock::now();
    const model::Model m = model::LoadModel(model_path);
    driver::GenerateOptions go;
    driver::CompiledDesign c = driver::Compile(m, go);
    driver::WriteOutputDir(c.files, (work / "rtl").string());
    const double gen_s = Since(t0);

    // test set (or, for a model without a training record, random vectors) + reference
    const std::string weights_dir = fs::path(model_path).parent_path().string();
    const bool labelled = fs::exists(fs::path(weights_dir) / "training.json");
    data::LabeledImages test;
    reference::Batch x;
    if (labelled) {
      const std::string pre = data::ReadPreprocessName(weights_dir);
      test = data::ReadFashionMnist("t10k");
      x.resize(test.images.count, m.input_length);
      for (int i = 0; i < test.images.count; ++i) {
        const auto v = data::FashionPreprocess(pre, test.images.image(i));
        for (int k = 0; k < m.input_length; ++k) x(i, k) = v[k];
      }
    } else {
      x = cosim::RandomInputs(m, 10000, 1);
    }
    const long count = x.rows();
    t0 = std::chrono::steady_clock::now();
    const reference::Trace t = reference::Run(m, x);
    const double ref_s = Since(t0);
    long ref_ok = 0;
    if (labelled)
      for (int i = 0; i < count; ++i) ref_ok += t.output()(i, 0) == test.labels[i];

    // Verilator build + simulation
    cosim::BuildOptions bo;
    bo.rtl_dir = (work / "rtl").string();
    bo.build_dir = (work / "sim").string();
    const cosim::BuildResult b = cosim::BuildSimulator(bo);
    cosim::RunOptions ro;
    ro.echo = false;
    const cosim::RunResult r = cosim::RunSimulation(b, bo.rtl_dir, x, t.output(), ro);
    long rtl_ok = 0;
    if (labelled)
      for (int i = 0; i < count; ++i) rtl_ok += r.outputs.at(i).at(0) == test.labels[i];

    auto line = [](const std::string& what, const std::string& value, const std::string& target, bool ok) {
      std::cout << fmt::format("{:<34} {:>16}   target {:<12} {}\n", what, value, target, ok ? "met" : "MISSED");
    };
    std::cout << fmt::format("model {}: {} adders, {} registers ({} flip-flops), latency {} clocks\n", model_path,
                             c.stats.total.adders, c.stats.total.registers, c.stats.total.register_bits, hw::ir2::Latency(c.design));
    if (labelled) {
      line("integer accuracy (reference)", fmt::format("{:.2f} %", 100.0 * ref_ok / count), ">= 85 %", ref_ok * 100 >= 85L * count);
      line("accuracy (RTL)", fmt::format("{:.2f} %", 100.0 * rtl_ok / count), "= reference", rtl_ok == ref_ok);
    }
    line(fmt::format("RTL == reference ({} vectors)", count), fmt::format("{} failed", r.failed), "0 failed",
         r.failed == 0 && r.passed == count);
    line("verilator build (fresh, no ccache)", fmt::format("{:.1f} s", b.seconds), "<= 60 s", b.seconds <= 60);
    line("simulation throughput", fmt::format("{:.0f} img/s", r.vectors_per_second), ">= 20000", r.vectors_per_second >= 20000);
    line("generate (load+compile+write)", fmt::format("{:.2f} s", gen_s), "<= 2 s", gen_s <= 2);
    std::cout << fmt::format("(reference forward pass on {} vectors: {:.3f} s)\n", count, ref_s);
    {
      // compile only (lower + passes + emit, in memory), median of 5
      std::vector<double> ts;
      for (int rep = 0; rep < 5; ++rep) {
        const auto t1 = std::chrono::steady_clock::now();
        driver::Compile(m, {});
        ts.push_back(Since(t1));
      }
      std::sort(ts.begin(), ts.end());
      std::cout << fmt::format("compile (median of 5): {:.3f} s\n", ts[2]);
    }

    if (study) {
      std::cout << "\nVerilator build-time study (fresh build dir each, ccache off):\n";
      std::cout << fmt::format("{:<40} {:>8} {:>10} {:>10} {:>12}\n", "variant", "adders", "registers", "build s", "img/s");
      const Variant variants[] = {
          {"default: cmvm, K=1, -O1, output-split", 1, passes::ArithMode::kCmvm, "-O1", true},
          {"cmvm, K=1, -Os (Verilator default)", 1, passes::ArithMode::kCmvm, "-Os", true},
          {"cmvm, K=1, -O2", 1, passes::ArithMode::kCmvm, "-O2", true},
          {"cmvm, K=1, -O1, no output-split", 1, passes::ArithMode::kCmvm, "-O1", false},
          {"cmvm, K=2", 2, passes::ArithMode::kCmvm, "-O1", true},
          {"cmvm, K=4", 4, passes::ArithMode::kCmvm, "-O1", true},
          {"csd trees, K=1", 1, passes::ArithMode::kCsd, "-O1", true},
      };
      int n = 0;
      for (const Variant& v : variants) {
        driver::GenerateOptions o;
        o.adders_per_stage = v.k;
        o.lower.arith.mode = v.arith;
        const driver::CompiledDesign cv = driver::Compile(m, o);
        const fs::path dir = work / fmt::format("v{}", n++);
        driver::WriteOutputDir(cv.files, (dir / "rtl").string());
        cosim::BuildOptions vb;
        vb.rtl_dir = (dir / "rtl").string();
        vb.build_dir = (dir / "sim").string();
        vb.opt_fast = v.opt_fast;
        vb.output_split = v.split;
        const cosim::BuildResult bv = cosim::BuildSimulator(vb);
        const cosim::RunResult rv = cosim::RunSimulation(bv, vb.rtl_dir, x, t.output(), ro);
        std::cout << fmt::format("{:<40} {:>8} {:>10} {:>10.1f} {:>12.0f}{}\n", v.label, cv.stats.total.adders,
                                 cv.stats.total.registers, bv.seconds, rv.vectors_per_second,
                                 rv.failed ? fmt::format("  ({} MISMATCHES)", rv.failed) : "");
        fs::remove_all(dir);
      }
    }
    fs::remove_all(work);
    return r.failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
