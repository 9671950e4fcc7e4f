// yosys flow plumbing: template instantiation, parsers of `stat -json` / `ltp` / CPU lines, the behavioral
// emitter, and one real (fast) word-level run on the tiny model with the behavioral comparison.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/diag.h"

#include "driver/generate.h"
#include "model/model_io.h"
#include "synth/behavioral.h"
#include "synth/synth_design.h"
#include "synth/yosys.h"

namespace hw {
namespace {

namespace fs = std::filesystem;

TEST(Synth, InstantiateFlowFillsPlaceholders) {
  const std::string s = synth::InstantiateFlow("{{READ}}\nhierarchy -top {{TOP}}\ntee -o {{STAT}} stat\n", "m",
                                               {"/a/b.v", "/c/d e.v"}, "/o/s.json");
  EXPECT_EQ(s, "read_verilog \"/a/b.v\"\nread_verilog \"/c/d e.v\"\nhierarchy -top m\ntee -o /o/s.json stat\n");
}

TEST(Synth, EveryShippedFlowHasThePlaceholders) {
  for (const std::string& f : synth::KnownFlows()) {
    const fs::path p = fs::path(synth::DefaultFlowsDir()) / (f + ".ys");
    ASSERT_TRUE(fs::exists(p)) << p;
    std::ifstream in(p);
    const std::string t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(t.find("{{READ}}"), std::string::npos) << f;
    EXPECT_NE(t.find("{{TOP}}"), std::string::npos) << f;
    EXPECT_NE(t.find("{{STAT}}"), std::string::npos) << f;
  }
}

TEST(Synth, ParsesStatJsonForEveryFlow) {
  synth::FlowResult w;
  w.flow = "word";
  synth::ParseStatJson(R"({"design": {"num_cells": 9, "num_cells_by_type": {"$add_10": 2, "$sub_7": 1,
      "$mul_12": 3, "$dffe_8": 4, "$lt_9": 1}}})", &w);
  EXPECT_EQ(w.cells, 9);
  EXPECT_EQ(w.adders, 3);
  EXPECT_EQ(w.adder_bits, 27);
  EXPECT_EQ(w.multipliers, 3);
  EXPECT_EQ(w.ff_bits, 32);
  synth::FlowResult x;
  x.flow = "xilinx";
  synth::ParseStatJson(R"({"design": {"num_cells": 20, "num_cells_by_type": {"LUT2": 5, "LUT6": 2, "INV": 1,
      "SRL16E": 3, "CARRY4": 4, "FDRE": 7, "MUXF7": 1}}})", &x);
  EXPECT_EQ(x.luts, 11);
  EXPECT_EQ(x.srls, 3);
  EXPECT_EQ(x.carry, 4);
  EXPECT_EQ(x.ff_bits, 7);
  EXPECT_EQ(x.muxes, 1);
  synth::FlowResult g;
  g.flow = "gate";
  synth::ParseStatJson(R"({"design": {"num_cells": 5, "num_cells_by_type": {"$_XOR_": 3, "$_DFFE_PP_": 2},
      "estimated_num_transistors": "360"}})", &g);
  EXPECT_EQ(g.transistors, 360);
  EXPECT_EQ(g.ff_bits, 2);
  EXPECT_EQ(synth::ParseLtpDepth("x\nLongest topological path in top (length=37):\n"), 37);
  EXPECT_EQ(synth::ParseLtpDepth("nothing"), -1);
  EXPECT_DOUBLE_EQ(synth::ParseCpuSeconds("End of script. Logfile hash: 1, CPU: user 1.50s system 0.25s, MEM"), 1.75);
}

TEST(Synth, BehavioralModuleShape) {
  model::DenseLayer d;
  d.in = 2, d.out = 1;
  d.weight = {1, 2, {3, -1}};
  d.bias = {4};
  d.multiplier = {5};
  d.shift = {2};
  d.output = {false, 4};
  d.clamp_lo = 0, d.clamp_hi = 15;
  synth::BehavioralOptions o;
  o.output_regs = 2;
  const std::string v = synth::EmitBehavioralDense(d, model::IntType{false, 3}, "b", o);
  EXPECT_NE(v.find("module b ("), std::string::npos);
  EXPECT_NE(v.find("* x0"), std::string::npos);
  EXPECT_NE(v.find("(-"), std::string::npos) << v;  // the negative weight
  EXPECT_NE(v.find(">>> 2"), std::string::npos);
  EXPECT_NE(v.find("y_d2 <= y_d1"), std::string::npos);
  EXPECT_EQ(v.find("<<"), std::string::npos) << "behavioral version must not be shift-add";
}

// One real yosys run (word flow, seconds): the tiny model, ours and behavioral side by side.
TEST(Synth, WordFlowOnTinyModelWithCompare) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  const driver::CompiledDesign c = driver::Compile(m, driver::GenerateOptions{});
  synth::SynthOptions o;
  o.flows = {"word"};
  o.compare = true;
  o.work_dir = (fs::path(HW_BINARY_DIR) / "synth_test_tiny").string();
  int calls = 0;
  const auto res = synth::SynthesizeLayers(m, c, o, [&](int, int, const synth::SynthJob&, const synth::FlowResult&) { ++calls; });
  ASSERT_EQ(res.size(), c.design.instances.size());
  int dense = 0;
  for (size_t i = 0; i < res.size(); ++i) {
    const auto& ours = res[i].ours.at("word");
    ASSERT_TRUE(ours.ok) << res[i].layer << ": " << ours.error;
    EXPECT_GT(ours.ff_bits, 0);
    if (res[i].kind == "dense") {
      ++dense;
      EXPECT_EQ(ours.multipliers, 0) << "shift-add RTL must be multiplier-free";
      EXPECT_GT(ours.adders, 0);
      const auto& beh = res[i].behavioral.at("word");
      ASSERT_TRUE(beh.ok) << beh.error;
      EXPECT_GT(beh.adders + beh.multipliers, 0);
    }
  }
  EXPECT_EQ(calls, static_cast<int>(res.size()) + dense);
  const std::string table = synth::FormatSynthTables(res);
  EXPECT_NE(table.find("behavioral"), std::string::npos);
  EXPECT_NE(table.find("shift-add"), std::string::npos);
}

TEST(Synth, UnknownFlowIsAnError) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  const driver::CompiledDesign c = driver::Compile(m, driver::GenerateOptions{});
  synth::SynthOptions o;
  o.flows = {"nonsense"};
  o.work_dir = (fs::path(HW_BINARY_DIR) / "synth_test_bad").string();
  EXPECT_THROW(synth::SynthesizeLayers(m, c, o), Error);
}

}  // namespace
}  // namespace hw
