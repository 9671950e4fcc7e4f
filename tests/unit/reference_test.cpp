#include "reference/reference.h"

#include <gtest/gtest.h>

#include "common/diag.h"
#include "model/model_io.h"

namespace hw::reference {
namespace {

TEST(Requantize, DocumentedExamples) {
  // docs/semantics.md worked example
  EXPECT_EQ(Requantize(-7, 3, 2, -4, 3), -4);
  EXPECT_EQ(Requantize(-7, 3, 2, -8, 3), -5);
  // round half up: p = -3, S = 1 -> -1;  p = 3, S = 1 -> 2
  EXPECT_EQ(Requantize(-3, 1, 1, -100, 100), -1);
  EXPECT_EQ(Requantize(3, 1, 1, -100, 100), 2);
  // S = 0: no rounding term
  EXPECT_EQ(Requantize(-5, 7, 0, -100, 100), -35);
  // relu
  EXPECT_EQ(Requantize(-5, 7, 0, 0, 100), 0);
  EXPECT_EQ(Requantize(1000, 1, 0, 0, 255), 255);
}

TEST(Reference, TinyModelByHand) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  Batch x(2, 4);
  x << 1, 2, 3, 4,  //
      15, 0, 0, 15;
  const Trace t = hw::reference::Run(m, x);
  ASSERT_EQ(t.layers.size(), 3u);
  // fc1 row 0: 3*1 - 2 + 0 + 28 + 2 = 31; *5 = 155; (155 + 2) >> 2 = 39
  // fc1 row 1: all-zero weights, bias -1, M 1, S 0 -> -1 -> relu 0
  // fc1 row 2: -8 + 10 + 6 - 12 + 5 = 1; *3 = 3; (3 + 1) >> 1 = 2
  EXPECT_EQ(t.layers[0](0, 0), 39);
  EXPECT_EQ(t.layers[0](0, 1), 0);
  EXPECT_EQ(t.layers[0](0, 2), 2);
  // fc2: [39 - 0 + 6, -39 + 0] = [45, -39]; argmax 0
  EXPECT_EQ(t.layers[1](0, 0), 45);
  EXPECT_EQ(t.layers[1](0, 1), -39);
  EXPECT_EQ(t.output()(0, 0), 0);
  // second vector: row 0: 45 + 105 + 2 = 152 *5 = 760, (762)>>2 = 190 -> 63; row 2: -120 - 45 + 5 = -160 -> 0
  EXPECT_EQ(t.layers[0](1, 0), 63);
  EXPECT_EQ(t.layers[0](1, 2), 0);
}

TEST(Reference, ArgmaxTiesPickLowestIndex) {
  model::Model m;
  m.name = "am";
  m.input_length = 4;
  m.input = model::IntType{true, 8};
  m.layers.push_back(model::Layer{"cls", model::ArgmaxLayer{}});
  Batch x(3, 4);
  x << 5, 7, 7, 1,  //
      -3, -3, -3, -3,  //
      0, 1, 2, 127;
  const Trace t = hw::reference::Run(m, x);
  EXPECT_EQ(t.output()(0, 0), 1);
  EXPECT_EQ(t.output()(1, 0), 0);
  EXPECT_EQ(t.output()(2, 0), 3);
}

TEST(Reference, RejectsOutOfRangeInputs) {
  const model::Model m = model::LoadModel(std::string(HW_TEST_DATA) + "/tiny/model.json");
  Batch x(1, 4);
  x << 1, 2, 16, 0;
  try {
    hw::reference::Run(m, x);
    FAIL() << "accepted 16 for a 4-bit unsigned input";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vector 0 element 2: value 16 outside the input range [0, 15]"), std::string::npos);
  }
}

}  // namespace
}  // namespace hw::reference
