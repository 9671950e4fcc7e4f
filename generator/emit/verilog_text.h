// Small helpers that build Verilog expression text with exact widths, so the emitted RTL is clean under
// `verilator -Wall` (no implicit extension or truncation anywhere).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace hw::emit {

// A W-bit constant holding `value` in two's complement (e.g. Literal(5, -3) == "5'h1d").
std::string Literal(int width, int64_t value);

// `text` as Verilog line comments, one "// " line per line of text, each preceded by `indent`.
std::string Comment(const std::string& text, const std::string& indent);

// Records which bits of each signal are read, so that the emitter can list the rest as intentionally
// unused (Verilator's `unused*` naming convention) instead of leaving lint warnings.
class UseTracker {
 public:
  void Declare(const std::string& sig, int width) { width_[sig] = width, used_.try_emplace(sig, -1); }
  void Use(const std::string& sig, int top_bit) {
    int& u = used_[sig];
    if (top_bit > u) u = top_bit;
  }
  // "wire unused_ok = &{1'b0, a[7:5], b, 1'b0};" or "" if every declared bit is read.
  std::string UnusedDeclaration() const;

 private:
  std::map<std::string, int> width_;
  std::map<std::string, int> used_;
};

// `sig` (width w, signed or not) times 2^shift, as exactly `target` bits (sign/zero extension or
// truncation modulo 2^target, which is exact whenever the true value fits in `target` bits).
// Returns "" if the term vanishes modulo 2^target. Records the bits read in `uses`.
std::string Align(const std::string& sig, int w, bool is_signed, int shift, int target, UseTracker& uses);

}  // namespace hw::emit
