#include "ir2/interpreter.h"

#include "common/diag.h"
#include "ir2/op_table.h"

namespace hw::ir2 {

Interpreter::Interpreter(const Graph& g) : g_(&g) { Reset(); }

void Interpreter::Reset() {
  slot_ = 0;
  states_.clear();
  for (const StateDecl& s : g_->states) states_.emplace_back(g_->streams, s.init);
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
  const std::vector<int> in_nodes = g_->Inputs();
  HW_CHECK(inputs.size() == in_nodes.size(), "interpreter: wrong number of inputs");
  std::vector<int64_t> outputs(g_->Outputs().size());
  std::vector<EvalContext::Write> writes;
  EvalContext c{g_, stream, &inputs, &states_, &memories_, &writes, &outputs, 0};
  std::vector<int64_t> ops;
  for (size_t i = 0; i < g_->nodes.size(); ++i) {
    const Node& n = g_->nodes[i];
    ops.clear();
    for (const Use& u : n.operands) ops.push_back(values_[u.node][u.result]);
    values_[i].assign(Info(n.op).results, 0);
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
    if (g_->states[i].name == name) return states_[i].at(stream);
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
