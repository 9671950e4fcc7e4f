#include "ir2/interpreter.h"

#include <map>

#include "common/diag.h"
#include "ir2/op_table.h"

namespace hw::ir2 {

Interpreter::Interpreter(const Graph& g) : g_(&g) {
  port_index_.assign(g.nodes.size(), -1);
  int in = 0, out = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].op == Op::kInput) port_index_[i] = in++;
    if (g.nodes[i].op == Op::kOutput) port_index_[i] = out++;
  }
  num_outputs_ = out;
  std::map<std::string, int> states, memories;
  for (size_t i = 0; i < g.states.size(); ++i) states[g.states[i].name] = static_cast<int>(i);
  for (size_t i = 0; i < g.memories.size(); ++i) memories[g.memories[i].name] = static_cast<int>(i);
  symbol_index_.assign(g.nodes.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Op op = g.nodes[i].op;
    if (op == Op::kStateRead || op == Op::kStateNext) symbol_index_[i] = states.at(g.nodes[i].symbol);
    if (op == Op::kMemRead || op == Op::kMemWrite) symbol_index_[i] = memories.at(g.nodes[i].symbol);
  }
  Reset();
}

void Interpreter::Reset() {
  slot_ = 0;
  states_.clear();
  for (const StateDecl& s : g_->states) states_.emplace_back(static_cast<size_t>(g_->streams) * s.lanes, s.init);
  memories_.clear();
  for (const MemDecl& m : g_->memories) {
    const int copies = m.per_stream ? g_->streams : 1;
    std::vector<int64_t> v(static_cast<size_t>(copies) * m.depth, 0);
    if (!m.init.empty())
      for (int c = 0; c < copies; ++c) std::copy(m.init.begin(), m.init.end(), v.begin() + static_cast<size_t>(c) * m.depth);
    memories_.push_back(std::move(v));
  }
  values_.assign(g_->nodes.size(), {});
}

std::vector<int64_t> Interpreter::Step(const std::vector<int64_t>& inputs, bool valid) {
  const int stream = slot_;
  slot_ = (slot_ + 1) % g_->streams;
  if (!valid) return {};
  std::vector<int64_t> outputs(num_outputs_);
  std::vector<EvalContext::Write> writes;
  EvalContext c{g_, stream, &inputs, &states_, &memories_, &writes, &outputs, 0, &port_index_, &symbol_index_};
  std::vector<int64_t> ops;
  for (size_t i = 0; i < g_->nodes.size(); ++i) {
    const Node& n = g_->nodes[i];
    ops.clear();
    for (const Use& u : n.operands) ops.push_back(values_[u.node][u.result]);
    values_[i].assign(Results(*g_, n), 0);
    c.node = static_cast<int>(i);
    Info(n.op).eval(c, n, ops, values_[i].data());
  }
  for (const EvalContext::Write& w : writes) {
    if (w.is_state) states_[w.index][w.slot] = w.value;
    else memories_[w.index].at(w.slot) = w.value;
  }
  return outputs;
}

int64_t Interpreter::state(const std::string& name, int stream) const {
  for (size_t i = 0; i < g_->states.size(); ++i)
    if (g_->states[i].name == name) return states_[i].at(static_cast<size_t>(stream) * g_->states[i].lanes);
  HW_CHECK(false, "no state " + name);
  return 0;
}

int64_t Interpreter::memory(const std::string& name, int64_t a) const {
  for (size_t i = 0; i < g_->memories.size(); ++i)
    if (g_->memories[i].name == name) return memories_[i].at(a);
  HW_CHECK(false, "no memory " + name);
  return 0;
}

}  // namespace hw::ir2
