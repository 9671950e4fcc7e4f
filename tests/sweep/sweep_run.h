// One model of the random-model sweep (docs/hardening.md), shared by the sweep tests (label "sweep" for the
// full >= 200 models, label "cosim" for a CI-sized slice) and bench/sweep.cpp. No gtest here.
//
// Model `index` is RandomModel(SweepSpec(index), base_seed + index): written to disk and loaded back through
// the validating loader, compiled with K = 1..3 adder levels per stage and the CSD / CMVM / CMVM-minimum-depth
// arithmetic (cycling with the index), built with Verilator and co-simulated against the C++ reference on
// random inputs whose first vectors are all-minimum, all-maximum and alternating. `clock_ns` > 0 schedules by that
// clock target (the fpga delay model) instead of K.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "cosim/cosim.h"
#include "driver/generate.h"
#include "model/model_io.h"
#include "model/random_model.h"
#include "reference/reference.h"

namespace hw::sweep {

struct SweepResult {
  std::string name;
  std::string category;
  int input_length = 0;
  int layers = 0;
  long passed = 0;
  long failed = 0;
  int exit_code = -1;
  double generate_seconds = 0, build_seconds = 0, total_seconds = 0;
  std::string log;  // harness output when something failed
  bool ok() const { return failed == 0 && exit_code == 0 && passed > 0; }
};

inline SweepResult RunSweepModel(int index, uint64_t base_seed, const std::filesystem::path& work_root, long vectors = 400,
                                 bool keep = false, double clock_ns = 0) {
  namespace fs = std::filesystem;
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  SweepResult r;
  const uint64_t seed = base_seed + static_cast<uint64_t>(index);
  const model::Model generated = model::RandomModel(model::SweepSpec(index), seed);
  r.name = generated.name;
  r.category = model::SweepCategory(index);
  const fs::path dir = work_root / (clock_ns > 0 ? generated.name + "_clocked" : generated.name);
  fs::remove_all(dir);
  model::WriteModel(generated, (dir / "model").string());
  const model::Model m = model::LoadModel((dir / "model" / "model.json").string());
  r.input_length = m.input_length;
  r.layers = static_cast<int>(m.layers.size());

  driver::GenerateOptions o;
  o.adders_per_stage = 1 + index % 3;
  const int mode = (index / 3) % 3;
  o.lower.arith.mode = mode == 0 ? passes::ArithMode::kCsd : passes::ArithMode::kCmvm;
  o.lower.arith.depth = mode == 2 ? arith::DepthMode::kMinimum : arith::DepthMode::kUnconstrained;
  o.clock_ns = clock_ns;
  const driver::CompiledDesign c = driver::Compile(m, o);
  const std::string rtl = (dir / "rtl").string();
  driver::WriteOutputDir(c.files, rtl);
  r.generate_seconds = since(t0);

  const reference::Batch x = cosim::RandomInputs(m, vectors, seed);
  const reference::Trace t = reference::Run(m, x);
  cosim::BuildOptions bo;
  bo.rtl_dir = rtl;
  const cosim::BuildResult b = cosim::BuildSimulator(bo);
  r.build_seconds = b.seconds;
  cosim::RunOptions ro;
  ro.echo = false;
  ro.stall_seed = index % 4 == 0 ? static_cast<long>(seed) : -1;  // every fourth model also stalls the clock enable
  const cosim::RunResult run = cosim::RunSimulation(b, rtl, x, t.output(), ro);
  r.passed = run.passed;
  r.failed = run.failed;
  r.exit_code = run.exit_code;
  if (!r.ok()) r.log = run.log;
  if (r.ok() && !keep) fs::remove_all(dir);  // Verilator build trees add up over hundreds of models
  r.total_seconds = since(t0);
  return r;
}

}  // namespace hw::sweep
