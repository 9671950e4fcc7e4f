#include "passes/range_analysis.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "common/diag.h"

namespace hw::passes {

namespace {

using i128 = __int128;

struct LinearForm {
  i128 constant = 0;
  std::vector<std::pair<int, i128>> terms;  // (atom node id, coefficient), sorted by atom, no zeros
};

LinearForm Scaled(const LinearForm& f, const ir::Operand& op) {
  LinearForm r = f;
  const i128 k = (op.neg ? -1 : 1) * (i128{1} << op.shift);
  r.constant *= k;
  for (auto& t : r.terms) t.second *= k;
  return r;
}

LinearForm Sum(const LinearForm& a, const LinearForm& b) {
  LinearForm r;
  r.constant = a.constant + b.constant;
  r.terms.reserve(a.terms.size() + b.terms.size());
  size_t i = 0, j = 0;
  while (i < a.terms.size() || j < b.terms.size()) {
    if (j == b.terms.size() || (i < a.terms.size() && a.terms[i].first < b.terms[j].first)) {
      r.terms.push_back(a.terms[i++]);
    } else if (i == a.terms.size() || b.terms[j].first < a.terms[i].first) {
      r.terms.push_back(b.terms[j++]);
    } else {
      const i128 c = a.terms[i].second + b.terms[j].second;
      if (c != 0) r.terms.push_back({a.terms[i].first, c});
      ++i, ++j;
    }
  }
  return r;
}

int64_t Narrow(i128 v) {
  HW_CHECK(v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max(),
           "value range exceeds 64 bits");
  return static_cast<int64_t>(v);
}

}  // namespace

void RequantRange(const ir::RequantAttrs& rq, int64_t lo, int64_t hi, int64_t* out_lo, int64_t* out_hi) {
  auto f = [&](int64_t v) {
    const i128 p = (i128{v} + rq.add) >> rq.shift;  // arithmetic shift on signed __int128
    return static_cast<int64_t>(std::clamp<i128>(p, rq.lo, rq.hi));
  };
  *out_lo = f(lo);
  *out_hi = f(hi);
}

bool RangeAnalysisPass::Run(ir::Module& m) {
  std::vector<LinearForm> forms(m.nodes.size());
  bool changed = false;
  for (size_t id = 0; id < m.nodes.size(); ++id) {
    ir::Node& n = m.nodes[id];
    int64_t lo = 0, hi = 0;
    switch (n.kind) {
      case ir::NodeKind::kInput:
        lo = m.input_type.min();
        hi = m.input_type.max();
        forms[id].terms = {{static_cast<int>(id), 1}};
        break;
      case ir::NodeKind::kConst:
        lo = hi = n.value;
        forms[id].constant = n.value;
        break;
      case ir::NodeKind::kAdd: {
        forms[id] = Sum(Scaled(forms[n.ops[0].node], n.ops[0]), Scaled(forms[n.ops[1].node], n.ops[1]));
        i128 l = forms[id].constant, h = forms[id].constant;
        for (const auto& [atom, c] : forms[id].terms) {
          const i128 a = c * m.nodes[atom].lo, b = c * m.nodes[atom].hi;
          l += std::min(a, b);
          h += std::max(a, b);
        }
        lo = Narrow(l);
        hi = Narrow(h);
        break;
      }
      case ir::NodeKind::kRequant: {
        int64_t ilo = 0, ihi = 0;
        if (!n.ops.empty()) {
          const ir::Node& src = m.nodes[n.ops[0].node];
          const i128 k = (n.ops[0].neg ? -1 : 1) * (i128{1} << n.ops[0].shift);
          ilo = Narrow(std::min(k * src.lo, k * src.hi));
          ihi = Narrow(std::max(k * src.lo, k * src.hi));
        }
        RequantRange(n.rq, ilo, ihi, &lo, &hi);
        forms[id].terms = {{static_cast<int>(id), 1}};
        break;
      }
      case ir::NodeKind::kMaxSel: {
        const ir::Node& a = m.nodes[n.ops[0].node];
        const ir::Node& b = m.nodes[n.ops[1].node];
        // The hull, not the tighter [max lo, max hi]: both operands are compared in the node's width.
        lo = std::min(a.lo, b.lo);
        hi = std::max(a.hi, b.hi);
        forms[id].terms = {{static_cast<int>(id), 1}};
        n.index_width = model::ArgmaxIndexBits(m.num_inputs);
        break;
      }
    }
    bool is_signed = false;
    const int width = ir::WidthOf(lo, hi, &is_signed);
    if (n.lo != lo || n.hi != hi || n.width != width || n.is_signed != is_signed) changed = true;
    n.lo = lo, n.hi = hi, n.width = width, n.is_signed = is_signed;
    // Forms are only needed by later adders; free the ones of atoms' consumers early is not worth it.
  }
  return changed;
}

}  // namespace hw::passes
