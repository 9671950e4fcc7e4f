#include "cosim/lm_cosim.h"

#include <random>

#include "common/diag.h"
#include "ir2/interpreter.h"

namespace hw::cosim {

namespace {
int Index(const std::vector<int>& nodes, const hw::ir2::Graph& g, const std::string& name) {
  for (size_t k = 0; k < nodes.size(); ++k)
    if (g.nodes[nodes[k]].symbol == name) return static_cast<int>(k);
  HW_CHECK(false, "lowered LM has no port " + name);
  return -1;
}
}  // namespace

LmSchedule MakeLmSchedule(const hw::ir2::Graph& g, const model::LmModel& m, const std::vector<LmStreamPlan>& plans, uint32_t seed,
                          bool greedy, int bubble_percent, uint64_t bubble_seed) {
  const int S = g.streams;
  HW_CHECK(static_cast<int>(plans.size()) <= S, "more stream plans than stream slots");
  const auto in = g.Inputs();
  const int i_valid = Index(in, g, "prompt_valid"), i_first = Index(in, g, "prompt_first"), i_token = Index(in, g, "prompt_token"),
            i_seed = Index(in, g, "seed"), i_greedy = Index(in, g, "greedy");
  std::mt19937_64 rng(bubble_seed);
  std::vector<int> turns(plans.size(), 0);
  LmSchedule out;
  for (int round = 0;; ++round) {
    bool pending = false;
    for (size_t s = 0; s < plans.size(); ++s) pending |= turns[s] < m.context;
    if (!pending) break;
    for (int s = 0; s < S; ++s) {
      Ir2Token t;
      t.inputs.assign(in.size(), 0);
      t.inputs[i_seed] = seed;
      t.inputs[i_greedy] = greedy;
      t.valid = !(bubble_percent > 0 && static_cast<int>(rng() % 100) < bubble_percent);
      if (t.valid && s < static_cast<int>(plans.size()) && round >= plans[s].start_round && turns[s] < m.context) {
        const int k = turns[s]++;
        if (k < static_cast<int>(plans[s].prompt.size())) {
          t.inputs[i_valid] = 1;
          t.inputs[i_first] = k == 0;
          t.inputs[i_token] = plans[s].prompt[k];
        }
      }
      out.slots.push_back(std::move(t));
    }
    out.rounds = round + 1;
  }
  return out;
}

LmRun RunLmInterpreter(const hw::ir2::Graph& g, const std::vector<LmStreamPlan>& plans, const LmSchedule& schedule) {
  const auto outs = g.Outputs();
  const int o_token = Index(outs, g, "token"), o_valid = Index(outs, g, "token_valid"), o_stream = Index(outs, g, "stream"),
            o_pos = Index(outs, g, "position");
  LmRun r;
  r.generated.resize(plans.size());
  r.taps.resize(plans.size());
  std::vector<int> taps;
  for (size_t k = 0; k < outs.size(); ++k)
    if (g.nodes[outs[k]].symbol.rfind("tap_", 0) == 0) {
      taps.push_back(static_cast<int>(k));
      r.tap_names.push_back(g.nodes[outs[k]].symbol.substr(4));
    }
  hw::ir2::Interpreter in(g);
  for (const Ir2Token& t : schedule.slots) {
    const std::vector<int64_t> y = in.Step(t.inputs, t.valid);
    if (!t.valid || !y[o_valid]) continue;
    ++r.active_tokens;
    const size_t s = static_cast<size_t>(y[o_stream]);
    if (s >= plans.size()) continue;
    const int pos = static_cast<int>(y[o_pos]);
    if (pos + 1 >= static_cast<int>(plans[s].prompt.size())) r.generated[s].push_back(static_cast<int>(y[o_token]));
    if (static_cast<int>(r.taps[s].size()) <= pos) r.taps[s].resize(pos + 1);
    for (int k : taps) r.taps[s][pos].push_back(y[k]);
  }
  return r;
}

}  // namespace hw::cosim
