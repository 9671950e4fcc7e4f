// A bit-level interpreter of the layer graphs of a dense chain (IR v2, scheduled, registers materialized:
// driver::Compile's CompiledDesign::graphs), bit for bit what the Verilog printed by emit/ir2_verilog.cpp
// computes — including when hardware faults push a value out of its proven range.
//
// The library interpreter (ir2/interpreter.h) gives the token-level meaning of ops on unbounded integers,
// which is exact only while every value stays in its range. Here every op's result is held in exactly its
// declared width (the type of its proven range, as the emitter declares the wire or reg), and every reader
// extends or truncates it as the printed Verilog does:
//
//   add      +-(a << s) +-(b << t) ... modulo 2^W (operands sign/zero-extended or truncated to W - s bits)
//   requant  the emitter's rounding adder of TW bits (TW from the fault-free ranges), $signed >>> SHIFT, the
//            clamp comparisons the fault-free range can reach (no comparator is printed for the others),
//            then the low W bits
//   reg      the operand in W bits, then its stuck bits forced (a stuck flip-flop modelled at its D input)
//   lut/rom  index modulo 2^IW, the case statement's default 0 beyond the table
//   shl/shr  the amount's bits read unsigned; bitlen a priority encoder over the operand's stored bits
//   other ops (mul, max, cmpsel, select, cmp, and, xor): the op's meaning on the stored values, modulo 2^W
//
// Without faults every value stays in its range and this is the reference forward pass (tested); with faults it
// is what the RTL with the same faults computes (tested in Verilator). Evaluation is node-major over blocks of
// vectors, so thousands of faulty designs can be run on the 10,000 Fashion-MNIST test images in minutes.
//   state    per-stream words (a K/V row: `lanes` values), read at the stream's index; stuck cells forced where
//            the word is read (a stuck SRAM cell shows on every read); writes wrapped to the state's type
// Writable memories (mem_write) are not handled (no model lowers to them).
#pragma once

#include <memory>
#include <vector>

#include "faults/faults.h"
#include "reference/reference.h"

namespace hw::faults {

// One graph, compiled for bit-level evaluation with its faults: the engine under Interpreter (a dense chain, one
// program per layer) and LmEvaluator (the language model: one program, stateful). Rows of a block are
// independent vectors (stateless graphs) or the stream slots 0 .. rows-1 (graphs with per-stream state, each
// row its own stream, stepping one token at a time in token-level order: a token's state writes are committed
// after it, as the pipeline does when S covers the feedback loop).
class GraphProgram {
 public:
  // `layer` is the graph's index in `faults` (faults naming other layers are ignored). `dense_ports`: input x<i>
  // reads column i and output y<o> is column o (a dense layer); else inputs and outputs in node order.
  GraphProgram(const hw::ir2::Graph& g, int layer, const std::vector<HwFault>& faults, bool dense_ports, int inputs, int outputs);
  int slots() const { return slots_; }
  int outputs() const { return static_cast<int>(out_slot_.size()); }
  int output_slot(int o) const { return out_slot_[o]; }
  // Output o is the value in its slot shifted left by this (an output operand's shift: passes/ir2_trailing_zeros.h).
  int output_shift(int o) const { return out_shift_[o]; }
  int slot_of(int node) const { return nodes_[node].slot; }
  bool stateful() const { return !states_.empty(); }

  // Per-stream state of `rows` streams (values in their declared types), as after reset.
  struct State {
    std::vector<std::vector<int64_t>> words;  // [state][stream * lanes + lane]
  };
  State Reset(int rows) const;
  // Evaluates one token for rows 0..rows-1 (rows <= block): `in` is rows x in_len (row-major); values land in
  // `val` (slot * block + row); `state` may be null for a stateless graph.
  void Run(const int64_t* in, int in_len, int rows, int block, std::vector<int64_t>& val, State* state) const;

 private:
  struct Operand {
    int slot = 0;  // the source value (a result of an earlier op)
    int shift = 0;
    bool neg = false;
    bool dropped = false;  // drop fault
    int width = 1;         // the source's declared width
  };
  struct Node {
    hw::ir2::Op op = hw::ir2::Op::kConst;
    int slot = 0;  // first result's slot (cmpsel: slot + 1 is the index; state_read: one per lane)
    int width = 1, width1 = 1;
    bool is_signed = false, signed1 = false;
    std::vector<Operand> ops;
    int64_t value = 0;     // const; input: port column
    uint64_t and_mask = ~0ull, or_mask = 0;  // stuck bits (add output, reg)
    int pred = 0;          // cmp
    // requant, as the emitter prints it
    int tw = 1, shift = 0;
    int64_t add = 0, lo = 0, hi = 0;
    bool clamp_lo = false, clamp_hi = false;
    // lut / rom
    int iw = 1;
    uint64_t offset = 0;
    const std::vector<int64_t>* table = nullptr;
    // shl / shr / bitlen
    int aw = 1;
    bool amount_const = false;
    int64_t amount = 0;
    // state_read / state_next
    int state = -1, lanes = 1;
    bool has_enable = false;
    bool alias = false;  // a register without faults: shares its operand's slot, not evaluated
  };
  struct StateInfo {
    int width = 1, lanes = 1;
    bool is_signed = false;
    int64_t init = 0;
    // stuck cells: (stream * lanes + lane) -> masks, applied where the word is read
    std::vector<std::pair<int64_t, std::pair<uint64_t, uint64_t>>> stuck;
  };
  std::vector<Node> nodes_;
  std::vector<StateInfo> states_;
  std::vector<std::unique_ptr<std::vector<int64_t>>> tables_;  // faulty copies of lut tables
  std::vector<int> out_slot_, out_shift_;
  int slots_ = 0;
};

class Interpreter {
 public:
  // `d` are the layer graphs of `m` (one per model layer, stateless); `faults` are checked (CheckHwFaults).
  Interpreter(const model::Model& m, const Graphs& d, const std::vector<HwFault>& faults);

  // Output of layer `last` (default: the design's output) for every row of `x`, the input of layer `first`
  // (the model input when first == 0, else what layer first-1 outputs). Elements are the layer's output type
  // (signed or unsigned), as the RTL's output bus carries them.
  reference::Batch Run(const reference::Batch& x, int first = 0, int last = -1) const;

  // First layer with a fault (layers before it compute the fault-free values), or the number of layers.
  int first_faulty_layer() const { return first_faulty_; }

 private:
  struct Layer {
    std::unique_ptr<GraphProgram> program;
    int out_bits = 0;
    bool out_signed = false;
  };
  std::vector<Layer> layers_;
  int first_faulty_ = 0;
};

// Two's complement helpers shared with the RTL injection.
// The `width`-bit pattern in `bits` as an integer (sign-extended when `is_signed`).
inline int64_t Wrap(uint64_t bits, int width, bool is_signed) {
  if (width >= 64) return static_cast<int64_t>(bits);
  const int up = 64 - width;  // to the top and back: sign- or zero-extends
  return is_signed ? static_cast<int64_t>(bits << up) >> up : static_cast<int64_t>((bits << up) >> up);
}

}  // namespace hw::faults
