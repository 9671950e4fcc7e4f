// The dense chain lowered to IR v2 (passes/lower_layer_ir2.h): every layer graph, after the whole IR v2 pass
// pipeline, interpreted by the IR v2 interpreter equals the reference layer by layer; and it costs what the
// IR v1 lowering costs (the same adder graphs, the same latency).
#include "passes/lower_layer_ir2.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "cosim/cosim.h"
#include "driver/generate.h"
#include "ir2/interpreter.h"
#include "ir2/text.h"
#include "ir2/verify.h"
#include "model/random_model.h"
#include "passes/ir2_passes.h"
#include "reference/reference.h"

namespace hw::passes {
namespace {

struct Variant {
  ArithChoice choice;
  int k;
};

std::vector<Variant> Variants() {
  std::vector<Variant> v;
  for (int k = 1; k <= 3; ++k) {
    ArithChoice csd, cmvm, mindepth;
    csd.mode = ArithMode::kCsd;
    mindepth.depth = arith::DepthMode::kMinimum;
    v.push_back({csd, k});
    v.push_back({cmvm, k});
    v.push_back({mindepth, k});
  }
  return v;
}

TEST(LowerLayerIr2, InterpretedLayersEqualTheReference) {
  int models = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    model::Model m = model::RandomModel(model::RandomModelSpec{}, seed);
    if (seed % 3 == 0) model::UseRandomThresholds(m, 0, seed);
    const reference::Batch x = cosim::RandomInputs(m, 40, seed);
    const reference::Trace t = reference::Run(m, x);
    for (const Variant& v : Variants()) {
      ++models;
      for (int i = 0; i < static_cast<int>(m.layers.size()); ++i) {
        hw::ir2::Graph g = LowerLayerToIr2(m, i, v.choice);
        hw::passes::ir2::PassOptions po;
        po.adders_per_stage = v.k;
        hw::passes::ir2::PassManager(hw::passes::ir2::DefaultPipeline(), po).Run(g);
        ASSERT_TRUE(hw::ir2::Verify(g, hw::ir2::VerifyLevel::kScheduled).empty()) << g.name;
        hw::ir2::Interpreter in(g);
        const reference::Batch& layer_in = i == 0 ? x : t.layers[i - 1];
        for (Eigen::Index r = 0; r < x.rows(); ++r) {
          std::vector<int64_t> row(layer_in.row(r).data(), layer_in.row(r).data() + layer_in.cols());
          const std::vector<int64_t> y = in.Step(row);
          ASSERT_EQ(static_cast<Eigen::Index>(y.size()), t.layers[i].cols()) << g.name;
          for (size_t o = 0; o < y.size(); ++o)
            ASSERT_EQ(y[o], t.layers[i](r, static_cast<Eigen::Index>(o)))
                << g.name << " K=" << v.k << " vector " << r << " output " << o << "\n" << hw::ir2::Dump(g);
        }
      }
    }
  }
  EXPECT_EQ(models, 24 * 9);
}

// The same adder graphs and the same schedule rule as IR v1: equal adders and latency; flip-flops within the
// delay lines that `sink` may shorten (never more than IR v1's).
TEST(LowerLayerIr2, CostsWhatIrV1Costs) {
  long v1_bits = 0, v2_bits = 0, th_v1 = 0, th_v2 = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    model::Model m = model::RandomModel(model::RandomModelSpec{}, seed);
    if (seed % 3 == 0) model::UseRandomThresholds(m, 0, seed);
    for (const Variant& v : Variants()) {
      driver::GenerateOptions o;
      o.adders_per_stage = v.k;
      o.lower.arith = v.choice;
      o.threads = 1;
      const driver::CompiledIrV1 a = driver::CompileIrV1(m, o);
      const driver::CompiledDesign b = driver::Compile(m, o);
      SCOPED_TRACE(m.name + " K=" + std::to_string(v.k) + " " + ToString(v.choice.mode));
      EXPECT_EQ(b.stats.total.adders, a.stats.total.adders);
      // A threshold layer whose count starts at 0 needs no final adder in IR v2 (one level less); a power-of-two M
      // folds into the requant's shift.
      EXPECT_LE(b.stats.total.latency, a.stats.total.latency);
      if (seed % 3 != 0) {
        EXPECT_LE(b.stats.total.register_bits, a.stats.total.register_bits);
      } else {
        th_v1 += a.stats.total.register_bits;
        th_v2 += b.stats.total.register_bits;
      }
      v1_bits += a.stats.total.register_bits;
      v2_bits += b.stats.total.register_bits;
    }
  }
  // Threshold layers: the pipeline one level shorter places some registers at wider points; a few designs
  // get more flip-flops, the total does not.
  EXPECT_LE(th_v2, th_v1);
  std::printf("pipeline register bits over 270 random designs: IR v1 %ld, IR v2 %ld (threshold models: %ld, %ld)\n", v1_bits,
              v2_bits, th_v1, th_v2);
}

}  // namespace
}  // namespace hw::passes
