// `hardwire generate` and `hardwire sim` for graph models (language models): the RTL of the whole model as
// one IR v2 module, and its co-simulation over interleaved streams against the C++ reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hw::cli {

struct LmGenerateFlags {
  std::string model, out;
  int k = 1;
  int streams = 0;
  double clock_ns = 0;  // > 0: a clock target instead of K (delay model: asic or fpga)
  bool asic = false;
  double fo4_ps = 25;
  bool ripple = false;
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
