// User-facing errors. Library code never exits: it throws hw::Error, which carries where the problem is
// (file, layer, field / JSON path) so that the CLI can print one precise line per problem.
//
//   model.json: layer 'fc1' (layers[0]): field 'weight.bits': value 17 out of range 1..16
//
// Several problems found in one stage are collected in a Diagnostics and thrown together
// (Verilator's v3error + abortIfErrors).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace hw {

struct Location {
  std::string file;   // path as given by the user
  std::string layer;  // "layer 'fc1' (layers[0])" or empty
  std::string field;  // JSON path or tensor name, or empty
};

std::string FormatDiagnostic(const Location& loc, const std::string& message);

class Error : public std::runtime_error {
 public:
  explicit Error(std::vector<std::string> messages);
  Error(const Location& loc, const std::string& message);
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
};

class Diagnostics {
 public:
  void Add(const Location& loc, const std::string& message) {
    messages_.push_back(FormatDiagnostic(loc, message));
  }
  bool empty() const { return messages_.empty(); }
  // Throws Error with every collected message, if any.
  void ThrowIfAny() const {
    if (!messages_.empty()) throw Error(messages_);
  }

 private:
  std::vector<std::string> messages_;
};

// Internal invariant failure (a bug in hardwire, not in the user's input).
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

#define HW_CHECK(cond, msg)                                                                        \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      throw ::hw::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) +           \
                                ": internal error: " + (msg));                                     \
  } while (0)

}  // namespace hw
