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
