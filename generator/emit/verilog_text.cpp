#include "emit/verilog_text.h"

#include <fmt/format.h>

#include <sstream>

namespace hw::emit {

std::string Literal(int width, int64_t value) {
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1);
  return fmt::format("{}'h{:x}", width, static_cast<uint64_t>(value) & mask);
}

std::string UseTracker::UnusedDeclaration() const {
  std::string parts;
  for (const auto& [sig, w] : width_) {
    const int u = used_.at(sig);
    if (u >= w - 1) continue;
    std::string slice = (u < 0 && w == 1) ? sig : (u + 1 == w - 1 ? fmt::format("{}[{}]", sig, w - 1)
                                                                   : fmt::format("{}[{}:{}]", sig, w - 1, u + 1));
    parts += fmt::format("\n    {},", slice);
  }
  if (parts.empty()) return "";
  return fmt::format("  // Bits no consumer needs (their value range is narrower at the reader).\n"
                     "  wire unused_ok = &{{1'b0,{}\n    1'b0}};\n", parts);
}

std::string Align(const std::string& sig, int w, bool is_signed, int shift, int target, UseTracker& uses) {
  const int body = target - shift;
  if (body <= 0) return "";
  std::string core;
  if (body < w) {
    core = body == 1 ? fmt::format("{}[0]", sig) : fmt::format("{}[{}:0]", sig, body - 1);
    uses.Use(sig, body - 1);
  } else if (body == w) {
    core = sig;
    uses.Use(sig, w - 1);
  } else {
    const int ext = body - w;
    const std::string msb = w == 1 ? sig : fmt::format("{}[{}]", sig, w - 1);
    core = is_signed ? fmt::format("{{{{{}{{{}}}}}, {}}}", ext, msb, sig) : fmt::format("{{{}'d0, {}}}", ext, sig);
    uses.Use(sig, w - 1);
  }
  if (shift > 0) core = fmt::format("{{{}, {}'d0}}", core, shift);
  return core;
}

std::string Comment(const std::string& text, const std::string& indent) {
  std::string out;
  std::istringstream ss(text);
  for (std::string line; std::getline(ss, line);) out += indent + "// " + line + "\n";
  return out;
}

}  // namespace hw::emit
