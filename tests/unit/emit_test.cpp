// Golden Verilog for the hand-written tiny model (regenerate with HW_UPDATE_GOLDENS=1, never by hand),
// lint cleanliness under `verilator --lint-only -Wall`, yosys readability and byte-identical output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "emit/ir2_top.h"
#include "common/file_util.h"
#include "cosim/cosim.h"
#include "driver/generate.h"
#include "model/model_io.h"
#include "model/random_model.h"

namespace hw {
namespace {

namespace fs = std::filesystem;

const std::string kTiny = std::string(HW_TEST_DATA) + "/tiny/model.json";

driver::CompiledDesign CompileTiny(passes::ArithMode mode, int k) {
  driver::GenerateOptions o;
  o.adders_per_stage = k;
  o.lower.arith.mode = mode;
  return driver::Compile(model::LoadModel(kTiny), o);
}

// Copied building blocks (hw_*.v) must equal rtl_templates/ byte for byte; every generated file must equal
// its golden. Goldens hold only generated files, so a template is kept in exactly one place.
bool IsTemplate(const std::string& name) { return name.rfind("hw_", 0) == 0 && name.size() > 2 && name.substr(name.size() - 2) == ".v"; }

TEST(Emit, GoldenVerilogForTinyModel) {
  const bool update = std::getenv("HW_UPDATE_GOLDENS") != nullptr;
  for (auto [mode, k, dir] : {std::tuple{passes::ArithMode::kCsd, 1, "tiny_csd_k1"},
                              std::tuple{passes::ArithMode::kCmvm, 2, "tiny_cmvm_k2"}}) {
    const fs::path golden = fs::path(HW_TEST_DATA) / "golden" / dir;
    const driver::CompiledDesign c = CompileTiny(mode, k);
    if (update) {
      fs::remove_all(golden);
      fs::create_directories(golden);
      for (const auto& f : c.files)
        if (!IsTemplate(f.name)) WriteFileOrThrow((golden / f.name).string(), f.text);
      continue;
    }
    size_t generated = 0, on_disk = 0;
    for (const auto& f : c.files) generated += !IsTemplate(f.name);
    for (const auto& e : fs::directory_iterator(golden)) on_disk += e.is_regular_file();
    EXPECT_EQ(on_disk, generated) << "file set changed in " << golden;
    for (const auto& f : c.files) {
      const fs::path p = IsTemplate(f.name) ? fs::path(HW_SOURCE_DIR) / "rtl_templates" / f.name : golden / f.name;
      ASSERT_TRUE(fs::exists(p)) << p << " missing; regenerate goldens with HW_UPDATE_GOLDENS=1";
      EXPECT_EQ(ReadFileOrThrow(p.string(), ""), f.text) << "golden mismatch in " << p
                                                         << " (regenerate with HW_UPDATE_GOLDENS=1 if intended)";
    }
  }
}

TEST(Emit, GeneratedFilesAreByteIdenticalAcrossRuns) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const model::Model m = model::RandomModel(model::RandomModelSpec{}, seed);
    driver::GenerateOptions o;
    o.adders_per_stage = 1 + seed % 3;
    const auto a = driver::Compile(m, o);
    o.threads = 1;  // a different thread schedule must not change a byte
    const auto b = driver::Compile(m, o);
    ASSERT_EQ(a.files.size(), b.files.size());
    for (size_t i = 0; i < a.files.size(); ++i) {
      EXPECT_EQ(a.files[i].name, b.files[i].name);
      EXPECT_EQ(a.files[i].text, b.files[i].text) << a.files[i].name;
    }
  }
}

TEST(Emit, CliGenerateTwiceGivesIdenticalBytes) {
  const fs::path out = fs::path(HW_BINARY_DIR) / "test_out" / "determinism";
  fs::remove_all(out);
  const std::string cli = std::string(HW_BINARY_DIR) + "/hardwire";
  ASSERT_EQ(cosim::RunCommand(cli + " generate " + kTiny + " -o " + (out / "a").string(), nullptr, false), 0);
  ASSERT_EQ(cosim::RunCommand(cli + " generate " + kTiny + " -o " + (out / "b").string(), nullptr, false), 0);
  std::string diff;
  EXPECT_EQ(cosim::RunCommand("diff -r " + (out / "a").string() + " " + (out / "b").string(), &diff, false), 0) << diff;
}

class LintTest : public ::testing::TestWithParam<int> {};

TEST_P(LintTest, VerilatorWallAndYosysAreSilent) {
  const int seed = GetParam();
  const fs::path out = fs::path(HW_BINARY_DIR) / "test_out" / "lint" / std::to_string(seed);
  model::Model m = seed == 0 ? model::LoadModel(kTiny) : model::RandomModel(model::RandomModelSpec{}, seed);
  driver::GenerateOptions o;
  o.adders_per_stage = 1 + seed % 3;
  o.lower.arith.mode = seed % 2 ? passes::ArithMode::kCsd : passes::ArithMode::kCmvm;
  const auto c = driver::Compile(m, o);
  driver::WriteOutputDir(c.files, out.string());
  const std::string top = emit::TopName(c.design);
  std::string lint;
  const int rc = cosim::RunCommand("cd " + out.string() + " && verilator --lint-only -Wall -F " + top + ".f --top-module " + top,
                                   &lint, false);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(lint, "");
  std::string ys;
  cosim::RunCommand("cd " + out.string() + " && yosys -q -p 'read_verilog " +
                        [&] {
                          std::string files;
                          for (const auto& f : c.files)
                            if (f.name.size() > 2 && f.name.substr(f.name.size() - 2) == ".v") files += f.name + " ";
                          return files;
                        }() +
                        "; hierarchy -check -top " + top + "; proc' 2>&1",
                    &ys, false);
  EXPECT_EQ(ys.find("Warning"), std::string::npos) << ys;
  EXPECT_EQ(ys.find("ERROR"), std::string::npos) << ys;
}

INSTANTIATE_TEST_SUITE_P(Models, LintTest, ::testing::Range(0, 9));

TEST(Emit, FailedGenerateLeavesNoDirectory) {
  const fs::path out = fs::path(HW_BINARY_DIR) / "test_out" / "failed_generate";
  fs::remove_all(out);
  const std::string cli = std::string(HW_BINARY_DIR) + "/hardwire";
  std::string log;
  EXPECT_NE(cosim::RunCommand(cli + " generate " + std::string(HW_TEST_DATA) + "/does_not_exist.json -o " + out.string(), &log, false), 0);
  EXPECT_NE(log.find("does_not_exist.json: cannot read model manifest"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out));
  // A directory that is not ours is never replaced.
  fs::create_directories(out);
  WriteFileOrThrow((out / "precious.txt").string(), "keep me");
  EXPECT_NE(cosim::RunCommand(cli + " generate " + kTiny + " -o " + out.string(), &log, false), 0);
  EXPECT_TRUE(fs::exists(out / "precious.txt"));
  for (const auto& e : fs::directory_iterator(out.parent_path()))
    EXPECT_EQ(e.path().filename().string().find("failed_generate.tmp"), std::string::npos) << "temporary left behind";
}

}  // namespace
}  // namespace hw
