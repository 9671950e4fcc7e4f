// IR v2: a dataflow graph of integer ops for token-streaming hardware (docs/architecture.md, "IR v2").
//
// A Graph is evaluated once per token. Tokens enter one per clock; token n belongs to stream n mod S (S =
// Graph::streams, fixed round-robin slots). Ops read earlier nodes only (topological order). Besides pure
// arithmetic there are ops with state that survives from token to token: per-stream state (state_read /
// state_next), addressable memories (mem_read / mem_write; ROMs when never written) and pipeline registers
// (reg). What every op means, how wide its result is and what it costs in time is declared once, in the op
// table (op_table.h).
//
//   graph acc streams=4
//   state total s16 init=0
//   %0 = input x s8
//   %1 = stream_id
//   %2 = state_read total, %1
//   %3 = add %2, %0
//   state_next total, %1, %3
//   output y, %3
//
// Token-level meaning (what the interpreter computes): all ops of a token are evaluated in order; reads see
// the state and memory contents left by earlier tokens; the token's own writes are committed after it.
// A bubble (a clock without a valid token) uses its stream slot but reads and writes nothing.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace hw::ir2 {

enum class Op {
  kInput,      // input port `symbol` of type `type`
  kConst,      // the constant `value`
  kAdd,        // sum of operands, each shifted left by `shift` and optionally negated (1 or more operands)
  kMul,        // operand 0 * operand 1 (a real multiplier between two activations)
  kRequant,    // clamp((a + add) >> shift, lo, hi), arithmetic shift
  kMax,        // the larger of a and b
  kCmpSel,     // (va, ia, vb, ib) -> results (value, index): (vb, ib) if vb > va else (va, ia)
  kSelect,     // c != 0 ? a : b
  kLut,        // table[a - offset]
  kStreamId,   // the stream slot of the current token, 0 .. S-1
  kStateRead,  // per-stream state `symbol` of the stream given by operand 0 (one result per lane)
  kStateNext,  // state `symbol`[operand 0] <- operands 1 .. lanes (if the operand after them, when present, is nonzero)
  kMemRead,    // memory `symbol` at address operand 0 (per-stream memories: operands stream, address)
  kMemWrite,   // memory `symbol`[address] <- data (operands: [stream,] address, data [, enable])
  kReg,        // operand 0, one clock later (a pipeline register; transparent at token level)
  kCmp,        // 1 if (a PRED b) else 0, PRED one of lt le eq ne gt ge
  kShl,        // a * 2^b (b >= 0, a variable shift)
  kShr,        // floor(a / 2^b) (b >= 0; arithmetic)
  kBitlen,     // number of bits of a >= 0 (0 for 0): a lies in [2^(r-1), 2^r)
  kAnd,        // bitwise and of two non-negative values
  kXor,        // bitwise exclusive or of two non-negative values
  kOutput,     // output port `symbol` <- operand 0
};

inline constexpr const char* kPredicates[] = {"lt", "le", "eq", "ne", "gt", "ge"};

struct Range {
  int64_t lo = 0, hi = 0;
  bool operator==(const Range&) const = default;
};

// A two's complement or unsigned integer type of 1 .. 64 bits.
struct Type {
  int width = 1;
  bool is_signed = false;
  int64_t min() const;
  int64_t max() const;
  bool operator==(const Type&) const = default;
};
// The narrowest type holding [lo, hi]: unsigned if lo >= 0.
Type TypeOf(const Range& r);

struct Use {
  int node = -1;
  int result = 0;  // which result of a multi-result node (cmpsel: 0 value, 1 index)
  int shift = 0;   // add and requant only
  bool neg = false;  // add and requant only
  bool operator==(const Use&) const = default;
};

struct Node {
  Op op = Op::kConst;
  std::vector<Use> operands;
  std::string symbol;          // port, state or memory name
  Type type;                   // input: declared
  int64_t value = 0;           // const
  int64_t add = 0;             // requant
  int shift = 0;               // requant
  int64_t lo = 0, hi = 0;      // requant clamp
  int64_t offset = 0;          // lut: index of table[0]
  int pred = 0;                // cmp: index into kPredicates
  std::vector<int64_t> table;  // lut contents (model data)
  std::string comment;         // printed above the node in dumps and Verilog
  int group = -1;              // index into Graph::groups: the model op this node implements (for reports;
                               // not part of the text form)

  // Range analysis: one range per result.
  std::vector<Range> range;

  bool operator==(const Node&) const = default;
};

// When a node's value is computed: its entry in the schedule (Graph::schedule).
struct Slot {
  int stage = 0;       // clock (pipeline stage) in which the value is computed
  int level = 0;       // combinational depth in the timing model's units, counted from the graph's inputs
  double arrival = 0;  // clock-target schedules: ns from the stage's registers to this op's result
  bool operator==(const Slot&) const = default;
};

struct StateDecl {
  std::string name;
  Type type;
  int64_t init = 0;    // value of every stream's state after reset
  bool reset = true;   // false ("noreset"): not cleared by reset, for state that is always written before it is
                       // read (a K/V row); the interpreter starts it at 0, the hardware at whatever power-up gives
  int lanes = 1;       // values per stream read and written together, as one memory word (a K/V row of d
                       // elements): state_read has `lanes` results, state_next takes `lanes` values
  bool operator==(const StateDecl&) const = default;
};

struct MemDecl {
  std::string name;
  Type type;
  int depth = 1;
  bool per_stream = false;     // S separate copies, addressed by stream id (required if written)
  std::vector<int64_t> init;   // contents after reset (a ROM if never written); empty = zeros
  bool operator==(const MemDecl&) const = default;
};

struct Graph {
  std::string name;
  int streams = 1;  // S
  // The input ports are driven by registers outside the graph (a layer of a dense chain reads the previous
  // layer's output register, the first one the top's input register): logic starts in the first stage and no
  // register is placed at the entry. Text form: `inputs=registered` in the graph header.
  bool inputs_registered = false;
  std::vector<StateDecl> states;
  std::vector<MemDecl> memories;
  std::vector<Node> nodes;
  std::vector<std::string> groups;  // names of the model ops the nodes implement (Node::group)

  // The schedule, a side table indexed by node id: empty until the `schedule` pass fills it, then one slot per
  // node; passes after it that add nodes add their slots.
  std::vector<Slot> schedule;

  // Appends a node (and, in a scheduled graph, a slot for it).
  int Add(Node n, Slot at = {}) {
    nodes.push_back(std::move(n));
    if (!schedule.empty()) schedule.push_back(at);
    return static_cast<int>(nodes.size()) - 1;
  }
  bool scheduled() const { return !schedule.empty(); }
  // The node's stage (0 in an unscheduled graph).
  int StageOf(int id) const { return schedule.empty() ? 0 : schedule[id].stage; }
  const StateDecl* FindState(const std::string& n) const;
  const MemDecl* FindMemory(const std::string& n) const;
  std::vector<int> Inputs() const;   // input nodes in order
  std::vector<int> Outputs() const;  // output nodes in order
  int latency = 0;                   // filled by scheduling: clocks from input ports to output ports

  // Everything above is equal, analysis results included (what a pass that reports "unchanged" must leave).
  bool operator==(const Graph& o) const {
    return name == o.name && streams == o.streams && inputs_registered == o.inputs_registered && states == o.states &&
           memories == o.memories && nodes == o.nodes && groups == o.groups && schedule == o.schedule && latency == o.latency;
  }

 private:
  mutable std::unordered_map<std::string, int> state_index_;  // FindState's index, rebuilt when states change size
};

}  // namespace hw::ir2
