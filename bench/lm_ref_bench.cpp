// Speed of the integer language-model reference (the oracle for long co-simulations), on one core.
//   build/bench/lm_ref_bench [MODEL.json] [--streams S]
// Prints tokens/s for sampled generation (S interleaved streams until each context is full, repeated for
// at least 2 s) and for held-out-style scoring of fixed windows. Target (issue 10): >= 2,000 tokens/s.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <string>

#include "common/diag.h"
#include "model/lm_model_io.h"
#include "reference/lm_reference.h"

int main(int argc, char** argv) {
  std::string path = std::string(HW_SOURCE_DIR) + "/weights/tiny_lm/model.json";
  int streams = 16;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--streams") && i + 1 < argc) streams = std::atoi(argv[++i]);
    else path = argv[i];
  }
  try {
    using clock = std::chrono::steady_clock;
    const hw::model::LmModel m = hw::model::LoadLmModel(path);
    fmt::print("model {}: vocab {}, context {}, {} ops, {} matrix weights\n", m.name, m.vocab_size(), m.context, m.ops.size(),
               m.MatrixWeights());
    std::vector<std::vector<int>> prompts;
    for (int s = 0; s < streams; ++s) prompts.push_back({s % m.vocab_size()});
    int64_t tokens = 0;
    int rounds = 0;
    const auto t0 = clock::now();
    double secs = 0;
    while (secs < 2.0) {
      const auto gens = hw::reference::Generate(m, prompts, m.context + 1, 1000 + rounds);
      for (const auto& g : gens) tokens += static_cast<int64_t>(g.prompt.size() + g.generated.size()) - 1;
      ++rounds;
      secs = std::chrono::duration<double>(clock::now() - t0).count();
    }
    fmt::print("generate (sampled, {} streams x {} positions, {} rounds): {} tokens in {:.2f} s = {:.0f} tokens/s (target >= 2000)\n",
               streams, m.context, rounds, tokens, secs, tokens / secs);
    std::vector<std::vector<int>> windows(64, std::vector<int>(m.context + 1));
    for (size_t w = 0; w < windows.size(); ++w)
      for (size_t j = 0; j < windows[w].size(); ++j) windows[w][j] = static_cast<int>((w * 7 + j * 13) % m.vocab_size());
    const auto t1 = clock::now();
    hw::reference::CrossEntropy(m, windows);
    const double s2 = std::chrono::duration<double>(clock::now() - t1).count();
    fmt::print("score ({} windows of {}): {:.0f} tokens/s\n", windows.size(), m.context, windows.size() * m.context / s2);
  } catch (const hw::Error& e) {
    for (const auto& msg : e.messages()) std::cerr << "error: " << msg << '\n';
    return 1;
  }
  return 0;
}
