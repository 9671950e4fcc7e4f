#include "ir2/timing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ir2/op_table.h"

namespace hw::ir2 {

namespace {
// Xilinx 7-series logic delays (ns), from yosys 0.23's techlibs/xilinx/cells_sim.v (prjxray-db, Artix-7).
constexpr double kLut = 0.642;              // LUT6 I0 -> O
constexpr double kCarryShort = 0.582;       // CARRY4 S[0] -> O[3]
constexpr double kCarryFirst = 0.508;       // CARRY4 S[0] -> CO[3]
constexpr double kCarryPer4 = 0.114;        // CARRY4 CI -> CO[3]
constexpr double kCarryLast = 0.313;        // CARRY4 CI -> O[3]
constexpr double kClockToQ = 0.303;         // FDRE C -> Q
constexpr double kSetup = 0.0;              // FDRE D setup (-0.046 in prjxray-db; yosys uses 0)

// Generic ASIC cells, in FO4 inverter delays (ir2/timing.h gives the sources).
constexpr double kPg = 1.0;          // bitwise generate / propagate
constexpr double kAo = 2.0;          // one carry step (AND-OR)
constexpr double kXor = 2.0;         // the sum XOR; also a 2:1 mux
constexpr double kAnd = 1.0;         // an AND / OR of bits
constexpr double kAsicClockToQ = 2.0;
constexpr double kAsicSetup = 1.0;

int CeilLog2(double x) { return x <= 1 ? 0 : static_cast<int>(std::ceil(std::log2(x) - 1e-12)); }

// Full-adder levels of a Wallace tree reducing w partial products to two (3:2 per level).
int CeilLog2Base15(int w) {
  int levels = 0;
  for (double rows = w; rows > 2; rows = std::ceil(rows * 2 / 3)) ++levels;
  return levels;
}

int WidthOf(const Graph& g, const Use& u) { return TypeOf(g.nodes[u.node].range[u.result]).width; }
}  // namespace

double FpgaAdderNs(int width) {
  const int n4 = std::max(1, (width + 3) / 4);
  return n4 == 1 ? kLut + kCarryShort : kLut + kCarryFirst + kCarryPer4 * (n4 - 2) + kCarryLast;
}

double AsicAdderFo4(int width, bool ripple) {
  const int w = std::max(1, width);
  return kPg + (ripple ? w - 1 : CeilLog2(w)) * kAo + kXor;
}

double TimingModel::RegisterOverheadNs() const {
  switch (target) {
    case Target::kLevels: return 0;
    case Target::kFpga: return kClockToQ + kSetup;
    case Target::kAsic: return (kAsicClockToQ + kAsicSetup) * asic.fo4_ps / 1000;
  }
  return 0;
}

double TimingModel::Budget() const { return levels() ? adders_per_stage : clock_ns - RegisterOverheadNs(); }

std::string TimingModel::Describe() const {
  switch (target) {
    case Target::kLevels: return fmt::format("K = {} adder level(s) per stage", adders_per_stage);
    case Target::kFpga: return fmt::format("fpga (xc7 logic delays, no routing), clock {:.2f} ns", clock_ns);
    case Target::kAsic:
      return fmt::format("asic ({} adders, FO4 = {:g} ps, no routing), clock {:.2f} ns", asic.ripple ? "ripple-carry" : "parallel-prefix",
                         asic.fo4_ps, clock_ns);
  }
  return "";
}

double TimingModel::AdderNs(int width) const {
  return target == Target::kFpga ? FpgaAdderNs(width) : AsicAdderFo4(width, asic.ripple) * asic.fo4_ps / 1000;
}

double TimingModel::CompareNs(int width) const {
  // fpga: the same carry chain; asic: the adder's carry path without the sum XOR
  return target == Target::kFpga ? FpgaAdderNs(width) : (AsicAdderFo4(width, asic.ripple) - kXor) * asic.fo4_ps / 1000;
}

double TimingModel::MuxNs() const { return target == Target::kFpga ? kLut : kXor * asic.fo4_ps / 1000; }

double TimingModel::ReduceNs(int bits) const {
  // fpga: a tree of LUT6s (6 inputs each); asic: a tree of 2-input AND/OR gates
  int levels = 0;
  for (int n = std::max(2, bits); n > 1; n = (n + (target == Target::kFpga ? 5 : 1)) / (target == Target::kFpga ? 6 : 2)) ++levels;
  return target == Target::kFpga ? levels * kLut : levels * kAnd * asic.fo4_ps / 1000;
}

double TimingModel::GateNs(bool is_xor) const { return target == Target::kFpga ? kLut : (is_xor ? kXor : kAnd) * asic.fo4_ps / 1000; }

double TimingModel::Delay(const Graph& g, const Node& n) const {
  if (levels()) return Cost(g, n);
  if (Info(n.op).cost == 0 || IsBitwiseNot(g, n)) return 0;
  const bool fpga = target == Target::kFpga;
  const double fo4 = asic.fo4_ps / 1000;
  const int w = n.range.empty() ? 1 : TypeOf(n.range[0]).width;
  switch (n.op) {
    case Op::kAdd: {
      // an n-operand add is a tree of two-input adders
      const int k = static_cast<int>(n.operands.size());
      return k <= 1 ? AdderNs(w) : AdderNs(w) * CeilLog2(k);
    }
    case Op::kRequant: {
      const Use& u = n.operands[0];
      const RequantClamp c = ClampOf(g, n);
      const int sw = WidthOf(g, u) + u.shift + 1;  // the rounded sum, signed
      double t = c.rounding_adder ? AdderNs(sw) : 0;
      if (!c.lo && !c.hi) return t;
      if (!c.bit_tests) return t + CompareNs(sw) + MuxNs();  // compare + select
      // A window: the bits from k up compared with a constant (a function of those bits alone), then the select.
      if (c.window) return ReduceNs(std::max(2, WidthOf(g, u) + 1 - c.window_bit)) + MuxNs();
      // A saturation: an AND/OR of the bits above the bound (and the sign), then the select.
      const int tested = sw - n.shift - std::min(c.lo ? c.lo_bit : sw, c.hi ? c.hi_bit : sw);
      return t + ReduceNs(std::max(2, tested)) + MuxNs();
    }
    case Op::kCmp: return CompareNs(std::max(WidthOf(g, n.operands[0]), WidthOf(g, n.operands[1])) + 1);
    case Op::kMax: case Op::kCmpSel: {
      const Use &a = n.operands[0], &b = n.operands[n.op == Op::kMax ? 1 : 2];
      return CompareNs(std::max(WidthOf(g, a), WidthOf(g, b)) + 1) + MuxNs();
    }
    case Op::kSelect: return MuxNs();
    case Op::kAnd: return GateNs(false);
    case Op::kXor: return GateNs(true);
    case Op::kMul:
      // fpga, uncalibrated: a LUT multiplier's adder tree; asic: a Wallace tree (full adders of two XORs, 3:2 per
      // level) and the final prefix adder
      if (fpga) return 4 * FpgaAdderNs(w);
      return CeilLog2Base15(std::max(2, w)) * 2 * kXor * fo4 + AsicAdderFo4(w, false) * fo4;
    case Op::kLut: {
      const double entries = std::max<double>(2, static_cast<double>(n.table.size()));
      if (fpga) return kLut * std::max(1.0, std::ceil((std::log2(entries) - 6) / 2) + 1);
      return CeilLog2(entries) * MuxNs();
    }
    case Op::kShl: case Op::kShr: case Op::kBitlen:
      if (fpga) return kLut * std::max(1.0, std::ceil(std::log2(std::max(2, w)) / 2));
      return std::max(1, CeilLog2(std::max(2, w))) * MuxNs();
    default: return fpga ? kLut : kAnd * fo4;
  }
}

TimingModel NsModel(const TimingModel& t) {
  TimingModel m = t;
  if (m.levels()) m.target = TimingModel::Target::kFpga, m.clock_ns = 0;
  return m;
}

StageEstimate EstimateSlowestStage(const Graph& g, const TimingModel& t) {
  const TimingModel m = NsModel(t);
  StageEstimate e;
  for (double d : StageLogicDelays(g, m)) e.slowest_ns = std::max(e.slowest_ns, d);
  e.slowest_ns += m.RegisterOverheadNs();
  e.model = t.levels() ? t.Describe() + ", delays of the fpga model (xc7 logic, no routing)" : t.Describe();
  return e;
}

std::vector<double> StageLogicDelays(const Graph& g, const TimingModel& t) {
  std::vector<double> chain(g.nodes.size(), 0), worst;
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    if (n.op == Op::kConst || n.op == Op::kReg || n.op == Op::kInput || n.op == Op::kOutput) continue;
    const int stage = g.schedule[v].stage;
    double start = 0;
    for (const Use& u : n.operands)
      if (g.schedule[u.node].stage == stage) start = std::max(start, chain[u.node]);
    chain[v] = start + t.Delay(g, n);
    if (stage >= static_cast<int>(worst.size())) worst.resize(stage + 1, 0);
    worst[stage] = std::max(worst[stage], chain[v]);
  }
  return worst;
}

}  // namespace hw::ir2
