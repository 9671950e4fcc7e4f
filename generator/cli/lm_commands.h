// `hardwire generate` and `hardwire sim` for graph models (language models): the RTL of the whole model as
// one IR v2 module, and its co-simulation over interleaved streams against the C++ reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "passes/lower_lm.h"

namespace hw::cli {

struct LmGenerateFlags {
  std::string model, out;
  passes::lm::LmLowerOptions lower;  // K or a clock target, the stream count
};
int GenerateLm(const LmGenerateFlags& f);

struct LmSimFlags {
  std::string model, rtl, build_dir, prompts_file;
  std::vector<std::string> prompts;
  bool greedy = false;
  uint64_t seed = 1;
  long stall_seed = -1;
  int bubbles = 0;  // percent of slots left empty
};
int SimLm(const LmSimFlags& f);

}  // namespace hw::cli
