// Golden diagnostics: every way a model (or the output directory) can be wrong, each run through the real
// `hardwire generate` binary, checking the exit status and the exact stderr.
//
// Each case is built here from the hand-written model tests/data/tiny by a small edit. The expected stderr of
// case <name> is tests/data/bad/<name>.expected and a copy of its input files is kept in tests/data/bad/<name>/
// (files above 1 MiB are left out) so that a case can be reproduced by hand:
//
//   cd tests/data/bad && hardwire generate <name>/model.json -o <name>/out
//
// Never edit the expected files by hand; regenerate them (and the copies) with
//
//   HW_UPDATE_GOLDENS=1 build/hw_unit_tests --gtest_filter='Diagnostics*'
//
// and review the diff.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/diag.h"
#include "common/file_util.h"
#include "driver/generate.h"
#include "model/safetensors.h"

namespace hw {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kTinyDir = fs::path(HW_TEST_DATA) / "tiny";
const fs::path kBadDir = fs::path(HW_TEST_DATA) / "bad";

// The input files of one case, relative to its directory.
struct CaseFiles {
  std::string manifest;  // model.json text
  std::string tensors;   // tiny.safetensors bytes
  bool write_manifest = true;
  bool write_tensors = true;
  std::string out = "out";                    // -o, relative to the case directory
  std::function<void(const fs::path&)> setup;  // extra preparation in the case directory
};

struct Case {
  const char* name;
  std::function<void(CaseFiles&)> make;
};

void Replace(std::string& s, const std::string& a, const std::string& b) {
  const auto p = s.find(a);
  if (p == std::string::npos) throw std::runtime_error("test case edit: '" + a + "' not found");
  s.replace(p, a.size(), b);
}

std::string TinyHeader() {
  const std::string b = ReadFileOrThrow((kTinyDir / "tiny.safetensors").string(), "");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(b[i]);
  return b.substr(8, n);
}
std::string TinyData() {
  const std::string b = ReadFileOrThrow((kTinyDir / "tiny.safetensors").string(), "");
  return b.substr(8 + TinyHeader().size());
}
// safetensors bytes from header text and data buffer.
std::string Raw(const std::string& header, const std::string& data, uint64_t claimed_len = UINT64_MAX) {
  const uint64_t n = claimed_len == UINT64_MAX ? header.size() : claimed_len;
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + data;
}
// Edits tiny's header text, keeps its data.
std::function<void(CaseFiles&)> HeaderEdit(const std::string& a, const std::string& b) {
  return [a, b](CaseFiles& c) {
    std::string h = TinyHeader();
    Replace(h, a, b);
    c.tensors = Raw(h, TinyData());
  };
}
std::function<void(CaseFiles&)> ManifestEdit(const std::string& a, const std::string& b) {
  return [a, b](CaseFiles& c) { Replace(c.manifest, a, b); };
}
// Edits tiny's tensors as values and re-serialises them.
std::function<void(CaseFiles&)> TensorEdit(std::function<void(model::TensorMap&)> edit) {
  return [edit](CaseFiles& c) {
    model::TensorMap t = model::ParseSafetensors(c.tensors, "tiny.safetensors");
    edit(t);
    c.tensors = model::SerializeSafetensors(t);
  };
}
std::function<void(CaseFiles&)> JsonEdit(std::function<void(json&)> edit) {
  return [edit](CaseFiles& c) {
    json j = json::parse(c.manifest);
    edit(j);
    c.manifest = j.dump(2) + "\n";
  };
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // --- files ---
      {"manifest_missing", [](CaseFiles& c) { c.write_manifest = false; }},
      {"manifest_is_directory", [](CaseFiles& c) {
         c.write_manifest = false;
         c.setup = [](const fs::path& d) {
           fs::create_directories(d / "model.json");
           WriteFileOrThrow((d / "model.json" / "keep").string(), "");
         };
       }},
      {"tensors_missing", [](CaseFiles& c) { c.write_tensors = false; }},
      {"tensors_is_directory", [](CaseFiles& c) {
         c.write_tensors = false;
         c.setup = [](const fs::path& d) {
           fs::create_directories(d / "tiny.safetensors");
           WriteFileOrThrow((d / "tiny.safetensors" / "keep").string(), "");
         };
       }},
      {"tensors_absolute_path", ManifestEdit("\"tensors\": \"tiny.safetensors\"", "\"tensors\": \"/etc/passwd\"")},
      {"tensors_empty_name", ManifestEdit("\"tensors\": \"tiny.safetensors\"", "\"tensors\": \"\"")},
      // --- manifest JSON ---
      {"manifest_empty", [](CaseFiles& c) { c.manifest = ""; }},
      {"manifest_truncated", [](CaseFiles& c) { c.manifest = c.manifest.substr(0, 300); }},
      {"manifest_not_object", [](CaseFiles& c) { c.manifest = "[1, 2, 3]\n"; }},
      {"manifest_duplicate_key", ManifestEdit("\"bits\": 4\n      }", "\"bits\": 4,\n        \"bits\": 8\n      }")},
      {"manifest_duplicate_top_key", ManifestEdit("\"name\": \"tiny\",", "\"name\": \"tiny\",\n  \"name\": \"other\",")},
      {"manifest_deep_nesting", ManifestEdit("\"version\": 1,", "\"version\": 1, \"x\": " + std::string(100, '[') + std::string(100, ']') + ",")},
      {"manifest_control_characters", ManifestEdit("\"name\": \"fc1\"", "\"name\": \"fc\\u001b[31m1\\n\"")},
      // --- schema ---
      {"format_wrong", ManifestEdit("\"hardwire-model\"", "\"onnx\"")},
      {"version_wrong", ManifestEdit("\"version\": 1", "\"version\": 3")},
      {"field_missing", JsonEdit([](json& j) { j.erase("input"); j["layers"][0]["output"].erase("clamp"); })},
      {"field_unknown", ManifestEdit("\"encoding\": \"signed\",", "\"encoding\": \"signed\", \"bit\": 4,")},
      {"wrong_type_string", ManifestEdit("\"bits\": 4\n  }", "\"bits\": \"4\"\n  }")},
      {"wrong_type_float", ManifestEdit("\"length\": 4", "\"length\": 4.0")},
      {"wrong_type_bool", JsonEdit([](json& j) { j["input"]["signed"] = 0; j["layers"][0]["weight"]["tensor"] = 7; })},
      {"input_length_huge", ManifestEdit("\"length\": 4", "\"length\": 1000000000")},
      {"input_length_over_limit", ManifestEdit("\"length\": 4", "\"length\": 65537")},
      {"int_beyond_int64", ManifestEdit("\"length\": 4", "\"length\": 18446744073709551615")},
      {"int_beyond_uint64", ManifestEdit("\"length\": 4", "\"length\": 99999999999999999999999")},
      {"negative_bits", ManifestEdit("\"bits\": 4\n      }", "\"bits\": -4\n      }")},
      {"kind_unknown", ManifestEdit("\"kind\": \"argmax\"", "\"kind\": \"conv2d\"")},
      {"argmax_not_last", JsonEdit([](json& j) { std::swap(j["layers"][1], j["layers"][2]); })},
      {"layers_empty", JsonEdit([](json& j) { j["layers"] = json::array(); })},
      {"layer_not_object", JsonEdit([](json& j) { j["layers"][1] = 5; })},
      {"name_not_identifier", JsonEdit([](json& j) { j["name"] = "9lives"; j["layers"][1]["name"] = "fc 2"; })},
      {"layer_name_duplicate", JsonEdit([](json& j) { j["layers"][1]["name"] = "fc1"; })},
      {"encoding_unknown", ManifestEdit("\"encoding\": \"signed\",\n        \"bits\": 4", "\"encoding\": \"int4\",\n        \"bits\": 4")},
      {"binary_bits_wrong", ManifestEdit("\"encoding\": \"signed\",\n        \"bits\": 4", "\"encoding\": \"binary\",\n        \"bits\": 4")},
      {"ternary_bits_wrong", ManifestEdit("\"encoding\": \"signed\",\n        \"bits\": 3", "\"encoding\": \"ternary\",\n        \"bits\": 3")},
      {"clamp_reversed", JsonEdit([](json& j) { j["layers"][0]["output"]["clamp"] = {63, 0}; })},
      {"clamp_not_representable", JsonEdit([](json& j) { j["layers"][0]["output"]["clamp"] = {-1, 64}; })},
      {"clamp_huge", ManifestEdit("63\n", "18446744073709551615\n")},
      {"clamp_not_pair", JsonEdit([](json& j) { j["layers"][0]["output"]["clamp"] = {0, 1.5}; j["layers"][1]["output"]["clamp"] = {0}; })},
      {"output_bits_out_of_range", JsonEdit([](json& j) { j["layers"][0]["output"]["bits"] = 33; j["layers"][1]["output"]["bits"] = 0; })},
      {"multiplier_scalar_zero", JsonEdit([](json& j) { j["layers"][0]["requant"]["multiplier"] = 0; })},
      {"multiplier_scalar_too_big", JsonEdit([](json& j) { j["layers"][0]["requant"]["multiplier"] = int64_t{1} << 31; })},
      {"shift_scalar_too_big", JsonEdit([](json& j) { j["layers"][0]["requant"]["shift"] = 63; j["layers"][1]["requant"]["shift"] = -1; })},
      {"shift_wrong_type", JsonEdit([](json& j) { j["layers"][0]["requant"]["shift"] = 1.5; j["layers"][1]["requant"]["shift"] = "2"; })},
      {"many_errors", JsonEdit([](json& j) {
         for (int i = 0; i < 60; ++i) j["layers"][0]["typo" + std::to_string(100 + i)] = i;
       })},
      // --- safetensors header ---
      {"st_too_short", [](CaseFiles& c) { c.tensors = std::string("\x10\x00\x00", 3); }},
      {"st_header_length_huge", [](CaseFiles& c) { c.tensors = Raw(TinyHeader(), TinyData(), uint64_t{1} << 63); }},
      {"st_header_beyond_file", [](CaseFiles& c) { c.tensors = Raw(TinyHeader(), TinyData(), 4096); }},
      {"st_header_not_json", [](CaseFiles& c) { c.tensors = Raw("{\"fc1.bias\": {\"dtype\": I8}}", TinyData()); }},
      {"st_header_not_object", [](CaseFiles& c) { c.tensors = Raw("[1, 2]  ", TinyData()); }},
      {"st_duplicate_tensor_name",
       HeaderEdit("\"fc2.weight\":", "\"fc1.bias\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[28,31]},\"fc2.weight\":")},
      {"st_duplicate_entry_key", HeaderEdit("{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[0,3]}",
                                            "{\"dtype\":\"I8\",\"dtype\":\"I16\",\"shape\":[3],\"data_offsets\":[0,3]}")},
      {"st_offsets_out_of_bounds", HeaderEdit("[25,31]", "[25,4000000031]")},
      {"st_offsets_reversed", HeaderEdit("[6,9]", "[9,6]")},
      {"st_offsets_overlap", HeaderEdit("[6,9]", "[4,7]")},
      {"st_offsets_overlap_after_empty", [](CaseFiles& c) {
         // [9, 21), then an empty range at 12, then [14, 16): the overlap is with the range before the empty one.
         std::string h = TinyHeader();
         Replace(h, "\"fc2.weight\":", "\"empty\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[12,12]},\"fc2.weight\":");
         Replace(h, "[21,23]", "[14,16]");
         c.tensors = Raw(h, TinyData());
       }},
      {"st_offsets_float", HeaderEdit("[0,3]", "[0.0,3]")},
      {"st_offsets_negative", HeaderEdit("[0,3]", "[-1,3]")},
      {"st_dtype_unsupported", HeaderEdit("{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[0,3]}",
                                          "{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,3]}")},
      {"st_dtype_missing", HeaderEdit("{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[0,3]}", "{\"shape\":[3],\"data_offsets\":[0,3]}")},
      {"st_size_mismatch", HeaderEdit("\"shape\":[3,4]", "\"shape\":[4,4]")},
      {"st_dtype_size_mismatch", HeaderEdit("{\"dtype\":\"I8\",\"shape\":[3,4]", "{\"dtype\":\"I16\",\"shape\":[3,4]")},
      {"st_shape_negative", HeaderEdit("\"shape\":[3,4]", "\"shape\":[-3,4]")},
      {"st_shape_huge", HeaderEdit("\"shape\":[3,4]", "\"shape\":[1048576,1048576]")},
      {"st_shape_overflow", HeaderEdit("\"shape\":[3,4]", "\"shape\":[4294967296,4294967296,4294967296]")},
      {"st_shape_not_array", HeaderEdit("\"shape\":[3,4]", "\"shape\":12")},
      {"st_unknown_key", HeaderEdit("\"shape\":[3,4],", "\"shape\":[3,4],\"scale\":0.5,")},
      {"st_metadata_not_strings", HeaderEdit("{\"fc1.bias\"", "{\"__metadata__\":{\"format\":\"pt\",\"epoch\":3},\"fc1.bias\"")},
      {"st_entry_not_object", HeaderEdit("{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[0,3]}", "[0,3]")},
      // --- tensors against the manifest ---
      {"tensor_not_found", ManifestEdit("\"fc1.bias\"", "\"fc1.bais\"")},
      {"weight_rank_wrong", TensorEdit([](model::TensorMap& t) { t["fc1.weight"].shape = {12}; })},
      {"shapes_do_not_chain", TensorEdit([](model::TensorMap& t) {
         t["fc2.weight"].shape = {2, 4};
         t["fc2.weight"].values = {1, 0, 0, 1, 0, 1, 1, 0};
       })},
      {"output_count_zero", TensorEdit([](model::TensorMap& t) {
         t["fc1.weight"].shape = {0, 4};
         t["fc1.weight"].values = {};
       })},
      {"weight_out_of_range", TensorEdit([](model::TensorMap& t) { t["fc1.weight"].values[5] = 8; })},
      {"weight_most_negative_out_of_range", TensorEdit([](model::TensorMap& t) { t["fc1.weight"].values[7] = -9; })},
      {"weight_unsigned_negative", ManifestEdit("\"encoding\": \"signed\",\n        \"bits\": 4", "\"encoding\": \"unsigned\",\n        \"bits\": 4")},
      {"weight_binary_zero", [](CaseFiles& c) {
         Replace(c.manifest, "\"encoding\": \"signed\",\n        \"bits\": 3", "\"encoding\": \"binary\",\n        \"bits\": 1");
         TensorEdit([](model::TensorMap& t) { t["fc2.weight"].values = {1, -1, 1, -1, 0, 1}; })(c);
       }},
      {"weight_ternary_out_of_range",
       ManifestEdit("\"encoding\": \"signed\",\n        \"bits\": 3", "\"encoding\": \"ternary\",\n        \"bits\": 2")},
      {"multiplier_tensor_zero", TensorEdit([](model::TensorMap& t) { t["fc1.multiplier"].values[1] = 0; })},
      {"multiplier_tensor_shape", TensorEdit([](model::TensorMap& t) {
         t["fc1.multiplier"].shape = {1, 3};
         t["fc2.shift"].shape = {1};
         t["fc2.shift"].values = {0};
       })},
      {"shift_tensor_out_of_range", TensorEdit([](model::TensorMap& t) {
         t["fc1.shift"].values[2] = 63;
         t["fc2.shift"].values[0] = -1;
       })},
      {"accumulator_overflow", TensorEdit([](model::TensorMap& t) {
         t["fc1.multiplier"].dtype = model::DType::kI32;
         t["fc1.multiplier"].values[0] = (int64_t{1} << 31) - 1;
         t["fc1.bias"].dtype = model::DType::kI32;
         t["fc1.bias"].values[0] = (int64_t{1} << 31) - 1;
       })},
      {"layer_too_many_weights", [](CaseFiles& c) {
         Replace(c.manifest, "\"length\": 4", "\"length\": 65536");
         model::TensorMap t = model::ParseSafetensors(c.tensors, "tiny.safetensors");
         t["fc1.weight"].shape = {257, 65536};
         t["fc1.weight"].values.assign(size_t{257} * 65536, 0);
         c.tensors = model::SerializeSafetensors(t);
       }},
      // --- output directory ---
      {"out_is_a_file", [](CaseFiles& c) {
         c.setup = [](const fs::path& d) { WriteFileOrThrow((d / "out").string(), "not a directory\n"); };
       }},
      {"out_parent_is_a_file", [](CaseFiles& c) {
         c.out = "blocker/out";
         c.setup = [](const fs::path& d) { WriteFileOrThrow((d / "blocker").string(), "a file where a directory should be\n"); };
       }},
      {"out_not_hardwire_output", [](CaseFiles& c) {
         c.setup = [](const fs::path& d) {
           fs::create_directories(d / "out");
           WriteFileOrThrow((d / "out" / "notes.txt").string(), "someone else's files\n");
         };
       }},
  };
  return cases;
}

