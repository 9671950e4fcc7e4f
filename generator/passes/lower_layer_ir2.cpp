#include "passes/lower_layer_ir2.h"

#include <fmt/format.h>

#include <algorithm>

#include "arith/csd.h"
#include "common/diag.h"
#include "passes/lower_lm.h"

namespace hw::passes {

using hw::ir2::Graph;
using hw::ir2::Use;
using lm::Builder;
using lm::UseVec;

const ArithChoice& ChoiceFor(const LowerOptions& options, const std::string& layer) {
  const auto it = options.per_layer.find(layer);
  return it != options.per_layer.end() ? it->second : options.arith;
}

namespace {

// Which output neuron each adder-graph node serves: o, -2 if several (shared), -1 if none (dead).
std::vector<int> Owners(const arith::AdderGraph& g) {
  std::vector<int> owner(g.num_nodes(), -1);
  for (size_t o = 0; o < g.outputs.size(); ++o) {
    const int node = g.outputs[o].node;
    if (node >= 0) owner[node] = owner[node] == -1 || owner[node] == static_cast<int>(o) ? static_cast<int>(o) : -2;
  }
  for (int id = g.num_nodes() - 1; id >= g.num_inputs; --id) {
    if (owner[id] == -1) continue;
    for (const arith::Term* t : {&g.adder(id).a, &g.adder(id).b}) {
      int& ow = owner[t->node];
      ow = (ow == -1 || ow == owner[id]) ? owner[id] : -2;
    }
  }
  return owner;
}

// Notes the first node appended since `from` (not a shared constant) with `text`; the output node otherwise.
void Headline(Graph& g, size_t from, const std::string& text) {
  for (size_t i = from; i < g.nodes.size(); ++i)
    if (g.nodes[i].op != hw::ir2::Op::kConst) {
      g.nodes[i].comment = text;
      return;
    }
}

void LowerDense(Builder& b, const model::Model& model, int index, const ArithChoice& choice, const UseVec& x) {
  Graph& g = b.graph();
  const auto& d = std::get<model::DenseLayer>(model.layers[index].op);
  const arith::AdderGraph ag = BuildLayerGraph(d, model.OutputType(index - 1), choice);
  HW_CHECK(ag.num_inputs == d.in && static_cast<int>(ag.outputs.size()) == d.out, "adder graph shape");
  const std::vector<int> owner = Owners(ag);
  std::vector<Use> node(ag.num_nodes());
  for (int i = 0; i < d.in; ++i) node[i] = x[i];
  auto term = [&](const arith::Term& t) { return Use{node[t.node].node, 0, t.shift, t.neg}; };
  // One adder of the graph; the positive operand first, so that the Verilog reads "a - b".
  auto adder = [&](int id) {
    Use a = term(ag.adder(id).a), c = term(ag.adder(id).b);
    if (a.neg && !c.neg) std::swap(a, c);
    node[id] = b.Add({a, c});
  };
  b.SetGroup("shared");
  const size_t shared_from = g.nodes.size();
  for (int id = ag.num_inputs; id < ag.num_nodes(); ++id)
    if (owner[id] == -2) adder(id);
  if (g.nodes.size() > shared_from)
    Headline(g, shared_from, "Subexpressions shared by several neurons (the CMVM optimizer found them once for all).");
  for (int o = 0; o < d.out; ++o) {
    b.SetGroup(fmt::format("neuron {}", o));
    const size_t from = g.nodes.size();
    for (int id = ag.num_inputs; id < ag.num_nodes(); ++id)
      if (owner[id] == o) adder(id);
    const arith::Term& t = ag.outputs[o];
    Use y;
    if (d.has_threshold) {
      // y = lo + #{k : acc + b >= T_k}; acc = +-(v << s), so each test compares v with a folded bound.
      const int64_t L = d.thresholds_per_channel();
      int64_t fixed = 0;
      UseVec bits;
      for (int64_t k = 0; k < L; ++k) {
        const int64_t tk = d.threshold[o * L + k] - d.bias[o];  // acc >= tk
        if (t.is_zero()) {
          fixed += 0 >= tk;
        } else if (!t.neg) {  // v * 2^s >= tk  <=>  v >= ceil(tk / 2^s)
          bits.push_back(b.Cmp(Use{node[t.node].node}, b.Const(-((-tk) >> t.shift)), "ge"));
        } else {  // -v * 2^s >= tk  <=>  v <= floor(-tk / 2^s)
          bits.push_back(b.Cmp(Use{node[t.node].node}, b.Const((-tk) >> t.shift), "le"));
        }
      }
      const int64_t base = d.clamp_lo + fixed;
      // (the count plus base is the requant's adder, as for any other output; its clamp never triggers)
      y = bits.empty() ? b.Const(base) : base == 0 ? b.Sum(bits) : b.Requant(b.Sum(bits), base, 0, d.clamp_lo, d.clamp_hi);
    } else if (t.is_zero()) {
      // An all-zero weight row: the output is the constant clamp(rounded bias), no hardware at all.
      const int64_t s = d.shift[o];
      const int64_t v = (d.bias[o] * d.multiplier[o] + (s > 0 ? int64_t{1} << (s - 1) : 0)) >> s;
      y = b.Const(std::clamp(v, d.clamp_lo, d.clamp_hi));
    } else {
      // (acc + b) * M + 2^(S-1) = acc * M + (b * M + 2^(S-1)): the multiply by M as signed digits.
      UseVec scaled;
      for (const arith::SignedDigit& dig : arith::CsdDigits(d.multiplier[o]))
        scaled.push_back(Use{node[t.node].node, 0, t.shift + dig.shift, t.neg != dig.neg});
      int64_t add = d.bias[o] * d.multiplier[o] + (d.shift[o] > 0 ? int64_t{1} << (d.shift[o] - 1) : 0);
      int shift = static_cast<int>(d.shift[o]);
      if (scaled.size() == 1 && !scaled[0].neg && scaled[0].shift <= shift) {
        // M is a power of two: ((v << s) + add) >> S == (v + (add >> s)) >> (S - s), no adder for the shift
        // (the low s bits of add cannot carry into bit S when those of v << s are zero).
        add >>= scaled[0].shift;
        shift -= scaled[0].shift;
        scaled[0].shift = 0;
      }
      if (scaled.size() > 1 && add != 0) {
        // The rounding constant joins the multiply's adder tree (one more operand, so no more levels than a
        // separate rounding adder): the requant is then only the shift and a saturating clamp, bit tests on the
        // sum with no adder of its own (ir2::Cost).
        scaled.push_back(b.Const(add));
        add = 0;
      }
      y = b.Requant(scaled.size() == 1 ? scaled[0] : b.Sum(scaled), add, shift, d.clamp_lo, d.clamp_hi);
    }
    b.Output(fmt::format("y{}", o), y);
    Headline(g, from, NeuronNote(d, o));
  }
}

}  // namespace

Graph LowerLayerToIr2(const model::Model& model, int index, const ArithChoice& choice) {
  const model::Layer& layer = model.layers[index];
  Graph g;
  g.name = fmt::format("{}_l{}_{}", model.name, index, layer.name);
  g.inputs_registered = true;  // x comes from the previous layer's output register (or the top's input register)
  Builder b(g);
  const model::IntType in = model.OutputType(index - 1);
  b.SetGroup("inputs");
  UseVec x;
  for (int i = 0; i < model.OutputLength(index - 1); ++i) x.push_back(b.Input(fmt::format("x{}", i), in.bits, in.is_signed));
  if (std::holds_alternative<model::DenseLayer>(layer.op)) {
    const auto& d = std::get<model::DenseLayer>(layer.op);
    g.nodes[0].comment = fmt::format("layer {} '{}': dense {} -> {}, {} {}-bit weights, arithmetic {}", index, layer.name, d.in, d.out,
                                     model::ToString(d.encoding), d.weight_bits, ToString(choice.mode));
    LowerDense(b, model, index, choice, x);
  } else {
    g.nodes[0].comment = fmt::format("layer {} '{}': argmax over {} values, ties -> lowest index", index, layer.name, x.size());
    b.SetGroup("argmax");
    b.Output("y0", lm::LowerArgmax(b, x));
  }
  return g;
}

}  // namespace hw::passes
