// The IR v2 verifier: structure (operand counts and order, symbols, per-op attributes), and, once the
// analyses have run, ranges (no value beyond +-2^62, writes that fit their state or memory, addresses and
// table indices in range) and timing (registers explicit: every op reads its operands in its own stage; every
// read-modify-write loop through a state or memory fits the stream count).
#pragma once

#include <string>
#include <vector>

#include "ir2/ir.h"

namespace hw::ir2 {

enum class VerifyLevel { kStructure, kRanges, kScheduled };

// Every violation, one line each ("%7 (add): operand 1 refers to %9, which comes later"); empty when valid.
std::vector<std::string> Verify(const Graph& g, VerifyLevel level);

// For each state / per-stream memory: the stages where it is read and written. A loop is valid when
// read_stage <= write_stage <= read_stage + S - 1 (the write lands before the same stream's next token
// reads, and after this token's own read).
struct FeedbackLoop {
  std::string symbol;
  int read_stage = 0, write_stage = 0;
  int clocks() const { return write_stage - read_stage + 1; }
};
std::vector<FeedbackLoop> FeedbackLoops(const Graph& g);

}  // namespace hw::ir2