struct Outcome {
  int status = -1;
  std::string stderr_text;
};

// Builds case `c` under `root`/<name>/ and runs `hardwire generate` from `root` so that every path in the
// messages is relative and stable.
Outcome RunCase(const Case& c, const fs::path& root) {
  const fs::path dir = root / c.name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  CaseFiles files;
  files.manifest = ReadFileOrThrow((kTinyDir / "model.json").string(), "");
  files.tensors = ReadFileOrThrow((kTinyDir / "tiny.safetensors").string(), "");
  c.make(files);
  if (files.write_manifest) WriteFileOrThrow((dir / "model.json").string(), files.manifest);
  if (files.write_tensors) WriteFileOrThrow((dir / "tiny.safetensors").string(), files.tensors);
  if (files.setup) files.setup(dir);
  const std::string name = c.name;
  const std::string cmd = "cd '" + root.string() + "' && '" + std::string(HW_BINARY_DIR) + "/hardwire' generate " + name +
                          "/model.json -o " + name + "/" + files.out + " >" + name + ".stdout 2>" + name + ".stderr";
  const int raw = std::system(cmd.c_str());
  Outcome o;
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  o.stderr_text = ReadFileOrThrow((root / (name + ".stderr")).string(), "");
  return o;
}

// Copies the case's inputs (files up to 1 MiB) into tests/data/bad/<name>/.
void SaveCaseInputs(const fs::path& from, const fs::path& to) {
  fs::remove_all(to);
  fs::create_directories(to);
  for (const auto& e : fs::recursive_directory_iterator(from)) {
    const fs::path rel = fs::relative(e.path(), from);
    if (e.is_directory()) fs::create_directories(to / rel);
    else if (e.is_regular_file() && e.file_size() <= (1u << 20)) fs::copy_file(e.path(), to / rel);
  }
}

