#include "common/diag.h"

namespace hw {

namespace {
std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& m : v) {
    if (!s.empty()) s += '\n';
    s += m;
  }
  return s;
}
}  // namespace

std::string FormatDiagnostic(const Location& loc, const std::string& message) {
  std::string s = loc.file.empty() ? std::string("hardwire") : loc.file;
  if (!loc.layer.empty()) s += ": " + loc.layer;
  if (!loc.field.empty()) s += ": field '" + loc.field + "'";
  s += ": " + message;
  return s;
}

Error::Error(std::vector<std::string> messages)
    : std::runtime_error(Join(messages)), messages_(std::move(messages)) {}

Error::Error(const Location& loc, const std::string& message)
    : Error(std::vector<std::string>{FormatDiagnostic(loc, message)}) {}

}  // namespace hw
