#include "arith/adder_graph.h"

#include <algorithm>
#include <stdexcept>

namespace hw::arith {

std::vector<int> NodeDepths(const AdderGraph& g) {
  std::vector<int> depth(g.num_nodes(), 0);
  for (size_t k = 0; k < g.adders.size(); ++k) {
    const AdderNode& a = g.adders[k];
    depth[g.num_inputs + k] = 1 + std::max(depth[a.a.node], depth[a.b.node]);
  }
  return depth;
}

int OutputDepth(const AdderGraph& g) {
  std::vector<int> depth = NodeDepths(g);
  int d = 0;
  for (const Term& t : g.outputs)
    if (!t.is_zero()) d = std::max(d, depth[t.node]);
  return d;
}

namespace {
int64_t Apply(const Term& t, int64_t v) {
  int64_t s = static_cast<int64_t>(static_cast<uint64_t>(v) << t.shift);
  return t.neg ? -s : s;
}
}  // namespace

std::vector<int64_t> Evaluate(const AdderGraph& g, const std::vector<int64_t>& x) {
  std::vector<int64_t> val(g.num_nodes(), 0);
  for (int i = 0; i < g.num_inputs; ++i) val[i] = x[i];
  for (size_t k = 0; k < g.adders.size(); ++k) {
    const AdderNode& a = g.adders[k];
    val[g.num_inputs + k] = Apply(a.a, val[a.a.node]) + Apply(a.b, val[a.b.node]);
  }
  std::vector<int64_t> y(g.outputs.size(), 0);
  for (size_t r = 0; r < g.outputs.size(); ++r)
    if (!g.outputs[r].is_zero()) y[r] = Apply(g.outputs[r], val[g.outputs[r].node]);
  return y;
}

std::string Verify(const AdderGraph& g, int expected_outputs) {
  if (g.num_inputs < 0) return "negative input count";
  for (size_t k = 0; k < g.adders.size(); ++k) {
    const int id = g.num_inputs + static_cast<int>(k);
    for (const Term* t : {&g.adders[k].a, &g.adders[k].b}) {
      if (t->node < 0 || t->node >= id)
        return "adder n" + std::to_string(id) + " reads n" + std::to_string(t->node) +
               " which is not an earlier node";
      if (t->shift < 0 || t->shift > 62)
        return "adder n" + std::to_string(id) + " has shift " + std::to_string(t->shift);
    }
  }
  if (static_cast<int>(g.outputs.size()) != expected_outputs)
    return "graph has " + std::to_string(g.outputs.size()) + " outputs, expected " +
           std::to_string(expected_outputs);
  for (size_t r = 0; r < g.outputs.size(); ++r) {
    const Term& t = g.outputs[r];
    if (t.is_zero()) continue;
    if (t.node >= g.num_nodes() || t.shift < 0 || t.shift > 62)
      return "output " + std::to_string(r) + " references invalid node or shift";
  }
  return {};
}

IntMatrix ReconstructMatrix(const AdderGraph& g, int rows) {
  if (std::string err = Verify(g, rows); !err.empty()) throw std::runtime_error(err);
  const int n = g.num_inputs;
  // coefficient vector of every node over the inputs
  std::vector<std::vector<int64_t>> coef(g.num_nodes(), std::vector<int64_t>(n, 0));
  for (int i = 0; i < n; ++i) coef[i][i] = 1;
  for (size_t k = 0; k < g.adders.size(); ++k) {
    const AdderNode& a = g.adders[k];
    std::vector<int64_t>& c = coef[n + k];
    for (int i = 0; i < n; ++i) c[i] = Apply(a.a, coef[a.a.node][i]) + Apply(a.b, coef[a.b.node][i]);
  }
  IntMatrix m{rows, n, std::vector<int64_t>(static_cast<size_t>(rows) * n, 0)};
  for (int r = 0; r < rows; ++r) {
    const Term& t = g.outputs[r];
    if (t.is_zero()) continue;
    for (int i = 0; i < n; ++i) m.at(r, i) = Apply(t, coef[t.node][i]);
  }
  return m;
}

}  // namespace hw::arith