bool Updating() {
  const char* v = std::getenv("HW_UPDATE_GOLDENS");
  return v && std::string(v) == "1";
}

TEST(Diagnostics, CaseNamesAreUniqueAndGoldensExist) {
  std::set<std::string> names;
  for (const Case& c : Cases()) EXPECT_TRUE(names.insert(c.name).second) << c.name;
  if (Updating()) return;
  // Every golden file belongs to a case (no stale goldens).
  for (const auto& e : fs::directory_iterator(kBadDir))
    if (e.path().extension() == ".expected") EXPECT_TRUE(names.count(e.path().stem().string())) << "stale golden " << e.path();
}

class DiagnosticsGolden : public ::testing::TestWithParam<size_t> {};

TEST_P(DiagnosticsGolden, ExitsNonZeroWithTheExpectedMessages) {
  const Case& c = Cases()[GetParam()];
  const fs::path root = fs::path(HW_BINARY_DIR) / "test_out" / "diagnostics";
  const Outcome o = RunCase(c, root);
  const fs::path golden = kBadDir / (std::string(c.name) + ".expected");
  if (Updating()) {
    fs::create_directories(kBadDir);
    WriteFileOrThrow(golden.string(), o.stderr_text);
    SaveCaseInputs(root / c.name, kBadDir / c.name);
  }
  EXPECT_EQ(o.status, 1) << c.name << ": " << o.stderr_text;
  ASSERT_TRUE(fs::exists(golden)) << golden << " missing: run with HW_UPDATE_GOLDENS=1";
  EXPECT_EQ(o.stderr_text, ReadFileOrThrow(golden.string(), "")) << c.name;
  // Every line names a file (and nothing escapes onto a second physical line unannounced).
  std::istringstream lines(o.stderr_text);
  for (std::string line; std::getline(lines, line);) EXPECT_EQ(line.rfind("error: ", 0), 0u) << c.name << ": " << line;
  // A failed generate leaves no output directory and no temporary sibling behind.
  const fs::path out_parent = (root / c.name / "out").parent_path();
  for (const auto& e : fs::directory_iterator(out_parent))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

INSTANTIATE_TEST_SUITE_P(Cases, DiagnosticsGolden, ::testing::Range<size_t>(0, Cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) { return std::string(Cases()[info.param].name); });

// --- atomic output: a write that fails half-way leaves nothing half-written behind ---

std::vector<std::string> Siblings(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

fs::path FreshDir(const std::string& name) {
  const fs::path d = fs::path(HW_BINARY_DIR) / "test_out" / "atomic" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The second file cannot be created (its subdirectory does not exist), so the write fails after the first.
const std::vector<emit::EmittedFile> kFailingFiles = {{"interface.json", "{}\n"}, {"no_such_dir/top.v", "module m; endmodule\n"}};
const std::vector<emit::EmittedFile> kGoodFiles = {{"interface.json", "{\"new\": 1}\n"}, {"top.v", "module m; endmodule\n"}};

TEST(AtomicOutput, FailureMidWriteLeavesNoOutputDirectory) {
  const fs::path root = FreshDir("fresh");
  EXPECT_THROW(driver::WriteOutputDir(kFailingFiles, (root / "out").string()), Error);
  EXPECT_EQ(Siblings(root), std::vector<std::string>{});  // no out/, no out.tmp-*, no out.old-*
}

TEST(AtomicOutput, FailureMidWriteKeepsThePreviousOutput) {
  const fs::path root = FreshDir("previous");
  driver::WriteOutputDir(kGoodFiles, (root / "out").string());
  EXPECT_THROW(driver::WriteOutputDir(kFailingFiles, (root / "out").string()), Error);
  EXPECT_EQ(Siblings(root), std::vector<std::string>{"out"});
  EXPECT_EQ(Siblings(root / "out"), (std::vector<std::string>{"interface.json", "top.v"}));
  EXPECT_EQ(ReadFileOrThrow((root / "out" / "interface.json").string(), ""), "{\"new\": 1}\n");
}

TEST(AtomicOutput, ReplacesAPreviousOutputCompletely) {
  const fs::path root = FreshDir("replace");
  driver::WriteOutputDir({{"interface.json", "old"}, {"stale.v", "old"}}, (root / "out").string());
  driver::WriteOutputDir(kGoodFiles, (root / "out").string());
  EXPECT_EQ(Siblings(root), std::vector<std::string>{"out"});
  EXPECT_EQ(Siblings(root / "out"), (std::vector<std::string>{"interface.json", "top.v"}));
}

TEST(AtomicOutput, TrailingSlashNamesTheSameDirectory) {
  const fs::path root = FreshDir("slash");
  driver::WriteOutputDir(kGoodFiles, (root / "out").string() + "/");
  EXPECT_EQ(Siblings(root), std::vector<std::string>{"out"});
  EXPECT_EQ(Siblings(root / "out"), (std::vector<std::string>{"interface.json", "top.v"}));
  driver::WriteOutputDir(kGoodFiles, (root / "out").string() + "//");  // and again, replacing it
  EXPECT_EQ(Siblings(root), std::vector<std::string>{"out"});
}

TEST(AtomicOutput, RefusesToReplaceAFileOrForeignDirectory) {
  const fs::path root = FreshDir("refuse");
  WriteFileOrThrow((root / "file").string(), "precious");
  EXPECT_THROW(driver::WriteOutputDir(kGoodFiles, (root / "file").string()), Error);
  EXPECT_EQ(ReadFileOrThrow((root / "file").string(), ""), "precious");
  fs::create_directories(root / "foreign");
  WriteFileOrThrow((root / "foreign" / "notes.txt").string(), "precious");
  EXPECT_THROW(driver::WriteOutputDir(kGoodFiles, (root / "foreign").string()), Error);
  EXPECT_EQ(Siblings(root / "foreign"), std::vector<std::string>{"notes.txt"});
  EXPECT_THROW(driver::WriteOutputDir(kGoodFiles, (root / "file" / "out").string()), Error);
  EXPECT_EQ(Siblings(root), (std::vector<std::string>{"file", "foreign"}));
}

}  // namespace
}  // namespace hw
