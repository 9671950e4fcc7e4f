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
// Graphs with state or writable memories (the language model) are not handled here.
#pragma once

#include <vector>

#include "faults/faults.h"
#include "reference/reference.h"

namespace hw::faults {

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
  struct Operand {
    int slot = 0;  // the source value (a result of an earlier op)
    int shift = 0;
    bool neg = false;
    bool dropped = false;  // drop fault
    int width = 1;         // the source's declared width
  };
  struct Node {
    hw::ir2::Op op = hw::ir2::Op::kConst;
    int slot = 0;  // first result's slot (cmpsel: slot + 1 is the index)
    int width = 1, width1 = 1;
    bool is_signed = false, signed1 = false;
    std::vector<Operand> ops;
    int64_t value = 0;     // const; input: port position
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
  };
  struct Layer {
    std::vector<Node> nodes;
    int slots = 0;
    std::vector<int> out_slot;  // per output element
    int out_bits = 0;
    bool out_signed = false;
  };
  void RunLayer(const Layer& l, const int64_t* in, int in_len, int rows, int64_t* out, int out_len,
                std::vector<int64_t>& val) const;

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
