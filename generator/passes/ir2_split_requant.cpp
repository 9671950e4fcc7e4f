#include "passes/ir2_split_requant.h"

#include <algorithm>

#include "ir2/op_table.h"

namespace hw::passes::ir2 {

using hw::ir2::Graph;
using hw::ir2::Info;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::Use;
using hw::ir2::VerifyLevel;

namespace {

class SplitRequant : public Pass {
 public:
  explicit SplitRequant(const PassOptions& o) : timing_(o.Timing()) {}
  std::string name() const override { return "split-requant"; }
  VerifyLevel level() const override { return VerifyLevel::kRanges; }
  bool Applies(const Graph&) const override { return !timing_.levels(); }

  bool Run(Graph& g) override {
    if (timing_.levels()) return false;
    std::vector<Node> out;
    std::vector<int> map(g.nodes.size());
    bool changed = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node n = g.nodes[i];
      for (Use& u : n.operands) u.node = map[u.node];
      const bool plain = n.operands.empty() || (n.operands[0].shift == 0 && !n.operands[0].neg);
      if (n.op == Op::kRequant && (n.add != 0 || !plain) && timing_.Delay(g, g.nodes[i]) > timing_.Budget()) {
        // the sum first (its own op, its own range), then the requant of it with no rounding constant
        const Use a = n.operands[0];
        const hw::ir2::Range r = hw::ir2::OperandRange(g, g.nodes[i].operands[0]);
        const int64_t lo = r.lo + n.add, hi = r.hi + n.add;
        Node sum;
        sum.op = Op::kAdd;
        sum.operands = {a};
        if (n.add != 0) {
          Node c;
          c.op = Op::kConst;
          c.value = n.add;
          c.range = {{n.add, n.add}};
          c.group = n.group;
          out.push_back(c);
          sum.operands.push_back(Use{static_cast<int>(out.size()) - 1});
        }
        sum.group = n.group;
        sum.comment = n.comment;
        sum.range = {{lo, hi}};
        out.push_back(sum);
        n.comment.clear();
        n.operands = {Use{static_cast<int>(out.size()) - 1}};
        n.add = 0;
        n.range = {{std::clamp(lo >> n.shift, n.lo, n.hi), std::clamp(hi >> n.shift, n.lo, n.hi)}};
        changed = true;
      }
      map[i] = static_cast<int>(out.size());
      out.push_back(std::move(n));
    }
    if (changed) g.nodes = std::move(out);
    return changed;
  }

 private:
  hw::ir2::TimingModel timing_;
};

}  // namespace

std::unique_ptr<Pass> MakeSplitRequantPass(const PassOptions& o) { return std::make_unique<SplitRequant>(o); }

}  // namespace hw::passes::ir2
