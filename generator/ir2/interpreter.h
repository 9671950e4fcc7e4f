// The IR v2 interpreter: the token-level meaning of a graph, a second oracle beside the model reference and
// Verilator. Tokens arrive one per step; token n uses stream slot n mod S; a bubble uses its slot and
// changes nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "ir2/ir.h"

namespace hw::ir2 {

class Interpreter {
 public:
  explicit Interpreter(const Graph& g);  // the graph must pass Verify(kRanges)
  void Reset();
  // One token (inputs in input-node order). Returns the outputs in output-node order; empty for a bubble.
  std::vector<int64_t> Step(const std::vector<int64_t>& inputs, bool valid = true);
  int next_stream() const { return slot_; }
  int64_t state(const std::string& name, int stream) const;
  int64_t memory(const std::string& name, int64_t flat_address) const;

 private:
  const Graph* g_;
  int slot_ = 0;
  std::vector<std::vector<int64_t>> states_, memories_;
  std::vector<std::vector<int64_t>> values_;  // per node, per result
  std::vector<int> port_index_;               // per node: position among inputs / outputs
  std::vector<int> symbol_index_;             // per node: its state or memory
  int num_outputs_ = 0;
};

}  // namespace hw::ir2
