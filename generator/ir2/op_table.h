// The op table of IR v2: everything generic code needs to know about an op, declared once per op in
// op_table.cpp — its text name, operand and result counts, which kind of symbol it names, its cost in the
// timing model, whether it has a side effect, its range rule and its meaning (the interpreter calls it).
// The Verilog emitter keeps its printer per op in emit/ir2_verilog.cpp (a test checks it covers every op).
//
// Adding an op: add it to `Op` (ir.h), give it a row in op_table.cpp (and a parser/printer case in text.cpp
// if it has attributes beyond operands and a symbol), a printer in the emitter, and a test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir2/ir.h"

namespace hw::ir2 {

enum class SymbolKind { kNone, kPort, kState, kMemory };

// What the interpreter gives an op when it evaluates it for one token.
struct EvalContext {
  const Graph* graph = nullptr;
  int stream = 0;
  const std::vector<int64_t>* inputs = nullptr;     // by input-node order
  std::vector<std::vector<int64_t>>* states = nullptr;    // [state][stream]
  std::vector<std::vector<int64_t>>* memories = nullptr;  // [memory][stream * depth + address]
  struct Write {
    bool is_state;
    int index;      // state or memory index
    int64_t slot;   // stream (state) or flat address (memory)
    int64_t value;
  };
  std::vector<Write>* writes = nullptr;             // committed after the token
  std::vector<int64_t>* outputs = nullptr;          // by output-node order
  int node = 0;
  const std::vector<int>* port_index = nullptr;     // per node: its position among the inputs / outputs
  const std::vector<int>* symbol_index = nullptr;   // per node: the index of its state or memory
};

struct OpInfo {
  Op op;
  const char* name;
  int min_operands;
  int max_operands;  // -1: no limit
  int results;       // 0, 1 or 2 (state_read: 1 per lane of its state, see Results())
  SymbolKind symbol;
  int cost;          // timing model: adder levels this op adds (0: wiring or a port); see Cost() for requant
  bool side_effect;  // state_next, mem_write, output: kept even without readers
  // Range of result `r` from the operands' ranges (already computed).
  Range (*range)(const Graph& g, const Node& n, int r);
  // Token-level meaning: operand values in, results out.
  void (*eval)(const EvalContext& c, const Node& n, const std::vector<int64_t>& operands, int64_t* results);
  // Operands may be shifted left and negated (`-%3<<2`): add, and requant (its rounding adder absorbs them); an
  // output's operand may be shifted (zero bits appended at the port: passes/ir2_trailing_zeros.h), not negated.
  bool scaled_operands = false;
};

const OpInfo& Info(Op op);
// nullptr if `name` is not an op.
const OpInfo* FindOp(const std::string& name);
const std::vector<OpInfo>& AllOps();
// Results of node `n`: the table's count, except a state_read of a state with lanes (one result per lane).
int Results(const Graph& g, const Node& n);
// The range of operand `u` as its reader sees it: +-(value << shift) (saturated at +-2^62 like every range).
Range OperandRange(const Graph& g, const Use& u);
// A requant's clamp as hardware. The value clamped is v = (a + add) >> shift; a bound is crossed only if v's range
// reaches past it. A bound 0, -2^k or 2^k - 1 (the limits of a k- or (k+1)-bit type) is tested by reading bits
// (the sign, and whether the bits above the bound's are all copies of it): a saturation, no comparator.
struct RequantClamp {
  bool lo = false, hi = false;  // the test of each bound can trigger
  int lo_bit = 0, hi_bit = 0;   // lo = 0 or -2^lo_bit, hi = 2^hi_bit - 1 (when bit_tests)
  bool bit_tests = true;        // every test that can trigger reads bits only
  bool rounding_adder = false;  // add != 0 or a negated operand: the requant has its own adder
  // A window: shift 0, clamp [0, 2^k - 1] and add = -L with L a multiple of 2^k (clamp-early). a - L needs no
  // adder: its low k bits are a's, and the tests compare a's bits from k up with L / 2^k (below, above).
  bool window = false;
  int window_bit = 0;        // k
  int64_t window_base = 0;   // L / 2^k
};
RequantClamp ClampOf(const Graph& g, const Node& requant);
// `xor a, 2^w - 1` with a in [0, 2^w - 1]: the bits of a inverted (2^w - 1 - a), as an adder inverts a subtrahend
// (offset-encode writes a - b as a + ~b): no level and no delay of its own, the adder reading it absorbs it.
bool IsBitwiseNot(const Graph& g, const Node& n);
// Adder levels node `n` adds in the level model: its table cost, except a requant with no rounding adder whose
// clamp is a saturation or never triggers (0: the shift is wiring, a saturation reads bits), and a bitwise NOT
// (IsBitwiseNot: 0).
int Cost(const Graph& g, const Node& n);
// `a PRED b` for predicate index `pred` into kPredicates (lt le eq ne gt ge): the cmp op's meaning.
bool ComparePredicate(int pred, int64_t a, int64_t b);

}  // namespace hw::ir2
