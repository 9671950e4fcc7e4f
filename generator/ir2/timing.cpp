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

int WidthOf(const Graph& g, const Use& u) { return TypeOf(g.nodes[u.node].range[u.result]).width; }
}  // namespace

double FpgaAdderNs(int width) {
  const int n4 = std::max(1, (width + 3) / 4);
  return n4 == 1 ? kLut + kCarryShort : kLut + kCarryFirst + kCarryPer4 * (n4 - 2) + kCarryLast;
}

double TimingModel::Budget() const { return levels() ? adders_per_stage : clock_ns - kClockToQ - kSetup; }

double TimingModel::RegisterOverheadNs() const { return levels() ? 0 : kClockToQ + kSetup; }

std::string TimingModel::Describe() const {
  if (levels()) return fmt::format("K = {} adder level(s) per stage", adders_per_stage);
  return fmt::format("fpga (xc7 logic delays, no routing), clock {:.2f} ns", clock_ns);
}

double TimingModel::Delay(const Graph& g, const Node& n) const {
  const int cost = Info(n.op).cost;
  if (levels()) return cost;
  if (cost == 0) return 0;
  const int w = n.range.empty() ? 1 : TypeOf(n.range[0]).width;
  switch (n.op) {
    case Op::kAdd: {
      // an n-operand add is a tree of two-input adders
      const int k = static_cast<int>(n.operands.size());
      return k <= 1 ? FpgaAdderNs(w) : FpgaAdderNs(w) * std::ceil(std::log2(static_cast<double>(k)));
    }
    case Op::kRequant: {
      const Use& u = n.operands[0];
      const Range a = OperandRange(g, u);
      double t = (n.add != 0 || u.neg) ? FpgaAdderNs(WidthOf(g, u) + u.shift + 1) : 0;
      const int64_t lo = (a.lo + n.add) >> n.shift, hi = (a.hi + n.add) >> n.shift;
      if (u.neg || lo < n.lo || hi > n.hi) t += FpgaAdderNs(WidthOf(g, u) + u.shift + 1) + kLut;  // compare + select
      return t;
    }
    case Op::kCmp: return FpgaAdderNs(std::max(WidthOf(g, n.operands[0]), WidthOf(g, n.operands[1])) + 1);
    case Op::kMax: case Op::kCmpSel: {
      const Use &a = n.operands[0], &b = n.operands[n.op == Op::kMax ? 1 : 2];
      return FpgaAdderNs(std::max(WidthOf(g, a), WidthOf(g, b)) + 1) + kLut;
    }
    case Op::kSelect: case Op::kAnd: case Op::kXor: return kLut;
    case Op::kMul: return 4 * FpgaAdderNs(w);  // uncalibrated: a LUT multiplier's adder tree
    case Op::kLut: return kLut * std::max(1.0, std::ceil((std::log2(std::max<double>(2, static_cast<double>(n.table.size()))) - 6) / 2) + 1);
    case Op::kShl: case Op::kShr: case Op::kBitlen: return kLut * std::max(1.0, std::ceil(std::log2(std::max(2, w)) / 2));
    default: return kLut;
  }
}

}  // namespace hw::ir2
