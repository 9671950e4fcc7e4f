#include "data/fashion_preprocess.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>

#include "common/diag.h"
#include "common/file_util.h"

namespace hw::data {

namespace {
constexpr const char* kForms = "expected full_u<B> or pool<P>x<P>_u<B> with P in {2, 4, 7} and B in 1..8, "
                               "e.g. pool2x2_u8";
}

PreprocessSpec ParsePreprocess(const std::string& name) {
  static const std::regex re(R"((?:full|pool([0-9]+)x([0-9]+))_u([0-9]+))");
  std::smatch m;
  const Location loc{"", "", "preprocess"};
  if (!std::regex_match(name, m, re)) throw Error(loc, "unknown preprocessing '" + name + "': " + kForms);
  PreprocessSpec s;
  s.name = name;
  if (m[1].matched) {
    if (m[1].str() != m[2].str() || (m[1].str() != "2" && m[1].str() != "4" && m[1].str() != "7"))
      throw Error(loc, "unknown preprocessing '" + name + "': " + kForms);
    s.pool = std::stoi(m[1].str());
  }
  if (m[3].str().size() != 1 || m[3].str()[0] < '1' || m[3].str()[0] > '8')
    throw Error(loc, "unknown preprocessing '" + name + "': " + kForms);
  s.bits = m[3].str()[0] - '0';
  s.rows = 28 / s.pool;
  s.cols = 28 / s.pool;
  return s;
}

namespace {
std::vector<int64_t> Apply(const PreprocessSpec& s, const uint8_t* px) {
  const int64_t d = int64_t{s.pool} * s.pool << (8 - s.bits);  // divisor
  const int64_t hi = (int64_t{1} << s.bits) - 1;
  std::vector<int64_t> out(static_cast<size_t>(s.length()));
  for (int r = 0; r < s.rows; ++r)
    for (int c = 0; c < s.cols; ++c) {
      int64_t sum = 0;
      for (int dr = 0; dr < s.pool; ++dr)
        for (int dc = 0; dc < s.pool; ++dc) sum += px[(r * s.pool + dr) * 28 + c * s.pool + dc];
      const int64_t v = (2 * sum + d) / (2 * d);  // round half up; sum >= 0
      out[static_cast<size_t>(r) * s.cols + c] = std::min(v, hi);
    }
  return out;
}
}  // namespace

std::vector<int64_t> FashionPreprocess(const std::string& name, const uint8_t* pixels, int rows, int cols) {
  const PreprocessSpec s = ParsePreprocess(name);
  if (rows != 28 || cols != 28)
    throw Error(Location{"", "", "preprocess"}, "preprocessing '" + name + "' expects 28x28 images, got " +
                                                     std::to_string(rows) + "x" + std::to_string(cols));
  return Apply(s, pixels);
}

std::vector<std::vector<int64_t>> FashionPreprocessAll(const std::string& name, const IdxImages& images) {
  const PreprocessSpec s = ParsePreprocess(name);
  if (images.rows != 28 || images.cols != 28)
    throw Error(Location{"", "", "preprocess"}, "preprocessing '" + name + "' expects 28x28 images, got " +
                                                     std::to_string(images.rows) + "x" +
                                                     std::to_string(images.cols));
  std::vector<std::vector<int64_t>> out;
  out.reserve(static_cast<size_t>(images.count));
  for (int i = 0; i < images.count; ++i) out.push_back(Apply(s, images.image(i)));
  return out;
}

std::string ReadPreprocessName(const std::string& weights_dir) {
  const std::string path = (std::filesystem::path(weights_dir) / "training.json").string();
  const std::string text = ReadFileOrThrow(path, "training record");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(Location{path, "", ""}, std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("preprocess") || !j["preprocess"].is_string())
    throw Error(Location{path, "", "preprocess"}, "missing or not a string");
  const std::string name = j["preprocess"].get<std::string>();
  try {
    ParsePreprocess(name);
  } catch (const Error& e) {
    throw Error(Location{path, "", "preprocess"}, e.what());
  }
  return name;
}

void CheckPreprocessMatchesInput(const std::string& name, int input_length, bool input_signed, int input_bits,
                                 const std::string& model_path) {
  const PreprocessSpec s = ParsePreprocess(name);
  if (s.length() != input_length || input_signed || s.bits != input_bits)
    throw Error(Location{model_path, "", "input"},
                "preprocessing '" + name + "' produces " + std::to_string(s.length()) + " unsigned " +
                    std::to_string(s.bits) + "-bit elements but the model input is " +
                    std::to_string(input_length) + (input_signed ? " signed " : " unsigned ") +
                    std::to_string(input_bits) + "-bit elements");
}

}  // namespace hw::data
