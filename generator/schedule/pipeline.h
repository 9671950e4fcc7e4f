// Pipeline scheduling: one register rank after every K adder levels, with all paths delay-balanced.
//
// Levels: inputs and constants are level 0; an adder, requant or compare-select node is one level above
// its deepest operand. Stage of a node = ceil(level / K) (inputs: stage 0). The module's inputs come
// straight from upstream registers; a register rank closes every stage; the outputs leave through the
// rank that closes the last stage T, so the module's latency is T clocks.
//
// A value produced in stage s and read in stage t > s travels through a shared delay line; the reader
// taps it after t - s ranks (t - s - 1 for module inputs, which arrive already registered). Outputs are
// read in "stage T + 1", so every output is registered and all of them line up.
#pragma once

#include <vector>

#include "ir/datapath.h"
#include "passes/pass.h"

namespace hw::schedule {

class PipelineSchedulePass : public passes::ModulePass {
 public:
  explicit PipelineSchedulePass(int adders_per_stage) : k_(adders_per_stage) {}
  std::string name() const override { return "pipeline-schedule"; }
  bool Run(ir::Module& m) override;
  bool leaves_ranges_valid() const override { return true; }

 private:
  int k_;
};

// Number of register ranks a reader in `reader_stage` needs between itself and node `id`.
int DelayFor(const ir::Module& m, int id, int reader_stage);

// For every node, the deepest delay tap anybody reads (0 = only read combinationally or not at all).
// A compare-select node carries a value and an index; the module output only needs the index, so the two
// have separate delay lines.
struct Taps {
  int value = 0;
  int index = 0;  // kMaxSel only
};
std::vector<Taps> RegisterDepths(const ir::Module& m);

struct RegisterStats {
  long registers = 0;      // register words (one per node per rank)
  long register_bits = 0;  // flip-flops
};
RegisterStats CountRegisters(const ir::Module& m);

}  // namespace hw::schedule
