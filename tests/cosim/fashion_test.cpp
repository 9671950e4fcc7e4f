// The shipped Fashion-MNIST model, generated with the default options and co-simulated on the first few
// hundred test images (preprocessed exactly as for training): 0 mismatches, and the RTL's answers score
// what the reference scores. The full 10,000-image run is the main job (ctest -L fashion_full). Also at K = 2 with
// `--registers min` (each layer's graph picked by its flip-flop bits: the transposed CMVM for fc1).
#include <gtest/gtest.h>

#include <filesystem>

#include "cosim/cosim.h"
#include "data/fashion_preprocess.h"
#include "data/idx.h"
#include "driver/generate.h"
#include "model/model_io.h"
#include "reference/reference.h"

namespace hw {
namespace {

namespace fs = std::filesystem;

// K (adder levels per stage), and whether --registers min picks the graphs
class FashionCosim : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(FashionCosim, FirstTestImagesMatchReference) {
  const std::string weights = std::string(HW_SOURCE_DIR) + "/weights/fashion_mlp";
  const model::Model m = model::LoadModel(weights + "/model.json");
  const std::string pre = data::ReadPreprocessName(weights);
  const data::LabeledImages test = data::ReadFashionMnist("t10k");
  const int n = 400;
  reference::Batch x(n, m.input_length);
  for (int i = 0; i < n; ++i) {
    const std::vector<int64_t> v = data::FashionPreprocess(pre, &test.images.pixels[static_cast<size_t>(i) * 784]);
    for (int c = 0; c < m.input_length; ++c) x(i, c) = v[c];
  }
  const reference::Trace t = reference::Run(m, x);

  const auto [k, fewest_registers] = GetParam();
  const fs::path dir =
      fs::path(HW_BINARY_DIR) / "test_out" / ("fashion_k" + std::to_string(k) + (fewest_registers ? "_registers_min" : ""));
  driver::GenerateOptions o;
  o.adders_per_stage = k;
  o.lower.arith.fewest_registers = fewest_registers;
  const driver::CompiledDesign c = driver::Compile(m, o);
  driver::WriteOutputDir(c.files, (dir / "rtl").string());
  cosim::BuildOptions bo;
  bo.rtl_dir = (dir / "rtl").string();
  const cosim::BuildResult b = cosim::BuildSimulator(bo);
  cosim::RunOptions ro;
  ro.echo = false;
  const cosim::RunResult r = cosim::RunSimulation(b, bo.rtl_dir, x, t.output(), ro);
  EXPECT_EQ(r.failed, 0) << r.log;
  EXPECT_EQ(r.passed, n);
  int correct = 0;
  for (int i = 0; i < n; ++i) correct += r.outputs.at(i).at(0) == test.labels[i];
  EXPECT_GE(correct, n * 80 / 100) << "the RTL's accuracy on the first " << n << " images collapsed";
}

INSTANTIATE_TEST_SUITE_P(K, FashionCosim, ::testing::Values(std::make_tuple(1, false), std::make_tuple(3, false), std::make_tuple(2, true)));

}  // namespace
}  // namespace hw
