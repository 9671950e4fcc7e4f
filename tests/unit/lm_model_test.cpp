// Graph-model (version 2) loader: a random LM loads; bad manifests and tensors get errors naming file, op, field.
#include "model/lm_model_io.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <sys/wait.h>

#include "common/file_util.h"

#include "common/diag.h"
#include "model/model_io.h"
#include "model/random_lm.h"

namespace hw::model {
namespace {

std::string ErrorText(const std::string& manifest, const TensorMap& t) {
  try {
    ParseLmModel(manifest, "lm.json", SerializeSafetensors(t), "lm.safetensors");
  } catch (const Error& e) {
    std::string all;
    for (const auto& m : e.messages()) all += m + "\n";
    return all;
  }
  return "";
}

// The error (or "") after replacing `from` by `to` in the manifest of a random LM.
std::string ManifestError(const std::string& from, const std::string& to) {
  RandomLmFiles f = RandomLm(RandomLmSpec{}, 1);
  const auto p = f.manifest.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p == std::string::npos) return "";
  f.manifest.replace(p, from.size(), to);
  return ErrorText(f.manifest, f.tensors);
}

TEST(LmModel, RandomModelLoads) {
  const RandomLmFiles f = RandomLm(RandomLmSpec{}, 1);
  const LmModel m = ParseLmModel(f.manifest, "lm.json", SerializeSafetensors(f.tensors), "lm.safetensors");
  EXPECT_EQ(m.vocab_size(), 12);
  EXPECT_EQ(m.context, 8);
  EXPECT_EQ(m.ops.back().kind, LmOpKind::kSample);
  EXPECT_EQ(m.output_op, static_cast<int>(m.ops.size()) - 1);
  // token, position, and one value per op but the sample op
  EXPECT_EQ(m.values.size(), m.ops.size() - 1 + 2);
  EXPECT_EQ(m.values[m.ValueId("b0_attn")].length, 16);
  EXPECT_EQ(m.BlockBoundaries(), (std::vector<int>{m.ValueId("x0"), m.ValueId("b0_res1"), m.ValueId("b0_res2")}));
  EXPECT_EQ(m.MatrixWeights(), 4 * 16 * 16 + 2 * 16 * 32 + 12 * 16);
  const LmOp& act = m.ops[m.values[m.ValueId("b0_act")].producer];
  EXPECT_EQ(act.input_lo, -128);
  EXPECT_EQ(act.table.size(), 256u);
}

TEST(LmModel, UnknownOpIsNamed) {
  const std::string e = ManifestError("\"op\": \"table\"", "\"op\": \"lookup\"");
  EXPECT_NE(e.find("lm.json: op 'b0_act' (ops["), std::string::npos) << e;
  EXPECT_NE(e.find("unknown op 'lookup'"), std::string::npos) << e;
}

TEST(LmModel, ContextAndVocabularyOutOfRange) {
  EXPECT_NE(ManifestError("\"context\": 8", "\"context\": 0").find("field 'context': value 0 out of range 1..4096"), std::string::npos);
  EXPECT_NE(ManifestError("\"context\": 8", "\"context\": 5000").find("out of range 1..4096"), std::string::npos);
  // A vocabulary of 129 symbols, and a repeated symbol.
  std::string many = "\"vocab\": [";
  for (int i = 0; i < 129; ++i) many += std::string(i ? "," : "") + "\"a\"";
  EXPECT_NE(ManifestError("\"vocab\": [", many + ",").find("1 .. 128"), std::string::npos);
  EXPECT_NE(ManifestError("\"b\",", "\"a\",").find("vocab[1]"), std::string::npos);
  EXPECT_NE(ManifestError("\"b\",", "\"ab\",").find("one ASCII character"), std::string::npos);
}

TEST(LmModel, TableOfTheWrongSize) {
  RandomLmFiles f = RandomLm(RandomLmSpec{}, 1);
  f.tensors["b0_norm1.rsqrt"].shape = {191};
  f.tensors["b0_norm1.rsqrt"].values.pop_back();
  const std::string e = ErrorText(f.manifest, f.tensors);
  EXPECT_NE(e.find("op 'b0_norm1'"), std::string::npos) << e;
  EXPECT_NE(e.find("field 'rsqrt': tensor 'b0_norm1.rsqrt' has shape [191], expected [192]"), std::string::npos) << e;
  f = RandomLm(RandomLmSpec{}, 1);
  f.tensors["b0_act.table"].shape = {255};
  f.tensors["b0_act.table"].values.pop_back();
  EXPECT_NE(ErrorText(f.manifest, f.tensors).find("expected [256]"), std::string::npos);
  f = RandomLm(RandomLmSpec{}, 1);
  f.tensors["tok_emb"].shape = {11, 16};
  f.tensors["tok_emb"].values.resize(11 * 16);
  EXPECT_NE(ErrorText(f.manifest, f.tensors).find("expected [12, any]"), std::string::npos);
  f = RandomLm(RandomLmSpec{}, 1);
  f.tensors["exp2"].shape = {63};
  f.tensors["exp2"].values.pop_back();
  EXPECT_NE(ErrorText(f.manifest, f.tensors).find("power of two"), std::string::npos);
}

TEST(LmModel, WeightsOutsideTheirBits) {
  RandomLmFiles f = RandomLm(RandomLmSpec{}, 1);
  f.tensors["b0_q.weight"].values[5] = 8;  // 4-bit signed: -8 .. 7
  const std::string e = ErrorText(f.manifest, f.tensors);
  EXPECT_NE(e.find("element 5 is 8, outside -8 .. 7"), std::string::npos) << e;
}

TEST(LmModel, GraphStructureErrors) {
  EXPECT_NE(ManifestError("\"input\": \"b0_norm2\"", "\"input\": \"nope\"").find("'nope' is not a value defined by an earlier op"),
            std::string::npos);
  EXPECT_NE(ManifestError("\"output\": \"next\"", "\"output\": \"logits\"").find("must name the sample op"), std::string::npos);
  EXPECT_NE(ManifestError("\"name\": \"b0_q\"", "\"name\": \"b0_k\"").find("repeats the name of"), std::string::npos);
  EXPECT_NE(ManifestError("\"name\": \"b0_q\"", "\"name\": \"token\"").find("built-in value"), std::string::npos);
  EXPECT_NE(ManifestError("\"heads\": 2", "\"heads\": 3").find("3 heads do not divide length 16"), std::string::npos);
  EXPECT_NE(ManifestError("\"heads\": 2", "\"heads\": 2, \"typo\": 1").find("field 'typo': unknown field"), std::string::npos);
  EXPECT_NE(ManifestError("\"frac_bits\"", "\"fracbits\"").find("missing required field"), std::string::npos);
}

TEST(LmModel, MissingTensorNamesFileAndOp) {
  RandomLmFiles f = RandomLm(RandomLmSpec{}, 1);
  f.tensors.erase("b0_ffn2.weight");
  const std::string e = ErrorText(f.manifest, f.tensors);
  EXPECT_NE(e.find("op 'b0_ffn2'"), std::string::npos) << e;
  EXPECT_NE(e.find("tensor 'b0_ffn2.weight' not found in lm.safetensors"), std::string::npos) << e;
}

TEST(LmModel, DenseLoaderPointsGraphModelsElsewhere) {
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "lm_v2";
  WriteRandomLm(RandomLmSpec{}, 3, dir.string());
  const std::string path = (dir / "model.json").string();
  EXPECT_TRUE(IsGraphManifest(path));
  try {
    LoadModel(path);
    FAIL() << "a version-2 manifest loaded as a dense chain";
  } catch (const Error& e) {
    EXPECT_NE(e.messages()[0].find("graph model (version 2"), std::string::npos) << e.messages()[0];
  }
  EXPECT_EQ(LoadLmModel(path).vocab_size(), 12);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hw::model

namespace hw::model {
namespace {

// The CLI on bad language-model input: exit status 1 and one clear line naming the file or flag.
struct CliResult {
  int status;
  std::string err;
};
CliResult RunCli(const std::string& args) {
  const auto err = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "lm_cli_stderr.txt";
  const std::string cmd = std::string(HW_BINARY_DIR) + "/hardwire " + args + " >/dev/null 2>" + err.string();
  const int raw = std::system(cmd.c_str());
  return {WEXITSTATUS(raw), ReadFileOrThrow(err.string(), "")};
}

TEST(LmCli, BadPromptsAndModelsAreRefused) {
  const auto dir = std::filesystem::path(HW_BINARY_DIR) / "test_out" / "lm_cli";
  WriteRandomLm(RandomLmSpec{}, 4, dir.string());
  const std::string m = (dir / "model.json").string();
  CliResult r = RunCli("ref " + m + " --prompt abc --greedy --tokens 3");
  EXPECT_EQ(r.status, 0) << r.err;
  r = RunCli("ref " + m + " --prompt abc --prompt 'a?c' --tokens 3");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: --prompt 2: character '?' at offset 1 is not in the model's vocabulary\n");
  r = RunCli("ref " + m + " --prompt abcabcabc --tokens 3");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: --prompt 1: the prompt has 9 tokens; the model's context is 8\n");
  r = RunCli("ref " + m + " --inputs x.txt");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("needs at least one --prompt"), std::string::npos) << r.err;
  // explain shows a dense op's adder tree and refuses other ops, writing nothing then.
  r = RunCli("explain " + m + " --layer b0_attn --neuron 0 --svg none --dot " + (dir / "out").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("explain needs a dense op; this one is attention"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  r = RunCli("explain " + m + " --layer b0_q --neuron 0 --svg none --dot " + (dir / "out").string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(hw::ReadFileOrThrow((dir / "out").string(), "dot").find("digraph"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "out"));
  std::filesystem::remove(dir / "out");
  // Commands that handle dense chains only refuse a graph model and write nothing.
  r = RunCli("synth " + m + " --work " + (dir / "out").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("graph model (version 2"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  // report sums a language model's RTL per block.
  r = RunCli("report " + m + " -o " + (dir / "report").string() + " --adders-per-stage 4");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(ReadFileOrThrow((dir / "report" / "report.md").string(), "").find("| b0 |"), std::string::npos);
  {
    // The K/V cache: a K and a V row of d elements per position (context 8, d 16), here 8-bit, per stream.
    const auto j = nlohmann::json::parse(ReadFileOrThrow((dir / "report" / "report.json").string(), ""));
    const long kv = j.at("kv_cache_bits_per_stream").get<long>(), other = j.at("other_state_bits_per_stream").get<long>();
    EXPECT_EQ(kv % (2 * 8 * 16), 0);
    EXPECT_GE(kv, 2 * 8 * 16 * 2);
    EXPECT_EQ(kv + other, j.at("total").at("state_bits_per_stream").get<long>());
    EXPECT_EQ(j.at("kv_cache_bits").get<long>(), kv * j.at("streams").get<long>());
    // the slowest stage, estimated under the fpga model for a level schedule
    EXPECT_GT(j.at("slowest_stage_ns").get<double>(), 1.0);
    EXPECT_NE(j.at("timing_model").get<std::string>().find("K = 4"), std::string::npos);
  }
  // under a clock target the report's estimate is the target model's and within the clock
  r = RunCli("report " + m + " -o " + (dir / "report_asic").string() + " --clock-ns 2 --target asic");
  EXPECT_EQ(r.status, 0) << r.err;
  {
    const auto j = nlohmann::json::parse(ReadFileOrThrow((dir / "report_asic" / "report.json").string(), ""));
    EXPECT_LE(j.at("slowest_stage_ns").get<double>(), 2.0 + 1e-9);
    EXPECT_NE(j.at("timing_model").get<std::string>().find("asic"), std::string::npos);
  }
  // generate prints a language model into RTL.
  r = RunCli("generate " + m + " -o " + (dir / "rtl").string() + " --adders-per-stage 4");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(ReadFileOrThrow((dir / "rtl" / "interface.json").string(), "").find("\"kind\": \"language-model\""), std::string::npos);
  // sim refuses bad prompts before building anything: unknown symbols, longer than the context, more prompts
  // than the chip has streams.
  const std::string sim = "sim " + m + " --rtl " + (dir / "rtl").string() + " --build-dir " + (dir / "simdir").string();
  r = RunCli(sim + " --prompt ab --prompt 'a?c'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: --prompt 2: character '?' at offset 1 is not in the model's vocabulary\n");
  r = RunCli(sim + " --prompt abcabcabc");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: --prompt 1: the prompt has 9 tokens; the model's context is 8\n");
  {
    const int streams = nlohmann::json::parse(ReadFileOrThrow((dir / "rtl" / "interface.json").string(), "")).at("streams").get<int>();
    std::string many;
    for (int s = 0; s <= streams; ++s) many += "ab\n";
    WriteFileOrThrow((dir / "prompts.txt").string(), many);
    r = RunCli(sim + " --prompts-file " + (dir / "prompts.txt").string());
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(fmt::format("{} prompts for {} streams", streams + 1, streams)), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "simdir"));
  // Unknown op: eval names the file, the op and the field.
  std::string text = ReadFileOrThrow(m, "");
  text.replace(text.find("\"rmsnorm\""), 9, "\"layernorm\"");
  WriteFileOrThrow(m, text);
  r = RunCli("eval " + m + " --text " + m);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(m + ": op 'b0_norm1' (ops[3]): field 'op': unknown op 'layernorm'"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hw::model
