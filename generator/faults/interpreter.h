// An interpreter of the lowered, scheduled dense-chain design (ir::Design after driver::Compile), bit for bit
// what the emitted Verilog computes — including when hardware faults push a value out of its proven range.
//
// Every node holds a bit pattern of exactly its width (two's complement when signed). An adder computes
// +-(a << s) +-(b << t) modulo 2^W (the emitter's operands are sign/zero-extended or truncated to W); a
// requant node follows rtl_templates/hw_requant.v step by step (extend to SUM_W, add, drop SHIFT bits,
// extend to CMP_W, clamp only where the fault-free range reaches the clamp, keep OUT_W bits); a compare-select
// follows hw_argmax2.v. Without faults every value stays in its range and this is the reference forward pass
// (tested); with faults it is what the RTL with the same faults computes (tested in Verilator).
//
// Evaluation is node-major over blocks of vectors, so thousands of faulty designs can be run on the
// 10,000 Fashion-MNIST test images in minutes.
#pragma once

#include <vector>

#include "faults/faults.h"
#include "ir/datapath.h"
#include "reference/reference.h"

namespace hw::faults {

class Interpreter {
 public:
  // `d` must be scheduled and range-analysed (driver::Compile's output); `faults` are checked (CheckHwFaults).
  Interpreter(const ir::Design& d, const std::vector<HwFault>& faults);

  // Output of layer `last` (default: the design's output) for every row of `x`, the input of layer `first`
  // (the model input when first == 0, else what layer first-1 outputs). Elements are the layer's output type
  // (signed or unsigned), as the RTL's output bus carries them.
  reference::Batch Run(const reference::Batch& x, int first = 0, int last = -1) const;

  // First layer with a fault (layers before it compute the fault-free values), or layers.size().
  int first_faulty_layer() const { return first_faulty_; }

 private:
  struct Op {
    int node = -1;
    int shift = 0;
    bool neg = false;
    int tap = 0;           // register ranks between the operand's node and this reader
    bool dropped = false;  // drop fault
    bool is_const = false;
    int64_t value = 0;     // constant
  };
  struct RegFault {
    int rank = 0;
    bool index_line = false;
    uint64_t and_mask = ~0ull, or_mask = 0;
  };
  struct Node {
    ir::NodeKind kind = ir::NodeKind::kInput;
    int width = 0;
    bool is_signed = false;
    int index_width = 0;
    int input_index = -1;
    int64_t value = 0;
    Op ops[2];
    int num_ops = 0;
    uint64_t and_mask = ~0ull, or_mask = 0;  // stuck output bits
    std::vector<RegFault> reg;               // sorted by rank
    // requant parameters, as the emitter instantiates hw_requant
    int in_w = 1, sum_w = 1, shift = 0, cmp_w = 1;
    bool in_signed = false, sum_signed = false, clamp_lo = false, clamp_hi = false, direct = false;
    int64_t add = 0, lo = 0, hi = 0;
  };
  struct Layer {
    std::vector<Node> nodes;
    std::vector<int> outputs;
    std::vector<int> output_tap;
    int out_bits = 0;
    bool out_signed = false;
    int in_bits = 0;
  };
  void RunLayer(const Layer& l, const int64_t* in, int in_len, int rows, int64_t* out, int out_len,
                std::vector<int64_t>& val, std::vector<int64_t>& idx) const;

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
