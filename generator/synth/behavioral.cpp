#include "synth/behavioral.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/diag.h"

namespace hw::synth {

namespace {

using i128 = __int128;

// Bits of a two's complement number holding every value in [lo, hi].
int SignedWidth(i128 lo, i128 hi) {
  int b = 1;
  while (true) {
    const i128 mn = -(i128{1} << (b - 1)), mx = (i128{1} << (b - 1)) - 1;
    if (lo >= mn && hi <= mx) return b;
    ++b;
    if (b > 120) throw InternalError("behavioral: value range too wide");
  }
}

std::string I128ToString(i128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  std::string s;
  while (u) s += static_cast<char>('0' + static_cast<int>(u % 10)), u /= 10;
  if (neg) s += '-';
  std::reverse(s.begin(), s.end());
  return s;
}

// A signed decimal literal of `w` bits, parenthesized when negative: "(-12'sd5)".
std::string SLit(int w, i128 v) {
  if (v < 0) return fmt::format("(-{}'sd{})", w, I128ToString(-v));
  return fmt::format("{}'sd{}", w, I128ToString(v));
}

}  // namespace

std::string EmitBehavioralDense(const model::DenseLayer& d, const model::IntType& in, const std::string& name,
                                const BehavioralOptions& options) {
  const int ib = in.bits, ob = d.output.bits;
  const int xw = in.bits + (in.is_signed ? 0 : 1);  // every input as a signed value
  std::string s = "// Behavioral reference written by `hardwire synth`: y = W * x with constant multiplies, then\n"
                  "// requantization (or thresholds) as in docs/semantics.md. Not multiplier-free; for comparison and proofs only.\n";
  s += fmt::format("module {} (\n    input  wire clk,\n    input  wire ce,\n    input  wire [{}:0] x,\n"
                   "    output wire [{}:0] y\n);\n",
                   name, d.in * ib - 1, d.out * ob - 1);
  for (int i = 0; i < d.in; ++i) {
    const std::string slice = ib == 1 ? fmt::format("x[{}]", i * ib) : fmt::format("x[{}:{}]", i * ib + ib - 1, i * ib);
    if (in.is_signed) s += fmt::format("  wire signed [{}:0] x{} = {};\n", xw - 1, i, slice);
    else s += fmt::format("  wire signed [{}:0] x{} = $signed({{1'b0, {}}});\n", xw - 1, i, slice);
  }
  s += fmt::format("  wire [{}:0] y_c;\n", d.out * ob - 1);
  for (int o = 0; o < d.out; ++o) {
    // Exact range of the accumulator.
    i128 alo = d.bias[o], ahi = d.bias[o];
    for (int i = 0; i < d.in; ++i) {
      const i128 w = d.weight.at(o, i);
      const i128 a = w * in.min(), b = w * in.max();
      alo += std::min(a, b), ahi += std::max(a, b);
    }
    const int aw = SignedWidth(alo, ahi);
    std::string terms;
    for (int i = 0; i < d.in; ++i) {
      const int64_t w = d.weight.at(o, i);
      if (w == 0) continue;
      terms += fmt::format(" + {} * x{}", SLit(aw, w), i);
    }
    s += fmt::format("\n  // output {}\n", o);
    s += fmt::format("  wire signed [{}:0] acc{} = {}{};\n", aw - 1, o, SLit(aw, d.bias[o]), terms);
    if (d.has_threshold) {
      // y = lo + #{k : acc >= T[o][k]} (docs/semantics.md, "dense with thresholds"): L comparators and a count.
      const int L = d.thresholds_per_channel();
      i128 tlo = alo, thi = ahi;
      for (int k = 0; k < L; ++k) tlo = std::min<i128>(tlo, d.threshold[o * L + k]), thi = std::max<i128>(thi, d.threshold[o * L + k]);
      const int tw = SignedWidth(tlo, thi);
      const int cw = SignedWidth(0, L);
      const int yw = std::max(SignedWidth(d.clamp_lo, d.clamp_hi), cw) + 1;
      std::string cmp;
      for (int k = 0; k < L; ++k)
        cmp += fmt::format("{}{}(acc{} >= {})", k ? " + " : "", k ? "" : fmt::format("{}'sd0 + ", cw), o, SLit(tw, d.threshold[o * L + k]));
      if (L == 0) cmp = fmt::format("{}'sd0", cw);
      s += fmt::format("  wire signed [{}:0] n{} = {};\n", cw - 1, o, cmp);
      s += fmt::format("  wire signed [{}:0] c{} = {} + n{};\n", yw - 1, o, SLit(yw, d.clamp_lo), o);
      s += fmt::format("  assign y_c[{}:{}] = c{}[{}:0];\n", o * ob + ob - 1, o * ob, o, ob - 1);
      continue;
    }
    const i128 m = d.multiplier[o];
    const int sh = static_cast<int>(d.shift[o]);
    const i128 rnd = sh > 0 ? (i128{1} << (sh - 1)) : 0;
    const i128 lo = d.clamp_lo, hi = d.clamp_hi;
    const int pw = std::max(SignedWidth(alo * m, ahi * m + rnd), SignedWidth(lo, hi)) + 1;
    s += fmt::format("  wire signed [{}:0] p{} = acc{} * {};\n", pw - 1, o, o, SLit(pw, m));
    if (sh > 0) s += fmt::format("  wire signed [{}:0] r{} = (p{} + {}) >>> {};\n", pw - 1, o, o, SLit(pw, rnd), sh);
    else s += fmt::format("  wire signed [{}:0] r{} = p{};\n", pw - 1, o, o);
    s += fmt::format("  wire signed [{}:0] c{} = r{} < {} ? {} : (r{} > {} ? {} : r{});\n", pw - 1, o, o, SLit(pw, lo),
                     SLit(pw, lo), o, SLit(pw, hi), SLit(pw, hi), o);
    s += fmt::format("  assign y_c[{}:{}] = c{}[{}:0];\n", o * ob + ob - 1, o * ob, o, ob - 1);
  }
  const int yw = d.out * ob;
  if (options.output_regs <= 0) {
    s += "\n  assign y = y_c;\n";
  } else {
    s += "\n";
    for (int k = 1; k <= options.output_regs; ++k) s += fmt::format("  reg [{}:0] y_d{};\n", yw - 1, k);
    s += "  always @(posedge clk) begin\n    if (ce) begin\n      y_d1 <= y_c;\n";
    for (int k = 2; k <= options.output_regs; ++k) s += fmt::format("      y_d{} <= y_d{};\n", k, k - 1);
    s += "    end\n  end\n";
    s += fmt::format("  assign y = y_d{};\n", options.output_regs);
  }
  s += "endmodule\n";
  return s;
}

}  // namespace hw::synth
