// The shipped Fashion-MNIST model (weights/fashion_mlp): it loads, its input matches the recorded
// preprocessing, and the integer forward pass reproduces the recorded test accuracy exactly — once with the
// project's reference (generator/reference) and once with the small independent loop below.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "arith/csd.h"
#include "common/diag.h"
#include "data/fashion_preprocess.h"
#include "data/idx.h"
#include "model/model_io.h"
#include "reference/reference.h"

namespace fs = std::filesystem;

namespace {

const std::string kDir = std::string(HW_SOURCE_DIR) + "/weights/fashion_mlp";

nlohmann::json Record() {
  std::ifstream in(kDir + "/training.json");
  return nlohmann::json::parse(in);
}

// docs/semantics.md, written out independently of generator/reference.
int Predict(const hw::model::Model& m, const std::vector<int64_t>& x) {
  std::vector<int64_t> v = x;
  for (const auto& layer : m.layers) {
    const auto* d = std::get_if<hw::model::DenseLayer>(&layer.op);
    if (!d) return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());  // first maximum
    std::vector<int64_t> y(d->out);
    for (int o = 0; o < d->out; ++o) {
      int64_t acc = d->has_bias ? d->bias[o] : 0;
      for (int i = 0; i < d->in; ++i) acc += d->weight.at(o, i) * v[i];
      int64_t p = acc * d->multiplier[o];
      if (d->shift[o] > 0) p = (p + (int64_t{1} << (d->shift[o] - 1))) >> d->shift[o];
      y[o] = std::clamp(p, d->clamp_lo, d->clamp_hi);
    }
    v.swap(y);
  }
  return -1;
}

bool HaveDataset() { return fs::exists(hw::data::FashionMnistDir() + "/t10k-images-idx3-ubyte.gz"); }

}  // namespace

TEST(FashionModel, LoadsAndMatchesRecordedPreprocessing) {
  const hw::model::Model m = hw::model::LoadModel(kDir + "/model.json");
  const nlohmann::json rec = Record();
  const std::string pre = hw::data::ReadPreprocessName(kDir);
  EXPECT_EQ(pre, rec["preprocess"].get<std::string>());
  EXPECT_NO_THROW(hw::data::CheckPreprocessMatchesInput(pre, m.input_length, m.input.is_signed, m.input.bits,
                                                        kDir + "/model.json"));
  ASSERT_GE(m.layers.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<hw::model::ArgmaxLayer>(m.layers.back().op));
  EXPECT_EQ(m.OutputLength(static_cast<int>(m.layers.size()) - 2), 10);

  // The recorded hardware cost: nonzero CSD digits of all weights and multipliers.
  int64_t weight_digits = 0, multiplier_digits = 0;
  for (const auto& l : m.layers)
    if (const auto* d = std::get_if<hw::model::DenseLayer>(&l.op)) {
      EXPECT_LE(d->weight_bits, 8) << l.name;
      EXPECT_FALSE(d->multiplier_tensor.empty());
      EXPECT_FALSE(d->shift_tensor.empty());
      for (int64_t w : d->weight.w) weight_digits += static_cast<int64_t>(hw::arith::CsdDigits(w).size());
      for (int64_t M : d->multiplier) multiplier_digits += static_cast<int64_t>(hw::arith::CsdDigits(M).size());
    }
  EXPECT_EQ(weight_digits, rec["nonzero_csd_digits"]["weights"].get<int64_t>());
  EXPECT_EQ(multiplier_digits, rec["nonzero_csd_digits"]["multipliers"].get<int64_t>());
  EXPECT_LE(weight_digits + multiplier_digits, 25000);
}

TEST(FashionModel, PreprocessingNameMismatchIsAnError) {
  const hw::model::Model m = hw::model::LoadModel(kDir + "/model.json");
  EXPECT_THROW(hw::data::CheckPreprocessMatchesInput("full_u8", m.input_length, m.input.is_signed, m.input.bits,
                                                     kDir + "/model.json"),
               hw::Error);
}

TEST(FashionModel, IntegerAccuracyReproducesRecord) {
  if (!HaveDataset()) GTEST_SKIP() << "Fashion-MNIST not installed in " << hw::data::FashionMnistDir();
  const hw::model::Model m = hw::model::LoadModel(kDir + "/model.json");
  const nlohmann::json rec = Record();
  const auto test = hw::data::ReadFashionMnist("t10k");
  const auto xs = hw::data::FashionPreprocessAll(hw::data::ReadPreprocessName(kDir), test.images);
  ASSERT_EQ(static_cast<int64_t>(xs.size()), rec["test_count"].get<int64_t>());

  hw::reference::Batch batch(static_cast<Eigen::Index>(xs.size()), m.input_length);
  for (size_t i = 0; i < xs.size(); ++i)
    for (int j = 0; j < m.input_length; ++j) batch(static_cast<Eigen::Index>(i), j) = xs[i][static_cast<size_t>(j)];
  const hw::reference::Trace trace = hw::reference::Run(m, batch);
  ASSERT_EQ(trace.output().rows(), static_cast<Eigen::Index>(xs.size()));
  ASSERT_EQ(trace.output().cols(), 1);

  int ref_correct = 0, own_correct = 0, disagree = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const int ref = static_cast<int>(trace.output()(static_cast<Eigen::Index>(i), 0));
    const int own = Predict(m, xs[i]);
    ref_correct += ref == test.labels[i];
    own_correct += own == test.labels[i];
    disagree += ref != own;
  }
  EXPECT_EQ(disagree, 0);
  EXPECT_EQ(ref_correct, rec["integer_test_correct"].get<int>());
  EXPECT_EQ(own_correct, rec["integer_test_correct"].get<int>());
  EXPECT_GE(ref_correct, 8500) << "integer accuracy below the 85% target";
}
