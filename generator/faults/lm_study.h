// Faults in the tiny language model printed into RTL (docs/faults.md, "The language model").
//
// The model is one IR v2 graph (passes/lower_lm.h): S interleaved streams, per-stream state (position, live,
// last token, random state, and the K/V cache: one word of d lanes per stream, per position, per attention op)
// and lookup tables (embedding columns, rsqrt, exp2, reciprocal, GELU). Faults at five levels:
//
//   weight    a dense op's constant is wrong (zero / flip / CSD digit removed / added), evaluated with the C++
//             reference on a faulty copy of the weights (the hardware would be generated from them)
//   adder     a stuck output bit of an `add` op (n<N> in the RTL)
//   register  a stuck flip-flop of a `reg` op (r<N>), except the registers that carry the stream slot to the
//             state's address ports (control: a defect there crosses streams; see "Not modelled")
//   memory    a stuck bit of a per-stream state word (st_<name>[stream], lane l), mostly the K/V cache
//   table     a stuck bit of one entry of a lookup table (a ROM printed as a case statement)
//
// Hardware faults are evaluated by GraphProgram (faults/interpreter.h), bit for bit the emitted Verilog, with
// one row per stream: W held-out windows run as streams 0 .. W-1 in lockstep.
//
// Metrics, on the same W windows of a held-out text: cross-entropy (nats per character, from the logits the
// argmax tree reads, with the sample op's scale, as reference::CrossEntropy) and next-token accuracy (the greedy
// token equals the text's next character), both teacher-forced (every position is fed the text's character);
// and the fraction of generated tokens that differ from the fault-free model's when each stream is prompted
// with its window's first `prompt` characters and then generates greedily until its context is full.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "faults/faults.h"
#include "cosim/ir2_cosim.h"
#include "faults/study.h"
#include "ir2/ir.h"
#include "model/lm_model.h"

namespace hw::faults {

struct LmQuality {
  double cross_entropy = 0;  // nats per character
  double accuracy = 0;       // next-token accuracy
  double changed = 0;        // fraction of generated tokens that differ from the fault-free model's
};

// Weight faults of the LM: `layer` is the index of a dense op in LmModel::ops, row / col index its weight matrix.
model::LmModel ApplyLmWeightFaults(const model::LmModel& m, const std::vector<WeightFault>& faults);

// The sites of every level, each attributed to a unit of the model (embedding, block <b> attention, block <b>
// MLP, head, control) for per-block sensitivity.
struct LmSites {
  struct Bit {
    int unit;
    int node;  // op id (adder, reg, lut), or state index
    int64_t index;  // bit (adder, reg); entry * width + bit (table); (stream * lanes + lane) * width + bit (state)
  };
  std::vector<std::string> units;
  std::vector<Sites::Weight> weights;  // layer = LmModel op index
  std::vector<int> weight_unit;
  std::vector<Bit> adder_bits, register_bits, table_bits;
  // Per-stream state bits are too many to list (13 Mbit): one segment per state, drawn by index.
  struct Segment {
    int unit, state;
    int64_t bits;  // streams * lanes * width
  };
  std::vector<Segment> state_bits;
  int64_t StateBits() const;
  long registers_excluded = 0;  // flip-flops carrying the stream slot (not modelled)
};

class LmEvaluator {
 public:
  // `g` is `m` lowered (passes::lm::LowerLmModel); `windows` hold context + 1 tokens each, at most g.streams.
  LmEvaluator(const model::LmModel& m, const hw::ir2::Graph& g, std::vector<std::vector<int>> windows, int prompt);
  // Weight faults through the reference, hardware faults through the graph; a set holding both is refused.
  LmQuality Evaluate(const FaultSet& f) const;
  LmQuality clean() const { return clean_q_; }
  const LmSites& sites() const { return sites_; }
  const model::LmModel& model() const { return m_; }
  const hw::ir2::Graph& graph() const { return graphs_[0]; }
  const Graphs& graphs() const { return graphs_; }
  const std::vector<std::vector<int>>& windows() const { return windows_; }
  int prompt() const { return prompt_; }

  // What one evaluation produces, per stream: the teacher-forced logits and greedy tokens at every position,
  // and the tokens generated from the prompt.
  struct Run {
    std::vector<std::vector<std::vector<int64_t>>> logits;  // [stream][position][vocab]
    std::vector<std::vector<int>> greedy;                   // [stream][position]
    std::vector<std::vector<int>> generated;                // [stream][k]: the tokens chosen from the prompt's last position on
  };
  // The hardware run feeds W streams (rows 0 .. W-1 = stream slots 0 .. W-1) the teacher-forced windows, then,
  // without a reset (as the RTL check replays it), each its prompt and lets it generate. With `slots`, the token
  // slots of that schedule as the RTL sees them (S slots per round, bubbles for the streams beyond W) and, with
  // `outputs`, every output of every valid slot.
  Run RunHardware(const std::vector<HwFault>& faults, std::vector<cosim::Ir2Token>* slots = nullptr,
                  std::vector<std::vector<int64_t>>* outputs = nullptr) const;
  Run RunReference(const model::LmModel& m) const;
  LmQuality Score(const Run& r) const;

 private:
  const model::LmModel& m_;
  Graphs graphs_;  // one: the model's graph (a copy, so that faults and sites name layer 0)
  std::vector<std::vector<int>> windows_;
  int prompt_;
  LmSites sites_;
  Run clean_run_;
  LmQuality clean_q_;
  std::vector<int> input_port_;    // prompt_valid, prompt_first, prompt_token, seed, greedy: node order positions
  int token_output_ = -1;          // position of `token` among the outputs
  std::vector<int> logit_node_;    // per vocabulary entry: the op whose value the argmax tree reads (slot via program)
  std::vector<int> logit_result_;
};

// One sample of random faults on the LM at `rate` per site (or exactly `count` sites), confined to `unit`
// ("" = everywhere). Levels: weight (mix of kinds), adder (stuck bits), register, memory (state bits), table.
FaultSet SampleLm(const LmEvaluator& ev, Level level, const std::string& unit, double rate, long count, uint64_t seed);

struct LmPoint {
  Level level = Level::kAdder;
  std::string unit;  // "" = the whole model
  double rate = 0;
  long count = -1;
  double mean_faults = 0;
  std::vector<LmQuality> samples;
};
LmPoint RunLmPoint(const LmEvaluator& ev, Level level, const std::string& unit, double rate, long count, int samples,
                   uint64_t seed, int threads);

// Ablation of the LM, through the reference: each attention head (the output projection's columns that read it
// zeroed, so it contributes nothing), each MLP neuron of each block (with `neurons`: its ffn1 row and ffn2 column
// zeroed) and each dense op (all weights zeroed); sorted by cross-entropy, worst first.
struct LmAblationRow {
  std::string unit;
  LmQuality quality;
};
std::vector<LmAblationRow> AblateLm(const LmEvaluator& ev, int threads, bool neurons);

// The RTL check of the LM: `f`'s hardware faults injected into the emitted Verilog (faults/rtl_inject.h), built
// with Verilator and run on RunHardware's schedule; every output of every valid slot must equal the faulty
// interpreter's. `work_dir` is replaced.
struct LmRtlCheck {
  long passed = 0, failed = 0;
  long tokens_changed = 0;  // greedy + generated tokens that differ from the fault-free run
  double build_seconds = 0, sim_seconds = 0;
};
LmRtlCheck CheckLmInRtl(const LmEvaluator& ev, const FaultSet& f, const std::string& work_dir);

}  // namespace hw::faults
