#include "model/model_io.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/diag.h"
#include "common/file_util.h"
#include "model/random_model.h"
#include "model/safetensors.h"
#include "cosim/cosim.h"

namespace hw::model {
namespace {

const std::string kTiny = std::string(HW_TEST_DATA) + "/tiny/model.json";

TEST(ModelIo, LoadsTheHandWrittenModel) {
  const Model m = LoadModel(kTiny);
  EXPECT_EQ(m.name, "tiny");
  EXPECT_EQ(m.input_length, 4);
  EXPECT_EQ(m.input, (IntType{false, 4}));
  ASSERT_EQ(m.layers.size(), 3u);
  const auto& d = std::get<DenseLayer>(m.layers[0].op);
  EXPECT_EQ(d.out, 3);
  EXPECT_EQ(d.weight.at(2, 0), -8);
  EXPECT_EQ(d.bias, (std::vector<int64_t>{2, -1, 5}));
  EXPECT_EQ(d.multiplier, (std::vector<int64_t>{5, 1, 3}));
  EXPECT_EQ(d.shift, (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(d.clamp_lo, 0);
  EXPECT_EQ(d.clamp_hi, 63);
  EXPECT_STREQ(m.layers[2].kind(), "argmax");
  EXPECT_EQ(m.OutputType(2), (IntType{false, 1}));
}

TEST(ModelIo, WriteThenLoadRoundTrips) {
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "roundtrip";
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const Model m = RandomModel(RandomModelSpec{}, seed);
    WriteModel(m, dir.string());
    const Model back = LoadModel((dir / "model.json").string());
    ASSERT_EQ(back.layers.size(), m.layers.size());
    for (size_t i = 0; i < m.layers.size(); ++i) {
      if (const auto* d = std::get_if<DenseLayer>(&m.layers[i].op)) {
        const auto& e = std::get<DenseLayer>(back.layers[i].op);
        EXPECT_EQ(e.weight.w, d->weight.w);
        EXPECT_EQ(e.bias, d->bias);
        EXPECT_EQ(e.multiplier, d->multiplier);
        EXPECT_EQ(e.shift, d->shift);
        EXPECT_EQ(e.encoding, d->encoding);
      }
    }
    std::filesystem::remove_all(dir);
  }
}

// Loads the tiny model with the manifest edited by `edit`; returns the error text ("" if it loads).
std::string ErrorFor(const std::function<void(std::string&)>& edit) {
  std::string manifest = ReadFileOrThrow(kTiny, "");
  edit(manifest);
  const std::string tensors = ReadFileOrThrow(std::string(HW_TEST_DATA) + "/tiny/tiny.safetensors", "");
  try {
    ParseModel(manifest, "model.json", tensors, "tiny.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void Replace(std::string& s, const std::string& a, const std::string& b) {
  const auto p = s.find(a);
  ASSERT_NE(p, std::string::npos) << a;
  s.replace(p, a.size(), b);
}

TEST(ModelIo, ErrorsNameFileLayerAndField) {
  EXPECT_EQ(ErrorFor([](std::string&) {}), "");
  EXPECT_EQ(ErrorFor([](std::string& s) { Replace(s, "\"bits\": 4\n      }", "\"bits\": 17\n      }"); }),
            "model.json: layer 'fc1' (layers[0]): field 'weight.bits': value 17 out of range 1..16");
  EXPECT_EQ(ErrorFor([](std::string& s) { Replace(s, "\"kind\": \"argmax\"", "\"kind\": \"conv9\""); }),
            "model.json: layer 'cls' (layers[2]): field 'kind': unknown layer kind 'conv9' (supported: dense, argmax)");
  EXPECT_EQ(ErrorFor([](std::string& s) { Replace(s, "\"length\": 4", "\"length\": 5"); }),
            "model.json: layer 'fc1' (layers[0]): field 'weight.tensor': tensor 'fc1.weight' has shape [3, 4] but the "
            "layer input has length 5");
  EXPECT_EQ(ErrorFor([](std::string& s) { Replace(s, "\"bits\": 3", "\"bits\": 2"); }),
            "model.json: layer 'fc2' (layers[1]): field 'weight.tensor': value 3 at [0, 2] outside the declared signed "
            "2-bit range [-2, 1]");
  EXPECT_NE(ErrorFor([](std::string& s) { Replace(s, "\"bits\": 3", "\"bits\": 1"); }).find("outside the declared signed 1-bit range"),
            std::string::npos);
  EXPECT_NE(ErrorFor([](std::string& s) { Replace(s, "\"clamp\": [\n          0,\n          63", "\"clamp\": [\n          0,\n          64"); })
                .find("field 'output.clamp'"),
            std::string::npos);
  EXPECT_NE(ErrorFor([](std::string& s) { Replace(s, "\"format\"", "\"formt\""); }).find("field 'formt': unknown field"),
            std::string::npos);
  EXPECT_NE(ErrorFor([](std::string& s) { s = "{ not json"; }).find("model.json: malformed JSON"), std::string::npos);
}

// input.quantizer and output (real units, written by hardwire import): parsed, round-tripped, validated.
TEST(ModelIo, InputQuantizerAndOutputScale) {
  const std::string q =
      "\"bits\": 4,\n    \"quantizer\": {\"preprocess\": [{\"op\": \"mul\", \"value\": 2}], \"scale\": 0.5, \"zero_point\": 1, "
      "\"clamp\": [0, 15], \"rounding\": \"ROUND\", \"order\": \"round_then_add_zero_point\"}";
  const std::string out = "\"layers\": [";
  auto with = [&](const std::string& quant, const std::string& output) {
    return [=](std::string& s) {
      Replace(s, "\"bits\": 4\n  },", quant + "\n  },\n  \"output\": " + output + ",");
    };
  };
  const std::string good_out = "{\"layer\": \"fc2\", \"scale\": [0.25], \"offset\": [1, 2]}";
  EXPECT_EQ(ErrorFor(with(q, good_out)), "");
  {
    std::string manifest = ReadFileOrThrow(kTiny, "");
    with(q, good_out)(manifest);
    const Model m = ParseModel(manifest, "model.json", ReadFileOrThrow(std::string(HW_TEST_DATA) + "/tiny/tiny.safetensors", ""),
                               "tiny.safetensors");
    ASSERT_TRUE(m.input_quantizer.present);
    EXPECT_EQ(m.input_quantizer.scale, 0.5);
    EXPECT_EQ(m.input_quantizer.zero_point, 1);
    EXPECT_EQ(m.input_quantizer.order, InputQuantizer::Order::kRoundThenAddZero);
    ASSERT_EQ(m.input_quantizer.pre.size(), 1u);
    EXPECT_EQ(m.input_quantizer.pre[0].op, "mul");
    EXPECT_EQ(m.output_scale.layer, "fc2");
    EXPECT_EQ(m.output_scale.offset, (std::vector<double>{1, 2}));
    const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "quantizer_roundtrip";
    WriteModel(m, dir.string());
    const Model back = LoadModel((dir / "model.json").string());
    EXPECT_EQ(back.input_quantizer.code_max, 15);
    EXPECT_EQ(back.input_quantizer.rounding, "ROUND");
    EXPECT_EQ(back.output_scale.scale, (std::vector<double>{0.25}));
    std::filesystem::remove_all(dir);
  }
  auto bad = [&](const std::string& from, const std::string& to, const std::string& output) {
    std::string qq = q;
    Replace(qq, from, to);
    return ErrorFor(with(qq, output));
  };
  EXPECT_EQ(bad("\"scale\": 0.5", "\"scale\": 0", good_out), "model.json: field 'input.quantizer.scale': must be positive");
  EXPECT_NE(bad("\"ROUND\"", "\"NEAREST\"", good_out).find("field 'input.quantizer.rounding': 'NEAREST' is not one of"), std::string::npos);
  EXPECT_EQ(bad("[0, 15]", "[0, 16]", good_out), "model.json: field 'input.quantizer.clamp': clamp [0, 16] is outside the input type");
  EXPECT_NE(bad("\"mul\"", "\"exp\"", good_out).find("field 'input.quantizer.preprocess': each step is"), std::string::npos);
  EXPECT_EQ(ErrorFor(with(q, "{\"layer\": \"cls\", \"scale\": [1], \"offset\": [0]}")),
            "model.json: field 'output.layer': 'cls' is not a dense layer of this model");
  EXPECT_EQ(ErrorFor(with(q, "{\"layer\": \"fc2\", \"scale\": [1, 2, 3], \"offset\": [0]}")),
            "model.json: field 'output.scale': expected 1 or 2 values (the layer's outputs), got 3");
}

TEST(Safetensors, RoundTripAndCorruption) {
  TensorMap t;
  t["a"] = Tensor{DType::kI16, {2, 2}, {1, -2, 300, -32768}};
  t["b"] = Tensor{DType::kU8, {3}, {0, 255, 7}};
  const std::string bytes = SerializeSafetensors(t);
  const TensorMap back = ParseSafetensors(bytes, "x.safetensors");
  EXPECT_EQ(back.at("a").values, t["a"].values);
  EXPECT_EQ(back.at("b").values, t["b"].values);
  EXPECT_THROW(ParseSafetensors(bytes.substr(0, 5), "x"), Error);
  EXPECT_THROW(ParseSafetensors(bytes.substr(0, bytes.size() - 1), "x"), Error);  // data truncated
  std::string huge = bytes;
  huge[0] = '\xff';
  huge[1] = '\xff';
  EXPECT_THROW(ParseSafetensors(huge, "x"), Error);
  t["c"] = Tensor{DType::kI8, {1}, {200}};
  EXPECT_THROW(SerializeSafetensors(t), Error);
}

}  // namespace
}  // namespace hw::model

namespace hw::cosim {
namespace {

TEST(ParseVectors, RejectsNulBytesAndBadLines) {
  EXPECT_EQ(ParseVectors("1 2\n3 4\n", "v.txt", 2)(1, 0), 3);
  EXPECT_THROW(ParseVectors(std::string("1 2\n3\0 4\n", 9), "v.txt", 2), Error);
  try {
    ParseVectors("1 2\n3 x\n", "v.txt", 2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "v.txt: line 2: 'x' is not an integer");
  }
}

}  // namespace
}  // namespace hw::cosim
