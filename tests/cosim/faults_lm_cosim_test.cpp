// The language model's fault model is true to the hardware: stuck adder bits, stuck flip-flops, stuck K/V cells
// (per-stream state) and stuck table entries injected into the emitted Verilog of a small random language model
// (faults/rtl_inject.h) give, in Verilator, every output of every slot the faulty bit-level interpreter predicts
// (faults/lm_study.h, CheckLmInRtl), on a schedule of teacher-forced windows and then generation. The faults must
// change some tokens, so an injection that did nothing could not pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "common/diag.h"
#include "faults/lm_study.h"
#include "model/lm_model_io.h"
#include "model/random_lm.h"
#include "passes/lower_lm.h"

namespace hw {
namespace {

namespace fs = std::filesystem;

TEST(FaultsLmCosim, InjectedRtlEqualsFaultyInterpreter) {
  const model::RandomLmFiles files = model::RandomLm(model::RandomLmSpec{}, 21);
  const model::LmModel m = model::ParseLmModel(files.manifest, "lm.json", model::SerializeSafetensors(files.tensors), "lm.safetensors");
  passes::lm::LmLowerOptions o;
  o.adders_per_stage = 2;
  const hw::ir2::Graph g = passes::lm::LowerLmModel(m, o);
  const int W = 3;
  std::mt19937_64 rng(4);
  std::vector<std::vector<int>> windows(W);
  for (auto& w : windows)
    for (int t = 0; t <= m.context; ++t) w.push_back(static_cast<int>(rng() % m.vocab_size()));
  const faults::LmEvaluator ev(m, g, windows, 3);
  faults::FaultSet f;
  for (uint64_t seed = 1; seed < 20; ++seed) {
    f = {};
    const std::vector<std::pair<faults::Level, long>> kinds = {
        {faults::Level::kAdder, 4}, {faults::Level::kRegister, 4}, {faults::Level::kMemory, 60}, {faults::Level::kTable, 4}};
    for (const auto& k : kinds) {
      faults::FaultSet s = faults::SampleLm(ev, k.first, "", 0, k.second, seed * 31 + static_cast<uint64_t>(k.first));
      for (faults::HwFault& h : s.hw)
        if (h.kind == faults::HwFault::Kind::kStuckState) h.stream %= W;  // cells of the streams that run
      f.hw.insert(f.hw.end(), s.hw.begin(), s.hw.end());
    }
    try {
      faults::CheckHwFaults(f.hw, ev.graphs(), "draw");
    } catch (const Error&) {
      continue;  // two memory draws folded onto one cell
    }
    if (ev.Evaluate(f).changed > 0) break;
  }
  const fs::path work = fs::path(HW_BINARY_DIR) / "test_out" / "faults_lm_cosim";
  const faults::LmRtlCheck r = faults::CheckLmInRtl(ev, f, work.string());
  EXPECT_EQ(r.failed, 0) << faults::FormatLmHwFaults(f.hw, ev.graphs());
  EXPECT_EQ(r.passed, 2L * W * m.context);
  EXPECT_GT(r.tokens_changed, 0);
}

}  // namespace
}  // namespace hw
