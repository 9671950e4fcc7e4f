// The GTKWave save file written next to `hardwire sim --fst` output names only signals that exist in the
// generated top module (Verilator traces them as TOP.<top>.<signal>).
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <set>

#include "emit/ir2_top.h"
#include "cosim/gtkw.h"
#include "driver/generate.h"
#include "model/model_io.h"

namespace hw {
namespace {

TEST(Gtkw, ReferencesOnlySignalsOfTheTopModule) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  const driver::CompiledDesign c = driver::Compile(m, driver::GenerateOptions{});
  std::string iface, top_text;
  const std::string top = emit::TopName(c.design);
  for (const auto& f : c.files) {
    if (f.name == "interface.json") iface = f.text;
    if (f.name == top + ".v") top_text = f.text;
  }
  ASSERT_FALSE(iface.empty());
  ASSERT_FALSE(top_text.empty());
  // Every signal declared in the top: ports and wires with their widths.
  std::map<std::string, int> declared;
  static const std::regex decl(R"((?:input|output|wire)\s+(?:wire\s+)?(?:\[(\d+):0\]\s+)?(\w+))");
  for (auto it = std::sregex_iterator(top_text.begin(), top_text.end(), decl); it != std::sregex_iterator(); ++it)
    declared[(*it)[2].str()] = (*it)[1].matched ? std::stoi((*it)[1].str()) + 1 : 1;

  const std::string g = cosim::GtkwText(iface, "/tmp/wave.fst");
  EXPECT_NE(g.find("[dumpfile] \"/tmp/wave.fst\""), std::string::npos);
  EXPECT_NE(g.find("[savefile] \"/tmp/wave.gtkw\""), std::string::npos);
  static const std::regex sig(R"(^TOP\.(\w+)\.(\w+)(?:\[(\d+):0\])?$)");
  std::set<std::string> seen;
  std::istringstream lines(g);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("TOP.", 0) != 0 || line.back() == '.') continue;
    std::smatch mt;
    ASSERT_TRUE(std::regex_match(line, mt, sig)) << line;
    EXPECT_EQ(mt[1].str(), top);
    const std::string name = mt[2].str();
    ASSERT_TRUE(declared.count(name)) << name << " is not declared in " << top;
    const int w = mt[3].matched ? std::stoi(mt[3].str()) + 1 : 1;
    EXPECT_EQ(w, declared[name]) << name;
    seen.insert(name);
  }
  for (const char* must : {"clk", "in_valid", "out_valid", "in_data", "out_data"}) EXPECT_TRUE(seen.count(must)) << must;
  for (size_t i = 0; i < c.design.instances.size(); ++i)
    EXPECT_TRUE(seen.count("l" + std::to_string(i) + "_" + c.design.instances[i].label + "_y")) << i;
  // Groups open and close in pairs.
  size_t open = 0, close = 0;
  for (size_t p = g.find("@800200"); p != std::string::npos; p = g.find("@800200", p + 1)) ++open;
  for (size_t p = g.find("@1000200"); p != std::string::npos; p = g.find("@1000200", p + 1)) ++close;
  EXPECT_EQ(open, close);
  EXPECT_EQ(open, 3 + c.design.instances.size());
  EXPECT_EQ(cosim::GtkwPathFor("a/b.fst"), "a/b.gtkw");
}

}  // namespace
}  // namespace hw
