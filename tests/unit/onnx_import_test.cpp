// hardwire import (generator/onnx_import): small QONNX graphs built with the onnx protobuf messages, checked
// against a direct double evaluation of the float graph, and the error messages for bad graphs and files.
#include "onnx_import/onnx_import.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <filesystem>

#include "common/diag.h"
#include "common/file_util.h"
#include "model/model_io.h"
#include "reference/input_quant.h"
#include "reference/reference.h"

namespace hw::onnx_import {
namespace {

namespace fs = std::filesystem;

// A tiny QONNX graph builder.
struct Graph {
  onnx::ModelProto m;
  onnx::GraphProto* g;
  Graph() {
    m.set_ir_version(7);
    m.add_opset_import()->set_version(13);
    g = m.mutable_graph();
    g->set_name("t");
  }
  void Input(const std::string& name, std::vector<int64_t> dims) {
    auto* v = g->add_input();
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void Output(const std::string& name) { g->add_output()->set_name(name); }
  void Init(const std::string& name, std::vector<int64_t> dims, std::vector<float> v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
  }
  onnx::NodeProto* Node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
                        const std::string& domain = "") {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(g->node_size()));
    n->set_domain(domain);
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  }
  void Attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  // Quant(x, scale, 0, bits) with scalar parameters stored as initializers named after the output.
  onnx::NodeProto* Quant(const std::string& x, const std::string& out, float scale, float bits, bool is_signed, bool narrow = false) {
    Init(out + ".s", {}, {scale});
    Init(out + ".z", {}, {0.0f});
    Init(out + ".b", {}, {bits});
    auto* n = Node("Quant", {x, out + ".s", out + ".z", out + ".b"}, {out}, "qonnx.custom_op.general");
    Attr(n, "signed", is_signed);
    Attr(n, "narrow", narrow);
    return n;
  }
  // An integer initializer (int8, uint8, int32, ...).
  void InitInt(const std::string& name, std::vector<int64_t> dims, int dtype, std::vector<int32_t> v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(dtype);
    for (int64_t d : dims) t->add_dims(d);
    for (int32_t x : v) t->add_int32_data(x);
  }
  void InputOfType(const std::string& name, std::vector<int64_t> dims, int dtype) {
    Input(name, dims);
    g->mutable_input(g->input_size() - 1)->mutable_type()->mutable_tensor_type()->set_elem_type(dtype);
  }
  std::string Bytes() const { return m.SerializeAsString(); }
};

// x[1,4] -> Quant(0.5, 4-bit unsigned) -> MatMul(Quant(W, 0.25, 3-bit signed)) -> Add(bias) -> Relu
//        -> Quant(0.75, 4-bit unsigned) -> y[1,3]
const std::vector<float> kW = {0.5f, -0.25f, 0.75f, 0.25f, 0.0f, -0.5f, -0.75f, 0.5f, 0.25f, 1.0f, -1.0f, 0.5f};  // [4,3]
const std::vector<float> kBias = {0.3f, -0.7f, 0.1f};

Graph SmallMlp() {
  Graph g;
  g.Input("x", {1, 4});
  g.Quant("x", "xq", 0.5f, 4, false);
  g.Init("W", {4, 3}, kW);
  g.Quant("W", "Wq", 0.25f, 3, true);
  g.Node("MatMul", {"xq", "Wq"}, {"acc"});
  g.Init("bias", {3}, kBias);
  g.Node("Add", {"acc", "bias"}, {"accb"});
  g.Node("Relu", {"accb"}, {"r"});
  g.Quant("r", "y", 0.75f, 4, false);
  g.Output("y");
  return g;
}

// The float graph in double precision (no value of this graph lies near a rounding tie).
std::vector<int64_t> SmallMlpFloat(const std::vector<int64_t>& xcodes) {
  std::vector<int64_t> out;
  for (int o = 0; o < 3; ++o) {
    double acc = kBias[o];
    for (int i = 0; i < 4; ++i) {
      const double w = std::clamp(std::nearbyint(kW[i * 3 + o] / 0.25), -4.0, 3.0) * 0.25;
      acc += xcodes[i] * 0.5 * w;
    }
    out.push_back(static_cast<int64_t>(std::clamp(std::nearbyint(std::max(acc, 0.0) / 0.75), 0.0, 15.0)));
  }
  return out;
}

std::string ErrorOf(const std::string& bytes) {
  try {
    ImportOnnxBytes(bytes, "t.onnx");
  } catch (const Error& e) {
    std::string all;
    for (const auto& m : e.messages()) all += m + "\n";
    return all;
  }
  return "no error";
}

TEST(OnnxImport, SmallMlpMatchesTheFloatGraphOnEveryInput) {
  const ImportResult r = ImportOnnxBytes(SmallMlp().Bytes(), "small.onnx");
  EXPECT_EQ(r.model.name, "small");
  EXPECT_EQ(r.model.input_length, 4);
  EXPECT_EQ(r.model.input, (model::IntType{false, 4}));
  ASSERT_EQ(r.model.layers.size(), 1u);
  EXPECT_EQ(r.report["layers"][0]["exactness"], "proved: every reachable accumulator value checked");
  // All 16^4 inputs.
  reference::Batch x(65536, 4);
  for (int k = 0; k < 65536; ++k)
    for (int i = 0; i < 4; ++i) x(k, i) = (k >> (4 * i)) & 15;
  const reference::Batch y = reference::Run(r.model, x).output();
  for (int k = 0; k < 65536; ++k) {
    const auto want = SmallMlpFloat({x(k, 0), x(k, 1), x(k, 2), x(k, 3)});
    for (int o = 0; o < 3; ++o) ASSERT_EQ(y(k, o), want[o]) << "input " << k << " channel " << o;
  }
}

TEST(OnnxImport, RoundHalfEvenTiesUseTheThresholdOp) {
  // acc = x0 + x1 (codes 0..15), y = round_half_even(acc / 2): 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, ... no
  // (acc*M + r) >> S follows that, thresholds do.
  Graph g;
  g.Input("x", {1, 2});
  g.Quant("x", "xq", 1.0f, 4, false);
  g.Init("W", {2, 1}, {1.0f, 1.0f});
  g.Node("MatMul", {"xq", "W"}, {"acc"});
  g.Quant("acc", "y", 2.0f, 4, false);
  g.Output("y");
  const ImportResult r = ImportOnnxBytes(g.Bytes(), "ties.onnx");
  EXPECT_EQ(r.report["layers"][0]["activation"], "threshold");
  const auto& d = std::get<model::DenseLayer>(r.model.layers[0].op);
  ASSERT_TRUE(d.has_threshold);
  reference::Batch x(256, 2);
  for (int k = 0; k < 256; ++k) x(k, 0) = k & 15, x(k, 1) = k >> 4;
  const reference::Batch y = reference::Run(r.model, x).output();
  for (int k = 0; k < 256; ++k)
    ASSERT_EQ(y(k, 0), static_cast<int64_t>(std::nearbyint((x(k, 0) + x(k, 1)) / 2.0))) << "acc " << x(k, 0) + x(k, 1);
}

TEST(OnnxImport, GemmWithTransposedWeightAndSoftmaxBecomesArgmax) {
  Graph g;
  g.Input("x", {1, 2});
  g.Quant("x", "xq", 1.0f, 3, true);
  g.Init("W", {2, 2}, {1.0f, -2.0f, 3.0f, 1.0f});  // [out, in], integer-valued: codes with scale 1
  g.Init("C", {2}, {0.0f, 0.0f});
  auto* gemm = g.Node("Gemm", {"xq", "W", "C"}, {"z"});
  g.Attr(gemm, "transB", 1);
  g.Node("Softmax", {"z"}, {"p"});
  g.Output("p");
  const ImportResult r = ImportOnnxBytes(g.Bytes(), "gemm.onnx");
  ASSERT_EQ(r.model.layers.size(), 2u);
  EXPECT_STREQ(r.model.layers[1].kind(), "argmax");
  reference::Batch x(2, 2);
  x << 3, 1,    // z = [1, 10] -> 1
      -4, 1;    // z = [-6, -11] -> 0
  const reference::Batch y = reference::Run(r.model, x).output();
  EXPECT_EQ(y(0, 0), 1);
  EXPECT_EQ(y(1, 0), 0);
}

TEST(OnnxImport, SharedTfcModelsImport) {
  for (const char* name : {"TFC_2W2A", "TFC_1W1A"}) {
    const std::string path = std::string(HW_TEST_DATA) + "/onnx/" + name + ".onnx";
    const ImportResult r = ImportOnnx(path);
    ASSERT_EQ(r.model.layers.size(), 4u) << name;
    EXPECT_EQ(r.model.input_length, 784);
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(r.report["layers"][i]["exactness"], "proved: every reachable accumulator value checked") << name << " " << i;
    EXPECT_TRUE(r.report["output"]["exact_affine"].get<bool>()) << name;
  }
}

TEST(OnnxImport, MalformedFiles) {
  const std::string good = SmallMlp().Bytes();
  EXPECT_NE(ErrorOf(good.substr(0, good.size() / 2)).find("t.onnx: not a valid ONNX protobuf"), std::string::npos);
  EXPECT_NE(ErrorOf("").find("no graph"), std::string::npos);
  {  // missing initializer
    Graph g = SmallMlp();
    for (auto& t : *g.g->mutable_initializer())
      if (t.name() == "W") t.set_name("W_renamed");
    EXPECT_NE(ErrorOf(g.Bytes()).find("node 'Quant_2' (Quant): field 'input 'W'': is not an initializer, a graph input or the output of an earlier node"),
              std::string::npos)
        << ErrorOf(g.Bytes());
  }
  {  // shape mismatch between the activation and the weight
    Graph g = SmallMlp();
    g.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(5);
    EXPECT_NE(ErrorOf(g.Bytes()).find("node 'MatMul_3' (MatMul): field 'input 1': weight shape [4, 3] does not match the input length 5"),
              std::string::npos)
        << ErrorOf(g.Bytes());
  }
  {  // initializer data does not match its shape
    Graph g = SmallMlp();
    for (auto& t : *g.g->mutable_initializer())
      if (t.name() == "bias") t.add_float_data(1.0f);
    EXPECT_NE(ErrorOf(g.Bytes()).find("tensor 'bias' of shape [3] holds 4 values, expected 3"), std::string::npos) << ErrorOf(g.Bytes());
  }
}

TEST(OnnxImport, BadQuantizers) {
  auto with_init = [](const std::string& name, float v) {
    Graph g = SmallMlp();
    for (auto& t : *g.g->mutable_initializer())
      if (t.name() == name) t.set_float_data(0, v);
    return ErrorOf(g.Bytes());
  };
  EXPECT_NE(with_init("y.s", 0.0f).find("node 'Quant_6' (Quant): field 'input 1 (scale)': scale 0 is not positive"), std::string::npos)
      << with_init("y.s", 0.0f);
  EXPECT_NE(with_init("xq.s", -0.5f).find("scale -0.5 is not positive"), std::string::npos);
  EXPECT_NE(with_init("y.b", 2.5f).find("bit width 2.5 is not an integer: the quantizer grid is not integral"), std::string::npos);
  EXPECT_NE(with_init("y.z", 0.5f).find("zero point 0.5 is not an integer"), std::string::npos);
  // Found by fuzz_onnx (kept in fuzz/corpus/onnx/quant_zero_point_huge.onnx): a zero point far beyond any code
  // range used to reach a float-to-integer conversion that overflows. (Non-finite initializers are refused
  // earlier, when tensors are read.)
  EXPECT_NE(with_init("xq.z", -1.6e35f).find("field 'input 2 (zero point)': zero point -1.5999999664343629e+35 is outside [-2^31 + 1, 2^31 - 1]"),
            std::string::npos)
      << with_init("xq.z", -1.6e35f);
  EXPECT_NE(with_init("xq.z", 3e9f).find("zero point 3000000000 is outside"), std::string::npos) << with_init("xq.z", 3e9f);
  const std::string crash = ReadFileOrThrow(std::string(HW_SOURCE_DIR) + "/fuzz/corpus/onnx/quant_zero_point_huge.onnx", "fuzz input");
  EXPECT_NE(ErrorOf(crash).find("zero point -1.661534994731145e+35 is outside"), std::string::npos) << ErrorOf(crash);
}

TEST(OnnxImport, UnsupportedGraphsNameTheNodeAndWhatIsSupported) {
  {
    Graph g = SmallMlp();
    g.g->mutable_node(4)->set_op_type("Sigmoid");  // the Relu
    const std::string e = ErrorOf(g.Bytes());
    EXPECT_NE(e.find("node 'Relu_5' (Sigmoid): field 'op_type': op 'Sigmoid' (domain '') is not supported here; supported: Quant"),
              std::string::npos)
        << e;
  }
  {  // a branch: the quantized input read twice
    Graph g = SmallMlp();
    g.Node("Relu", {"xq"}, {"extra"});
    const std::string e = ErrorOf(g.Bytes());
    EXPECT_NE(e.find("is read by more than one node; only chains (MLPs) are supported"), std::string::npos) << e;
  }
  {  // no input quantizer
    Graph g;
    g.Input("x", {1, 2});
    g.Init("W", {2, 2}, {1, 0, 0, 1});
    g.Node("MatMul", {"x", "W"}, {"y"});
    g.Output("y");
    const std::string e = ErrorOf(g.Bytes());
    EXPECT_NE(e.find("MatMul/Gemm input must be quantized"), std::string::npos) << e;
  }
}

// ---- standard quantized ONNX ops (QDQ form, QLinearMatMul, MatMulInteger), Trunc, real-unit inputs ----------

// x[1,3] -> QuantizeLinear(0.5, int8 zp 3) -> DequantizeLinear -> MatMul(DequantizeLinear(int8 W [3,2], per-column
// scales 0.25 / 0.125, weight zero point 1)) -> Add(bias) -> Relu -> QuantizeLinear(0.75, uint8 zp 2) -> y codes
TEST(OnnxImport, QdqMlpMatchesTheOnnxDefinitionsOnEveryInputCode) {
  Graph g;
  g.Input("x", {1, 3});
  g.Init("xs", {}, {0.5f});
  g.InitInt("xz", {}, onnx::TensorProto::INT8, {3});
  g.Node("QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  g.Node("DequantizeLinear", {"xq", "xs", "xz"}, {"xd"});
  const std::vector<int32_t> wc = {5, -3, 2, 7, -8, 1};  // [3, 2] int8 codes
  g.InitInt("Wc", {3, 2}, onnx::TensorProto::INT8, wc);
  g.Init("ws", {2}, {0.25f, 0.125f});
  g.InitInt("wz", {2}, onnx::TensorProto::INT8, {1, 1});
  g.Node("DequantizeLinear", {"Wc", "ws", "wz"}, {"W"});  // axis 1 (default): per column
  g.Node("MatMul", {"xd", "W"}, {"acc"});
  g.Init("bias", {2}, {0.3f, -0.6f});
  g.Node("Add", {"acc", "bias"}, {"accb"});
  g.Node("Relu", {"accb"}, {"r"});
  g.Init("ys", {}, {0.75f});
  g.InitInt("yz", {}, onnx::TensorProto::UINT8, {2});
  g.Node("QuantizeLinear", {"r", "ys", "yz"}, {"y"});
  g.Output("y");
  const ImportResult r = ImportOnnxBytes(g.Bytes(), "qdq.onnx");
  EXPECT_EQ(r.model.input, (model::IntType{true, 8}));
  ASSERT_TRUE(r.model.input_quantizer.present);
  EXPECT_EQ(r.model.input_quantizer.order, model::InputQuantizer::Order::kRoundThenAddZero);
  ASSERT_TRUE(r.model.output_scale.present);
  // Every input code triple (codes -128..127 step 5, and the ends), against the ONNX definitions in float32.
  std::vector<int64_t> codes;
  for (int c = -128; c < 128; c += 5) codes.push_back(c);
  codes.push_back(127);
  reference::Batch x(static_cast<Eigen::Index>(codes.size() * codes.size() * codes.size()), 3);
  Eigen::Index k = 0;
  for (int64_t a : codes)
    for (int64_t b : codes)
      for (int64_t c : codes) x(k, 0) = a, x(k, 1) = b, x(k, 2) = c, ++k;
  const reference::Batch y = reference::Run(r.model, x).output();
  const auto& os = r.model.output_scale;
  for (Eigen::Index row = 0; row < x.rows(); ++row)
    for (int o = 0; o < 2; ++o) {
      float acc = 0.0f;
      for (int i = 0; i < 3; ++i)
        acc += static_cast<float>((x(row, i) - 3) * 0.5) * (static_cast<float>(wc[i * 2 + o] - 1) * (o ? 0.125f : 0.25f));
      const float v = std::max(acc + (o ? -0.6f : 0.3f), 0.0f);
      const double want = std::clamp(std::nearbyint(static_cast<double>(v / 0.75f)) + 2.0, 0.0, 255.0);
      const double got = os.scale[os.scale.size() == 1 ? 0 : o] * static_cast<double>(y(row, o)) + os.offset[os.offset.size() == 1 ? 0 : o];
      ASSERT_EQ(got, want) << "codes " << x(row, 0) << " " << x(row, 1) << " " << x(row, 2) << " channel " << o;
    }
}

TEST(OnnxImport, QLinearMatMulAndMatMulIntegerOnIntegerInputs) {
  const std::vector<int32_t> b = {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247};  // uint8 [4, 3]
  for (bool qlinear : {true, false}) {
    Graph g;
    g.InputOfType("a", {1, 4}, onnx::TensorProto::UINT8);
    g.InitInt("b", {4, 3}, onnx::TensorProto::UINT8, b);
    g.InitInt("az", {}, onnx::TensorProto::UINT8, {113});
    g.InitInt("bz", {}, onnx::TensorProto::UINT8, {114});
    if (qlinear) {
      g.Init("as", {}, {0.0066f});
      g.Init("bs", {}, {0.00705f});
      g.Init("ys", {}, {0.0107f});
      g.InitInt("yz", {}, onnx::TensorProto::UINT8, {118});
      g.Node("QLinearMatMul", {"a", "as", "az", "b", "bs", "bz", "ys", "yz"}, {"y"});
    } else {
      g.Node("MatMulInteger", {"a", "b", "az", "bz"}, {"y"});
    }
    g.Output("y");
    const ImportResult r = ImportOnnxBytes(g.Bytes(), "q.onnx");
    EXPECT_EQ(r.model.input, (model::IntType{false, 8}));
    reference::Batch x(4096, 4);
    uint64_t st = 12345;
    for (Eigen::Index row = 0; row < x.rows(); ++row)
      for (int i = 0; i < 4; ++i) st = st * 6364136223846793005ull + 1442695040888963407ull, x(row, i) = row < 2 ? row * 255 : (st >> 33) & 255;
    const reference::Batch y = reference::Run(r.model, x).output();
    const auto& os = r.model.output_scale;
    const double mult = static_cast<float>(static_cast<float>(0.0066f * 0.00705f) / 0.0107f);
    int saturated = 0;
    for (Eigen::Index row = 0; row < x.rows(); ++row)
      for (int o = 0; o < 3; ++o) {
        int64_t acc = 0;
        for (int i = 0; i < 4; ++i) acc += (x(row, i) - 113) * (b[i * 3 + o] - 114);
        const double want = qlinear ? std::clamp(std::nearbyint(static_cast<double>(acc) * mult + 118.0), 0.0, 255.0) : static_cast<double>(acc);
        saturated += want == 0.0 || want == 255.0;
        ASSERT_EQ(os.scale[0] * static_cast<double>(y(row, o)) + os.offset[os.offset.size() == 1 ? 0 : o], want)
            << (qlinear ? "QLinearMatMul" : "MatMulInteger") << " row " << row << " channel " << o;
      }
    if (qlinear) EXPECT_GT(saturated, 0);  // the clamp is exercised
  }
}

TEST(OnnxImport, MatMulIntegerCastMulAddQuantizeLinear) {
  // x -> QuantizeLinear(0.1, uint8 zp 10) -> MatMulInteger(W int8, a_zp 10) -> Cast -> Mul(0.1 * 0.05) -> Add(bias)
  //   -> QuantizeLinear(0.2, int8 zp -3) -> y codes
  const std::vector<int32_t> w = {3, -7, 12, 5, -1, 0};  // [3, 2]
  Graph g;
  g.Input("x", {1, 3});
  g.Init("xs", {}, {0.1f});
  g.InitInt("xz", {}, onnx::TensorProto::UINT8, {10});
  g.Node("QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  g.InitInt("W", {3, 2}, onnx::TensorProto::INT8, w);
  g.Node("MatMulInteger", {"xq", "W", "xz"}, {"acc"});
  g.Attr(g.Node("Cast", {"acc"}, {"accf"}), "to", onnx::TensorProto::FLOAT);
  g.Init("m", {}, {0.005f});
  g.Node("Mul", {"accf", "m"}, {"r"});
  g.Init("b", {2}, {0.37f, -1.1f});
  g.Node("Add", {"r", "b"}, {"rb"});
  g.Init("ys", {}, {0.2f});
  g.InitInt("yz", {}, onnx::TensorProto::INT8, {-3});
  g.Node("QuantizeLinear", {"rb", "ys", "yz"}, {"y"});
  g.Output("y");
  const ImportResult r = ImportOnnxBytes(g.Bytes(), "mmi.onnx");
  reference::Batch x(4096, 3);
  for (int k = 0; k < 4096; ++k) x(k, 0) = (k * 37) & 255, x(k, 1) = (k * 101 + 7) & 255, x(k, 2) = k & 255;
  const reference::Batch y = reference::Run(r.model, x).output();
  const auto& os = r.model.output_scale;
  for (int k = 0; k < 4096; ++k)
    for (int o = 0; o < 2; ++o) {
      int32_t acc = 0;
      for (int i = 0; i < 3; ++i) acc += static_cast<int32_t>(x(k, i) - 10) * w[i * 2 + o];
      const float v = static_cast<float>(acc) * 0.005f + (o ? -1.1f : 0.37f);
      const double want = std::clamp(std::nearbyint(static_cast<double>(v / 0.2f)) - 3.0, -128.0, 127.0);
      ASSERT_EQ(os.scale[0] * static_cast<double>(y(k, o)) + os.offset[0], want) << "vector " << k << " channel " << o;
    }
}

TEST(OnnxImport, TruncAfterQuantUsesAnIdentityLayer) {
  // Quant(s 1, 8-bit signed) -> Trunc v2 (output scale 4: two bits dropped, 6-bit signed, FLOOR): floor(code / 4).
  Graph g;
  g.Input("x", {1, 2});
  g.Quant("x", "xq", 1.0f, 8, true);
  for (auto [name, v] : std::vector<std::pair<std::string, float>>{{"ts", 1.0f}, {"tz", 0.0f}, {"tib", 8.0f}, {"tos", 4.0f}, {"tob", 6.0f}})
    g.Init(name, {}, {v});
  g.Node("Trunc", {"xq", "ts", "tz", "tib", "tos", "tob"}, {"y"}, "qonnx.custom_op.general");
  g.Output("y");
  const ImportResult r = ImportOnnxBytes(g.Bytes(), "trunc.onnx");
  ASSERT_EQ(r.model.layers.size(), 1u);
  reference::Batch x(256, 2);
  for (int c = -128; c < 128; ++c) x(c + 128, 0) = c, x(c + 128, 1) = -1 - c;
  const reference::Batch y = reference::Run(r.model, x).output();
  const auto& os = r.model.output_scale;
  for (int k = 0; k < 256; ++k)
    for (int o = 0; o < 2; ++o)
      ASSERT_EQ(os.scale[0] * static_cast<double>(y(k, o)) + os.offset[0], 4.0 * std::floor(static_cast<double>(x(k, o)) / 4.0)) << x(k, o);
  // Trunc v1 (5 inputs, no clamp) is refused by name.
  g.g->mutable_node(1)->mutable_input()->RemoveLast();
  EXPECT_NE(ErrorOf(g.Bytes()).find("only qonnx Trunc v2 (6 inputs"), std::string::npos) << ErrorOf(g.Bytes());
}

TEST(OnnxImport, InputQuantizationRoundsHalfToEvenInTheGraphsOrder) {
  model::InputQuantizer q;
  q.present = true;
  q.scale = 0.5, q.zero_point = 1, q.code_min = -8, q.code_max = 7, q.rounding = "ROUND";
  // QONNX Quant: round(x / s + z): 0.25 / 0.5 + 1 = 1.5 -> 2; ONNX QuantizeLinear: rint(0.5) + 1 = 1.
  q.order = model::InputQuantizer::Order::kAddZeroThenRound;
  EXPECT_EQ(reference::QuantizeInput(q, 0.25), 2);
  EXPECT_EQ(reference::QuantizeInput(q, 0.75), 2);   // 2.5 -> 2
  EXPECT_EQ(reference::QuantizeInput(q, 100.0), 7);  // clamped
  q.order = model::InputQuantizer::Order::kRoundThenAddZero;
  EXPECT_EQ(reference::QuantizeInput(q, 0.25), 1);
  EXPECT_EQ(reference::QuantizeInput(q, 0.75), 3);   // rint(1.5) = 2, + 1
  EXPECT_EQ(reference::QuantizeInput(q, -100.0), -8);
  q.order = model::InputQuantizer::Order::kAddZeroThenRound;
  q.rounding = "HALF_UP";
  EXPECT_EQ(reference::QuantizeInput(q, 0.75), 3);
  q.pre = {{"mul", 2.0}, {"sub", 1.0}};  // TFC: 2x - 1 first
  EXPECT_EQ(reference::QuantizeInput(q, 0.5), 1);   // 0 / 0.5 + 1
  // docs/semantics.md's worked example (TFC_2W2A's input).
  model::InputQuantizer tfc;
  tfc.present = true;
  tfc.pre = {{"mul", 2.0}, {"sub", 1.0}};
  tfc.scale = 1, tfc.zero_point = 0, tfc.code_min = -1, tfc.code_max = 1, tfc.rounding = "ROUND";
  EXPECT_EQ(reference::QuantizeInput(tfc, 0.9), 1);
  EXPECT_EQ(reference::QuantizeInput(tfc, 0.75), 0);
  EXPECT_EQ(reference::QuantizeInput(tfc, 0.25), 0);
  EXPECT_EQ(reference::QuantizeInput(tfc, -3.0), -1);
  tfc.rounding = "HALF_UP";
  EXPECT_EQ(reference::QuantizeInput(tfc, 0.75), 1);
  EXPECT_EQ(reference::QuantizeInput(tfc, 0.25), -1);
  q.rounding = "SIGN";
  EXPECT_EQ(reference::QuantizeInput(q, 0.5), 1);   // bipolar: 2x - 1 = 0 >= 0
  EXPECT_EQ(reference::QuantizeInput(q, 0.4), 0);
}

TEST(OnnxImport, PerAxisInputQuantizerIsPerElement) {
  // QuantizeLinear along axis 1 of [1, 3, 2]: elements (c, k) use scale[c], zero point[c].
  Graph g;
  g.Input("x", {1, 3, 2});
  g.Init("s", {3}, {0.5f, 2.0f, 0.25f});
  g.InitInt("z", {3}, onnx::TensorProto::INT8, {1, -3, 0});
  g.Node("QuantizeLinear", {"x", "s", "z"}, {"y"});
  g.Output("y");
  const ImportResult r = ImportOnnxBytes(g.Bytes(), "axis.onnx");
  const model::InputQuantizer& q = r.model.input_quantizer;
  ASSERT_EQ(q.scales.size(), 6u);
  const double xs[] = {0.75, -3.0, 5.0, 1.0, 0.125, -100.0};
  for (int i = 0; i < 6; ++i) {
    const int c = i / 2;
    const double want = std::clamp(std::nearbyint(xs[i] / std::vector<double>{0.5, 2.0, 0.25}[c]) + std::vector<double>{1, -3, 0}[c], -128.0, 127.0);
    EXPECT_EQ(reference::QuantizeInput(q, xs[i], i), static_cast<int64_t>(want)) << i;
  }
  // The identity layer passes the codes; the output map is the identity.
  reference::Batch x(1, 6);
  x << 1, 2, 3, 4, 5, 6;
  EXPECT_EQ(reference::Run(r.model, x).output(), x);
}

TEST(OnnxImport, StandardOpErrorsNameNodeAndField) {
  {  // per-axis: wrong number of values along the axis
    Graph g;
    g.Input("x", {1, 3, 2});
    g.Init("s", {4}, {1.0f, 2.0f, 4.0f, 8.0f});
    g.Node("QuantizeLinear", {"x", "s"}, {"y"});
    g.Output("y");
    const std::string e = ErrorOf(g.Bytes());
    EXPECT_NE(e.find("node 'QuantizeLinear_1' (QuantizeLinear): field 'input 1 (scale)': 4 values along axis 1 of an activation of shape [1, 3, 2]"),
              std::string::npos) << e;
  }
  {  // per-axis with a batch dimension above 1
    Graph g;
    g.Input("x", {2, 3});
    g.Init("s", {3}, {1.0f, 2.0f, 4.0f});
    auto* q = g.Node("QuantizeLinear", {"x", "s"}, {"y"});
    g.Attr(q, "axis", 1);
    g.Node("Flatten", {"y"}, {"f"});
    g.Output("f");
    g.g->mutable_node(0)->mutable_attribute(0)->set_i(0);  // axis 0: the batch axis
    const std::string e = ErrorOf(g.Bytes());
    EXPECT_NE(e.find("values along axis 0"), std::string::npos) << e;
  }
  {  // MatMul straight on integer codes
    Graph g;
    g.InputOfType("a", {1, 2}, onnx::TensorProto::INT8);
    g.Init("W", {2, 2}, {1, 0, 0, 1});
    g.Node("MatMul", {"a", "W"}, {"y"});
    g.Output("y");
    const std::string e = ErrorOf(g.Bytes());
    EXPECT_NE(e.find("(MatMul): field 'input 0': MatMul/Gemm of integer codes: dequantize them first"), std::string::npos) << e;
  }
  {  // an int32 graph input
    Graph g;
    g.InputOfType("a", {1, 2}, onnx::TensorProto::INT32);
    g.Node("Identity", {"a"}, {"y"});
    g.Output("y");
    const std::string e = ErrorOf(g.Bytes());
    EXPECT_NE(e.find("graph.input 'a'': element type INT32 is not supported"), std::string::npos) << e;
  }
  {  // zero scale, zero point outside its type
    Graph g;
    g.Input("x", {1, 2});
    g.Init("s", {}, {0.0f});
    g.Node("QuantizeLinear", {"x", "s"}, {"y"});
    g.Output("y");
    EXPECT_NE(ErrorOf(g.Bytes()).find("field 'input 1 (scale)': scale 0 is not positive"), std::string::npos) << ErrorOf(g.Bytes());
  }
}

TEST(OnnxImport, WriteImportIsAtomicAndRefusesForeignDirectories) {
  const fs::path root = fs::path(HW_BINARY_DIR) / "test_out" / "onnx_import";
  fs::remove_all(root);
  fs::create_directories(root / "foreign");
  WriteFileOrThrow((root / "foreign" / "keep.txt").string(), "mine");
  const ImportResult r = ImportOnnxBytes(SmallMlp().Bytes(), "small.onnx");
  EXPECT_THROW(WriteImport(r, (root / "foreign").string()), Error);
  EXPECT_TRUE(fs::exists(root / "foreign" / "keep.txt"));
  WriteImport(r, (root / "out").string());
  WriteImport(r, (root / "out").string());  // replaces a previous import
  const model::Model m = model::LoadModel((root / "out" / "model.json").string());
  EXPECT_EQ(m.layers.size(), 1u);
  EXPECT_TRUE(fs::exists(root / "out" / "import.json"));
  for (const auto& e : fs::directory_iterator(root)) EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos);
}

}  // namespace
}  // namespace hw::onnx_import
