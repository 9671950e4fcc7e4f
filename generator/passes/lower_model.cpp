#include "passes/lower_model.h"

#include <fmt/format.h>

#include "arith/csd.h"
#include "common/diag.h"
#include "passes/range_analysis.h"

namespace hw::passes {

const char* ToString(ArithMode m) { return m == ArithMode::kCsd ? "csd" : "cmvm"; }

std::string NeuronNote(const model::DenseLayer& d, int o) {
  std::string s;
  if (d.has_threshold) {
    const int64_t L = d.thresholds_per_channel();
    s = fmt::format("neuron {}: bias {}, thresholds", o, d.bias[o]);
    for (int64_t k = 0; k < L && k < 16; ++k) s += fmt::format(" {}", d.threshold[o * L + k]);
    if (L > 16) s += " ...";
    s += fmt::format(", output {} + count", d.clamp_lo);
  } else s = fmt::format("neuron {}: bias {}, M {} ({}), S {}, clamp [{}, {}]", o, d.bias[o], d.multiplier[o],
                              arith::CsdToString(arith::CsdDigits(d.multiplier[o])), d.shift[o], d.clamp_lo, d.clamp_hi);
  int nz = 0;
  std::string w;
  for (int i = 0; i < d.in; ++i) {
    const int64_t v = d.weight.at(o, i);
    if (v == 0) continue;
    ++nz;
    w += fmt::format("\n  x{}*{} = {}", i, v, arith::CsdToString(arith::CsdDigits(v)));
  }
  return s + fmt::format("; {} nonzero weights{}", nz, w);
}


arith::AdderGraph BuildLayerGraph(const model::DenseLayer& d, const model::IntType& input_type,
                                  const ArithChoice& choice) {
  if (choice.mode == ArithMode::kCsd) return arith::BuildCsdTrees(d.weight);
  arith::CmvmOptions o;
  o.depth_mode = choice.depth;
  o.extra_depth = choice.extra_depth;
  o.effort = choice.effort;
  o.input_ranges.assign(d.in, arith::InputRange{input_type.min(), input_type.max()});
  return arith::OptimizeCmvm(d.weight, o);
}

namespace {

// Adds a balanced tree summing `terms` (all operands of already-existing nodes); returns the operand that
// carries the sum. Terms are combined in order, pairwise per level, so equal inputs give equal trees.
ir::Operand SumTree(ir::Module& m, std::vector<ir::Operand> terms, ir::Role role, int neuron) {
  HW_CHECK(!terms.empty(), "empty sum");
  while (terms.size() > 1) {
    std::vector<ir::Operand> next;
    for (size_t i = 0; i + 1 < terms.size(); i += 2) {
      ir::Node n;
      n.kind = ir::NodeKind::kAdd;
      n.role = role;
      n.neuron = neuron;
      // keep a positive operand first so that the emitted expression reads "a - b", not "-a + b"
      if (terms[i].neg && !terms[i + 1].neg) n.ops = {terms[i + 1], terms[i]};
      else n.ops = {terms[i], terms[i + 1]};
      next.push_back({m.AddNode(std::move(n)), 0, false});
    }
    if (terms.size() % 2) next.push_back(terms.back());
    terms = std::move(next);
  }
  return terms[0];
}

// The module shell every layer starts from: name <model>_l<index>_<layer>, input and output types.
ir::Module NewModule(const model::Model& model, int index) {
  const model::Layer& layer = model.layers[index];
  ir::Module m;
  m.layer_index = index;
  m.layer_name = layer.name;
  m.kind = layer.kind();
  m.name = fmt::format("{}_l{}_{}", model.name, index, layer.name);
  m.input_type = model.OutputType(index - 1);
  m.num_inputs = model.OutputLength(index - 1);
  m.output_type = model.OutputType(index);
  return m;
}

ir::Module LowerDense(const model::Model& model, int index, const ArithChoice& choice) {
  const model::Layer& layer = model.layers[index];
  const auto& d = std::get<model::DenseLayer>(layer.op);
  ir::Module m = NewModule(model, index);
  m.summary = fmt::format("layer {} '{}': dense {} -> {}, {} {}-bit weights, arithmetic {}", index, layer.name, d.in,
                          d.out, model::ToString(d.encoding), d.weight_bits, ToString(choice.mode));
  for (int i = 0; i < d.in; ++i) {
    ir::Node n;
    n.kind = ir::NodeKind::kInput;
    n.role = ir::Role::kInput;
    n.input_index = i;
    m.AddNode(std::move(n));
  }
  const arith::AdderGraph g = BuildLayerGraph(d, m.input_type, choice);
  HW_CHECK(g.num_inputs == d.in && static_cast<int>(g.outputs.size()) == d.out, "adder graph shape");

  // Which output each graph node serves (-1 none yet, -2 shared by several) for roles and names.
  std::vector<int> owner(g.num_nodes(), -1);
  for (int o = 0; o < d.out; ++o) {
    const int node = g.outputs[o].node;
    if (node < 0) continue;
    owner[node] = owner[node] == -1 || owner[node] == o ? o : -2;
  }
  for (int id = g.num_nodes() - 1; id >= g.num_inputs; --id) {
    for (const arith::Term* t : {&g.adder(id).a, &g.adder(id).b}) {
      int& ow = owner[t->node];
      if (owner[id] == -1) continue;
      ow = (ow == -1 || ow == owner[id]) ? owner[id] : -2;
    }
  }
  std::vector<int> node_of(g.num_nodes());
  for (int i = 0; i < g.num_inputs; ++i) node_of[i] = i;
  for (int id = g.num_inputs; id < g.num_nodes(); ++id) {
    const arith::AdderNode& a = g.adder(id);
    ir::Node n;
    n.kind = ir::NodeKind::kAdd;
    n.neuron = owner[id] >= 0 ? owner[id] : -1;
    n.role = n.neuron >= 0 ? ir::Role::kNeuron : ir::Role::kShared;
    ir::Operand x{node_of[a.a.node], a.a.shift, a.a.neg}, y{node_of[a.b.node], a.b.shift, a.b.neg};
    if (x.neg && !y.neg) std::swap(x, y);
    n.ops = {x, y};
    node_of[id] = m.AddNode(std::move(n));
  }
  for (int o = 0; o < d.out && d.has_threshold; ++o) {
    // y = lo + #{k : acc + b >= T_k}: each comparison is a requant node clamp(acc + (1 - (T_k - b)), 0, 1), their
    // sum an adder tree, and a last requant node adds lo (docs/semantics.md, threshold).
    const arith::Term& t = g.outputs[o];
    const int64_t L = d.thresholds_per_channel();
    int64_t const_count = 0;
    std::vector<ir::Operand> bits;
    for (int64_t k = 0; k < L; ++k) {
      const int64_t tk = d.threshold[o * L + k] - d.bias[o];  // acc >= tk
      if (t.is_zero()) {
        const_count += 0 >= tk;
        continue;
      }
      ir::Node cmp;
      cmp.kind = ir::NodeKind::kRequant;
      cmp.role = ir::Role::kScale;
      cmp.neuron = o;
      cmp.rq.add = 1 - tk;
      cmp.rq.shift = 0;
      cmp.rq.lo = 0;
      cmp.rq.hi = 1;
      cmp.ops = {{node_of[t.node], t.shift, t.neg}};
      bits.push_back({m.AddNode(std::move(cmp)), 0, false});
    }
    ir::Node out;
    out.role = ir::Role::kOutput;
    out.neuron = o;
    if (bits.empty()) {
      out.kind = ir::NodeKind::kConst;
      out.value = d.clamp_lo + const_count;
    } else {
      out.kind = ir::NodeKind::kRequant;
      out.rq.add = d.clamp_lo;
      out.rq.shift = 0;
      out.rq.lo = d.clamp_lo;
      out.rq.hi = d.clamp_hi;
      out.ops = {SumTree(m, bits, ir::Role::kScale, o)};
    }
    m.outputs.push_back(m.AddNode(std::move(out)));
    m.output_notes.push_back(NeuronNote(d, o));
  }
  for (int o = 0; o < d.out && !d.has_threshold; ++o) {
    const arith::Term& t = g.outputs[o];
    std::vector<ir::Operand> scaled;
    if (!t.is_zero())
      for (const arith::SignedDigit& dig : arith::CsdDigits(d.multiplier[o]))
        scaled.push_back({node_of[t.node], t.shift + dig.shift, t.neg != dig.neg});
    ir::Node rq;
    rq.kind = ir::NodeKind::kRequant;
    rq.role = ir::Role::kOutput;
    rq.neuron = o;
    rq.rq.add = d.bias[o] * d.multiplier[o] + (d.shift[o] > 0 ? int64_t{1} << (d.shift[o] - 1) : 0);
    rq.rq.shift = static_cast<int>(d.shift[o]);
    rq.rq.lo = d.clamp_lo;
    rq.rq.hi = d.clamp_hi;
    if (!scaled.empty()) {
      rq.ops = {SumTree(m, scaled, ir::Role::kScale, o)};
    } else {
      // An all-zero weight row: the output is the constant clamp(rounded bias), no hardware at all.
      int64_t v = 0;
      RequantRange(rq.rq, 0, 0, &v, &v);
      rq = ir::Node{};
      rq.kind = ir::NodeKind::kConst;
      rq.role = ir::Role::kOutput;
      rq.neuron = o;
      rq.value = v;
    }
    m.outputs.push_back(m.AddNode(std::move(rq)));
    m.output_notes.push_back(NeuronNote(d, o));
  }
  return m;
}

ir::Module LowerArgmax(const model::Model& model, int index) {
  const model::Layer& layer = model.layers[index];
  ir::Module m = NewModule(model, index);
  m.summary = fmt::format("layer {} '{}': argmax over {} values, ties -> lowest index", index, layer.name, m.num_inputs);
  std::vector<int> level;
  for (int i = 0; i < m.num_inputs; ++i) {
    ir::Node n;
    n.kind = ir::NodeKind::kInput;
    n.input_index = i;
    level.push_back(m.AddNode(std::move(n)));
  }
  if (m.num_inputs == 1) {
    ir::Node c;
    c.kind = ir::NodeKind::kConst;
    c.role = ir::Role::kConst;
    c.value = 0;
    m.outputs.push_back(m.AddNode(std::move(c)));
    return m;
  }
  while (level.size() > 1) {
    std::vector<int> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      ir::Node n;
      n.kind = ir::NodeKind::kMaxSel;
      n.role = ir::Role::kArgmax;
      n.ops = {{level[i], 0, false}, {level[i + 1], 0, false}};  // lower indices on the left
      next.push_back(m.AddNode(std::move(n)));
    }
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  m.outputs.push_back(level[0]);
  return m;
}

}  // namespace

ir::Design LowerModel(const model::Model& model, const LowerOptions& options, int index) {
  ir::Design d;
  d.name = model.name;
  d.input_type = model.input;
  d.input_length = model.input_length;
  const model::Layer& l = model.layers[index];
  if (std::holds_alternative<model::DenseLayer>(l.op)) {
    auto it = options.per_layer.find(l.name);
    d.layers.push_back(LowerDense(model, index, it != options.per_layer.end() ? it->second : options.arith));
  } else {
    d.layers.push_back(LowerArgmax(model, index));
  }
  return d;
}

ir::Design LowerModel(const model::Model& model, const LowerOptions& options) {
  ir::Design d;
  for (int i = 0; i < static_cast<int>(model.layers.size()); ++i) {
    ir::Design one = LowerModel(model, options, i);
    if (i == 0) d = std::move(one);
    else d.layers.push_back(std::move(one.layers[0]));
  }
  return d;
}

}  // namespace hw::passes
