// The datapath IR: what every layer becomes before it is scheduled and emitted as Verilog.
//
// A Design is an ordered chain of Modules (one per model layer); each Module is a DAG of integer Nodes
// over the module's input vector. Node ids are indices into Module::nodes and every node reads only
// nodes with smaller ids (topological order), so passes can walk the vector front to back.
//
//   dense 2 -> 1, W = [[3, -1]], M = 5, S = 2, clamp [0, 15]:
//     n0 = input[0]        n1 = input[1]
//     n2 = n0 + (n0 << 1)              // 3*x0            (kAdd, role kNeuron, neuron 0)
//     n3 = n2 - n1                     // acc             (kAdd)
//     n4 = n3 + (n3 << 2)              // acc * 5         (kAdd, role kScale)
//     n5 = requant(n4, add 2, >> 2, [0, 15])              (kRequant, role kOut)
//     outputs = [n5]
//
// Node kinds are deliberately open: lookup tables, memories (embedding ROMs, KV caches) and stream
// selectors become new kinds with their own range rule, level cost and emitter, without touching the
// others. Analysis results (range, width, level, stage) live on the node and are filled in by passes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace hw::ir {

enum class NodeKind {
  kInput,    // element `input_index` of the module input
  kConst,    // the constant `value`
  kAdd,      // ops[0] + ops[1], each operand shifted left and optionally negated
  kRequant,  // clamp((ops[0] + rq.add) >> rq.shift, rq.lo, rq.hi); ops may be empty (value 0)
  kMaxSel,   // argmax step: the larger of ops[0], ops[1] (ties -> ops[0]) together with its index
};
const char* ToString(NodeKind k);

// What a node is for; used for stable, readable names and for reports.
enum class Role { kInput, kShared, kNeuron, kScale, kOutput, kArgmax, kConst };

struct Operand {
  int node = -1;
  int shift = 0;
  bool neg = false;
  bool operator==(const Operand&) const = default;
};

struct RequantAttrs {
  int64_t add = 0;  // rounding constant 2^(S-1) plus the folded bias * M
  int shift = 0;
  int64_t lo = 0;
  int64_t hi = 0;
};

struct Node {
  NodeKind kind = NodeKind::kInput;
  Role role = Role::kInput;
  std::vector<Operand> ops;
  int input_index = -1;  // kInput
  int64_t value = 0;     // kConst
  RequantAttrs rq;       // kRequant
  int neuron = -1;       // output channel this node belongs to, -1 if shared

  // Filled in by RangeAnalysisPass: exact value range and the minimal two's complement / unsigned width.
  int64_t lo = 0, hi = 0;
  int width = 0;
  bool is_signed = false;
  int index_width = 0;  // kMaxSel: bits of the index carried alongside the value
  // Filled in by the scheduler.
  int level = 0;  // combinational depth in adder levels; inputs and constants are 0
  int stage = 0;  // pipeline stage, 0 for inputs
  std::string name;  // filled in by NameNodesPass
};

struct Module {
  std::string name;        // Verilog module name
  std::string layer_name;  // model layer name
  std::string kind;        // "dense", "argmax"
  int layer_index = 0;
  model::IntType input_type;
  int num_inputs = 0;
  model::IntType output_type;
  std::vector<Node> nodes;
  std::vector<int> outputs;  // node id of every output element
  // Readable notes per output (weights and their signed digits), emitted as comments.
  std::vector<std::string> output_notes;
  std::string summary;  // one-line description, emitted as the module's header comment

  // Filled in by the scheduler.
  int adders_per_stage = 1;
  int latency = 0;  // register ranks between input and output ports

  int AddNode(Node n) {
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size()) - 1;
  }
};

struct Design {
  std::string name;
  model::IntType input_type;
  int input_length = 0;
  std::vector<Module> layers;
  int latency() const;  // input register + every layer's ranks
};

// Checks structural invariants: operand ids earlier than the node, operand counts per kind, shifts in
// range, outputs exist, input indices in range; and, when `analysed`, widths consistent with ranges.
// Returns "" when valid, else the first violation naming module and node.
std::string Verify(const Module& m, bool analysed);

// Text form for debugging and tests ("n4 = add n3, n3<<2  [0, 75] u7 L3 S3").
std::string Dump(const Module& m);

// Bits needed for the closed range [lo, hi]: unsigned if lo >= 0, else two's complement.
int WidthOf(int64_t lo, int64_t hi, bool* is_signed);

}  // namespace hw::ir
