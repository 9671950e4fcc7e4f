// IR v2 designs (ir2/design.h): the verifier's negative cases, instance clocks, the design interpreter against
// the model reference, and the top module and interface.json the dense chain gets from its design.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/diag.h"
#include "cosim/cosim.h"
#include "driver/generate.h"
#include "emit/ir2_top.h"
#include "ir2/design.h"
#include "ir2/text.h"
#include "model/random_model.h"
#include "passes/ir2_passes.h"
#include "reference/reference.h"
#include "ir2_design_fixture.h"

namespace hw::ir2 {
namespace {

std::string Errors(const Design& d) {
  std::string s;
  for (const std::string& e : VerifyDesign(d)) s += e + "\n";
  return s;
}

TEST(Ir2Design, ForkAndJoinIsValidWithItsClocks) {
  const Design d = Fork();
  ASSERT_EQ(Errors(d), "");
  const int inc = d.modules[0].graph.latency, add = d.modules[2].graph.latency;
  EXPECT_GT(inc, 0);
  EXPECT_EQ(InstanceStart(d), (std::vector<int>{1, 1, 1 + inc}));
  EXPECT_EQ(Latency(d), 1 + inc + add);
  DesignInterpreter in(d);
  for (int64_t x = -128; x <= 127; ++x) EXPECT_EQ(in.Step({x}), (std::vector<int64_t>{3 * x - 4}));
}

TEST(Ir2Design, VerifierNamesWhatIsWrong) {
  {  // a skip that bypasses u_b (twice) arrives early at add.b
    Design d = Fork();
    d.modules[2].inputs[1].element = {8, true};
    d.modules[2].graph.nodes[1].type = {8, true};
    d.connections[3] = {{-1, "in"}, {2, "b"}};
    EXPECT_NE(Errors(d).find("instance 'u_add': input 'a' arrives in clock 3, another input in clock 1 (a skip needs 2 clock(s) of delay)"), std::string::npos) << Errors(d);
    EXPECT_NE(Errors(d).find("a skip needs"), std::string::npos);
  }
  {  // add.b driven twice, nothing into add.a
    Design d = Fork();
    d.connections[2].to.port = "b";
    EXPECT_NE(Errors(d).find("'u_add.b' is driven 2 times"), std::string::npos) << Errors(d);
    EXPECT_NE(Errors(d).find("'u_add.a' is driven 0 times"), std::string::npos);
  }
  {  // shapes differ
    Design d = Fork();
    d.connections[0] = {{-1, "in"}, {2, "a"}};
    d.connections[2] = {{0, "y"}, {0, "x"}};
    const std::string e = Errors(d);
    EXPECT_NE(e.find("connection in -> u_add.a: 1 x s8 does not fit 1 x s9"), std::string::npos) << e;
    EXPECT_NE(e.find("an instance feeds itself"), std::string::npos) << e;
  }
  {  // unknown ports, a bundle naming no graph port, a bad instance name
    Design d = Fork();
    d.connections[4].from.port = "z";
    d.modules[0].inputs[0].members = {"x9"};
    d.instances[1].name = "u b";
    const std::string e = Errors(d);
    EXPECT_NE(e.find("port 'x' names 'x9', which is no input of the graph"), std::string::npos) << e;
    EXPECT_NE(e.find("input 'x0' is in no port"), std::string::npos) << e;
    EXPECT_NE(e.find("instance name 'u b' is not a Verilog identifier"), std::string::npos) << e;
  }
  {  // an output port too narrow for what the graph computes
    Design d = Fork();
    d.modules[2].outputs[0].element = {9, true};
    d.output.element = {9, true};  // (the connection to `out` fits)
    EXPECT_NE(Errors(d).find("module 'add': port 'y' carries s9 but output 'y0' reaches [-768, 766]"), std::string::npos) << Errors(d);
  }
  {  // a cycle between instances: u_a <- u_c <- u_a
    Design d = Fork();
    d.modules.push_back(Inc("inc_c"));
    d.modules.back().inputs[0].element = {9, true};
    d.modules.back().graph.nodes[0].type = {9, true};
    d.modules[0].inputs[0].element = {9, true};
    d.modules[0].graph.nodes[0].type = {9, true};
    d.instances.push_back({"u_c", 3, "c", "inc"});
    d.connections[0] = {{3, "y"}, {0, "x"}};
    d.connections.push_back({{0, "y"}, {3, "x"}});
    const std::string e = Errors(d);
    EXPECT_NE(e.find("instance 'u_a' is on a cycle of connections"), std::string::npos) << e;
    EXPECT_NE(e.find("instance 'u_c' is on a cycle of connections"), std::string::npos) << e;
  }
  {  // streams
    Design d = Fork();
    d.streams = 2;
    EXPECT_NE(Errors(d).find("module 'inc_a': 1 stream(s), the design has 2"), std::string::npos) << Errors(d);
  }
}

TEST(Ir2Design, EmittingAnInvalidDesignIsAnError) {
  Design d = Fork();
  d.connections.pop_back();
  try {
    emit::EmitDesign(d, driver::DefaultTemplateDir(), "");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[E-IR-DESIGN] 'out' is driven 0 times"), std::string::npos) << e.what();
  }
}

// The dense chain's design, interpreted, is the reference forward pass (a third oracle beside Verilator), and its
// top and interface.json describe the same clocks.
TEST(Ir2Design, DenseChainDesignInterpretsAsTheReference) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    model::Model m = model::RandomModel(model::RandomModelSpec{}, seed);
    driver::GenerateOptions o;
    o.adders_per_stage = 1 + static_cast<int>(seed % 3);
    const driver::CompiledDesign c = driver::Compile(m, o);
    const Design& d = c.design;
    ASSERT_EQ(Errors(d), "");
    ASSERT_EQ(d.instances.size(), m.layers.size());
    const reference::Batch x = cosim::RandomInputs(m, 200, seed);
    const reference::Trace t = reference::Run(m, x);
    DesignInterpreter in(d);
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      const std::vector<int64_t> y = in.Step(std::vector<int64_t>(x.row(r).data(), x.row(r).data() + x.cols()));
      ASSERT_EQ(static_cast<Eigen::Index>(y.size()), t.output().cols());
      for (size_t k = 0; k < y.size(); ++k) ASSERT_EQ(y[k], t.output()(r, static_cast<Eigen::Index>(k))) << "seed " << seed << " vector " << r;
    }
    std::string iface;
    for (const emit::EmittedFile& f : c.files)
      if (f.name == "interface.json") iface = f.text;
    const nlohmann::json j = nlohmann::json::parse(iface);
    EXPECT_EQ(j["latency"], Latency(d));
    const std::vector<int> start = InstanceStart(d);
    for (size_t i = 0; i < d.instances.size(); ++i) {
      EXPECT_EQ(j["layers"][i]["output_valid_after"], start[i] + d.ModuleOf(static_cast<int>(i)).graph.latency);
      EXPECT_EQ(j["layers"][i]["instance"], d.instances[i].name);
    }
  }
}

}  // namespace
}  // namespace hw::ir2
