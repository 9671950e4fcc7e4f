// Driving a lowered language model (passes/lower_lm.h) stream by stream: the token-slot schedule that feeds
// each stream its prompt and then lets it generate until its context is full, and the per-stream tokens read
// back from the outputs. Used with the IR interpreter (checked against the C++ reference) and with Verilator
// (checked against the interpreter, every output of every slot).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cosim/ir2_cosim.h"
#include "ir2/ir.h"
#include "model/lm_model.h"

namespace hw::cosim {

struct LmStreamPlan {
  std::vector<int> prompt;  // at least one token
  int start_round = 0;      // the round (S slots) in which the stream's first prompt token enters
};

struct LmSchedule {
  std::vector<Ir2Token> slots;
  int rounds = 0;
};

// One slot per stream per round; a slot is a bubble with probability bubble_percent / 100 (seeded).
// `seed` / `greedy` are the values of the seed and greedy ports.
LmSchedule MakeLmSchedule(const hw::ir2::Graph& g, const model::LmModel& m, const std::vector<LmStreamPlan>& plans, uint32_t seed,
                          bool greedy, int bubble_percent, uint64_t bubble_seed);

// Runs the schedule through the IR interpreter and returns, per stream, the tokens it generated (the outputs
// from its prompt's last position on), and the tap sums per stream and position.
struct LmRun {
  std::vector<std::vector<int>> generated;
  std::vector<std::vector<std::vector<int64_t>>> taps;  // [stream][position][tap]
  std::vector<std::string> tap_names;
  long active_tokens = 0;
};
LmRun RunLmInterpreter(const hw::ir2::Graph& g, const std::vector<LmStreamPlan>& plans, const LmSchedule& schedule);

}  // namespace hw::cosim

namespace hw::cosim {

// RTL outputs (from CosimIr2 with dump) against the C++ reference, stream by stream: every generated token
// (positions from the prompt's last on) and every residual tap sum at every position.
struct LmCheck {
  long tokens_passed = 0, tokens_failed = 0;
  std::vector<std::string> mismatches;           // the first few, each naming stream, position and first tap that differs
  std::vector<std::vector<int>> generated;       // per stream, from the RTL
  double tokens_per_clock = 0;                   // steady state: every stream live, none finished
  long steady_clocks = 0;
  long active_tokens = 0;
};
LmCheck CheckLmAgainstReference(const hw::ir2::Graph& g, const model::LmModel& m, const std::vector<LmStreamPlan>& plans,
                                const Ir2CosimResult& rtl, std::optional<uint64_t> seed);

}  // namespace hw::cosim
