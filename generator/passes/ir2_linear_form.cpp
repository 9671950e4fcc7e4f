#include "passes/ir2_linear_form.h"

#include <algorithm>

#include "ir2/op_table.h"

namespace hw::passes::ir2 {

using hw::ir2::Graph;
using hw::ir2::Node;
using hw::ir2::Op;
using hw::ir2::Range;
using hw::ir2::Use;

namespace {

constexpr __int128 kLimit = static_cast<__int128>(1) << 62;

int64_t Clip(__int128 v) { return static_cast<int64_t>(std::clamp(v, -kLimit + 1, kLimit - 1)); }

}  // namespace

LinearRanges::LinearRanges(const Graph& g) : g_(g), forms_(g.nodes.size()) {}

Range LinearRanges::AddRange(int i, const Range& interval) {
  const Node& n = g_.nodes[i];
  Form f;
  for (const Use& operand : n.operands) {
    Use u = operand;
    while (g_.nodes[u.node].op == Op::kReg) u = Use{g_.nodes[u.node].operands[0].node, g_.nodes[u.node].operands[0].result};
    const __int128 k = (operand.neg ? -1 : 1) * (static_cast<__int128>(1) << operand.shift);
    __int128 kk = k;
    if (hw::ir2::IsBitwiseNot(g_, g_.nodes[u.node])) {  // ~a = (2^w - 1) - a: affine in a
      f.constant += k * g_.nodes[g_.nodes[u.node].operands[1].node].value;
      kk = -k;
      u = Use{g_.nodes[u.node].operands[0].node, g_.nodes[u.node].operands[0].result};
      while (g_.nodes[u.node].op == Op::kReg) u = Use{g_.nodes[u.node].operands[0].node, g_.nodes[u.node].operands[0].result};
    }
    const Node& src = g_.nodes[u.node];
    if (src.op == Op::kConst) {
      f.constant += kk * src.value;
      continue;
    }
    std::vector<std::pair<int64_t, __int128>> add;
    if (src.op == Op::kAdd && forms_[u.node]) {
      f.constant += kk * forms_[u.node]->constant;
      add = forms_[u.node]->terms;
      for (auto& t : add) t.second *= kk;
    } else {
      add = {{int64_t{u.node} * 4 + u.result, kk}};
    }
    std::vector<std::pair<int64_t, __int128>> merged;
    merged.reserve(f.terms.size() + add.size());
    size_t a = 0, b = 0;
    while (a < f.terms.size() || b < add.size()) {
      if (b == add.size() || (a < f.terms.size() && f.terms[a].first < add[b].first)) {
        merged.push_back(f.terms[a++]);
      } else if (a == f.terms.size() || add[b].first < f.terms[a].first) {
        merged.push_back(add[b++]);
      } else {
        const __int128 c = f.terms[a].second + add[b].second;
        if (c != 0) merged.emplace_back(f.terms[a].first, c);
        ++a, ++b;
      }
    }
    f.terms = std::move(merged);
    if (f.terms.size() > kMaxTerms) return interval;  // too many atoms: the add stays an atom
  }
  __int128 lo = f.constant, hi = f.constant;
  for (const auto& [key, c] : f.terms) {
    const Range& r = g_.nodes[key / 4].range[key % 4];
    const __int128 a = c * r.lo, b = c * r.hi;
    lo += std::min(a, b);
    hi += std::max(a, b);
  }
  forms_[i] = std::make_unique<Form>(std::move(f));
  // Never wider than the interval rule (both are sound; take the tighter end of each).
  return Range{std::max(interval.lo, Clip(lo)), std::min(interval.hi, Clip(hi))};
}

}  // namespace hw::passes::ir2
