// report.json / report.md from a compiled design, with and without (fake) synthesis results.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "driver/generate.h"
#include "model/model_io.h"
#include "report/report_writer.h"

namespace hw {
namespace {

TEST(Report, JsonAndMarkdownMatchTheStats) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  const driver::CompiledDesign c = driver::Compile(m, driver::GenerateOptions{});
  report::ReportInput in;
  in.model = &m;
  in.design = &c;
  in.arith = "cmvm";
  in.command = "hardwire report tiny/model.json";
  const nlohmann::json j = nlohmann::json::parse(report::ReportJson(in));
  ASSERT_EQ(j["layers"].size(), c.stats.layers.size());
  long adders = 0;
  for (size_t i = 0; i < c.stats.layers.size(); ++i) {
    EXPECT_EQ(j["layers"][i]["adders"], c.stats.layers[i].adders);
    EXPECT_EQ(j["layers"][i]["full_adder_bits"], c.stats.layers[i].adder_bits);
    EXPECT_EQ(j["layers"][i]["register_bits"], c.stats.layers[i].register_bits);
    EXPECT_EQ(j["layers"][i]["pipeline_stages"], c.stats.layers[i].latency);
    EXPECT_FALSE(j["layers"][i].contains("synth"));
    adders += c.stats.layers[i].adders;
    // every stage's logic under the fpga model (a K = 1 schedule): one entry per stage up to the layer's last,
    // the slowest plus clock-to-Q (0.303 ns) is the layer's figure, and one adder (> 1 ns) fits K = 1
    const auto& stages = j["layers"][i]["stage_logic_ns"];
    ASSERT_GE(stages.size(), 2u);
    double worst = 0;
    for (const auto& d : stages) worst = std::max(worst, d.get<double>());
    EXPECT_NEAR(j["layers"][i]["slowest_stage_ns"].get<double>(), worst + 0.303, 1e-3);
    if (c.stats.layers[i].adders > 0) EXPECT_GT(worst, 1.0);
    EXPECT_LT(worst, 4.0);
  }
  EXPECT_NE(j["timing_model"].get<std::string>().find("K = 1"), std::string::npos);
  // under a clock target the figures are the target model's and every stage fits the clock
  driver::GenerateOptions clocked;
  clocked.clock_ns = 1.0;
  clocked.asic = true;
  const driver::CompiledDesign cc = driver::Compile(m, clocked);
  ASSERT_FALSE(cc.stats.layers.empty());
  EXPECT_LE(cc.stats.total.critical_ns, 1.0 + 1e-9);
  EXPECT_GT(cc.stats.total.critical_ns, 0.5);
  EXPECT_NE(cc.stats.timing_model.find("asic"), std::string::npos);
  EXPECT_EQ(j["total"]["adders"], adders);
  EXPECT_EQ(j["per_token"]["adders_per_token"], adders);
  EXPECT_EQ(j["latency"], ir2::Latency(c.design));
  EXPECT_FALSE(j["per_token"].contains("estimated_mhz"));
  const std::string md = report::ReportMarkdown(in);
  EXPECT_NE(md.find("`hardwire report tiny/model.json`"), std::string::npos);
  EXPECT_NE(md.find("| fc1 |"), std::string::npos);
  EXPECT_EQ(md.find("## Synthesis"), std::string::npos);

  // With synthesis results: per-layer figures, totals and a clock estimate.
  std::vector<synth::LayerSynth> syn;
  for (size_t i = 0; i < c.design.instances.size(); ++i) {
    const ir2::Instance& inst = c.design.instances[i];
    synth::LayerSynth ls{inst.label, c.design.ModuleOf(static_cast<int>(i)).graph.name, inst.kind, {}, {}};
    synth::FlowResult x;
    x.flow = "xilinx", x.ok = true, x.luts = 10, x.ff_bits = 20, x.carry = 3, x.depth = 6, x.srls = 0, x.cells = 40;
    ls.ours["xilinx"] = x;
    syn.push_back(ls);
  }
  in.synth = &syn;
  const nlohmann::json k = nlohmann::json::parse(report::ReportJson(in));
  EXPECT_EQ(k["layers"][0]["synth"]["xilinx"]["luts"], 10);
  EXPECT_EQ(k["total"]["luts"], 10 * static_cast<long>(syn.size()));
  EXPECT_DOUBLE_EQ(k["per_token"]["estimated_mhz"].get<double>(), 250.0);
  EXPECT_NE(report::ReportMarkdown(in).find("## Synthesis"), std::string::npos);
}

}  // namespace
}  // namespace hw
