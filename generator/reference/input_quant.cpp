#include "reference/input_quant.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "common/diag.h"
#include "common/file_util.h"

namespace hw::reference {

namespace {

double RoundMode(double d, const std::string& mode) {
  if (mode == "ROUND" || mode == "HALF_EVEN") return std::nearbyint(d);  // default rounding: to nearest, ties even
  if (mode == "CEIL") return std::ceil(d);
  if (mode == "FLOOR") return std::floor(d);
  if (mode == "DOWN") return std::trunc(d);
  if (mode == "UP") return d < 0 ? -std::ceil(-d) : std::ceil(d);
  if (mode == "HALF_UP") return d < 0 ? -std::floor(-d + 0.5) : std::floor(d + 0.5);
  return d < 0 ? -std::ceil(-d - 0.5) : std::ceil(d - 0.5);  // HALF_DOWN
}

}  // namespace

int64_t QuantizeInput(const model::InputQuantizer& q, double x, int index) {
  float f = static_cast<float>(x);
  for (const auto& p : q.pre) {
    const float c = static_cast<float>(p.value);
    if (p.op == "add") f = f + c;
    else if (p.op == "sub") f = f - c;
    else if (p.op == "sub_from") f = c - f;
    else if (p.op == "mul") f = f * c;
    else f = f / c;
  }
  if (q.rounding == "SIGN") return f >= 0.0f ? 1 : 0;  // bipolar {-1, +1} carried as {0, 1}
  if (q.rounding == "NONE") return static_cast<int64_t>(x);
  const double lo = static_cast<double>(q.code_min), hi = static_cast<double>(q.code_max);
  const double zp = static_cast<double>(q.zero_point_at(index));
  const float t = f / static_cast<float>(q.scale_at(index));
  if (q.order == model::InputQuantizer::Order::kRoundThenAddZero)
    return static_cast<int64_t>(std::clamp(std::nearbyint(static_cast<double>(t)) + zp, lo, hi));
  const float u = t + static_cast<float>(zp);
  return static_cast<int64_t>(RoundMode(std::clamp(static_cast<double>(u), lo, hi), q.rounding));
}

Batch ReadFloatInputs(const model::Model& model, const std::string& path) {
  if (!model.input_quantizer.present)
    throw Error(Location{model.manifest_path, "", "input.quantizer"},
                "--float-inputs needs the model's input quantizer (written by `hardwire import`); this model takes integers only");
  const std::string text = ReadFileOrThrow(path, "float input file");
  std::vector<std::vector<int64_t>> rows;
  std::istringstream lines(text);
  std::string line;
  int lineno = 0;
  while (std::getline(lines, line)) {
    ++lineno;
    if (const auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream words(line);
    std::string w;
    std::vector<int64_t> row;
    int col = 0;
    while (words >> w) {
      ++col;
      errno = 0;
      char* end = nullptr;
      const double x = std::strtod(w.c_str(), &end);
      if (end == w.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(x))
        throw Error(Location{path, fmt::format("line {}", lineno), fmt::format("column {}", col)},
                    fmt::format("'{}' is not a finite number", w.substr(0, 40)));
      if (model.input_quantizer.rounding == "NONE" &&
          (x != std::round(x) || x < static_cast<double>(model.input.min()) || x > static_cast<double>(model.input.max())))
        throw Error(Location{path, fmt::format("line {}", lineno), fmt::format("column {}", col)},
                    fmt::format("{} is not an integer in [{}, {}]: this model's graph input is already integer", w.substr(0, 40),
                                model.input.min(), model.input.max()));
      if (static_cast<int>(row.size()) >= model.input_length)
        throw Error(Location{path, fmt::format("line {}", lineno), fmt::format("column {}", col)},
                    fmt::format("more than {} values, the model input length", model.input_length));
      row.push_back(QuantizeInput(model.input_quantizer, x, static_cast<int>(row.size())));
    }
    if (row.empty()) continue;
    if (static_cast<int>(row.size()) != model.input_length)
      throw Error(Location{path, fmt::format("line {}", lineno), ""},
                  fmt::format("{} values, the model input has {}", row.size(), model.input_length));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw Error(Location{path, "", ""}, "no input vectors");
  Batch b(static_cast<Eigen::Index>(rows.size()), model.input_length);
  for (size_t r = 0; r < rows.size(); ++r)
    for (int c = 0; c < model.input_length; ++c) b(static_cast<Eigen::Index>(r), c) = rows[r][c];
  return b;
}

}  // namespace hw::reference
