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

#include <fmt/format.h>
#include <map>

#include "reference/lm_reference.h"

namespace hw::cosim {

LmCheck CheckLmAgainstReference(const hw::ir2::Graph& g, const model::LmModel& m, const std::vector<LmStreamPlan>& plans,
                                const Ir2CosimResult& rtl, std::optional<uint64_t> seed) {
  const auto outs = g.Outputs();
  const int o_token = Index(outs, g, "token"), o_valid = Index(outs, g, "token_valid"), o_stream = Index(outs, g, "stream"),
            o_pos = Index(outs, g, "position"), o_done = Index(outs, g, "done");
  std::vector<int> taps;
  std::vector<std::string> tap_names;
  for (size_t k = 0; k < outs.size(); ++k)
    if (g.nodes[outs[k]].symbol.rfind("tap_", 0) == 0) {
      taps.push_back(static_cast<int>(k));
      tap_names.push_back(g.nodes[outs[k]].symbol.substr(4));
    }
  std::vector<std::vector<int>> prompts;
  for (const auto& p : plans) prompts.push_back(p.prompt);
  const auto ref = reference::Generate(m, prompts, m.context + 1, seed);
  // Reference taps per stream and position.
  const std::vector<int> bounds = m.BlockBoundaries();
  std::vector<std::vector<std::vector<int64_t>>> ref_taps(plans.size());
  for (size_t s = 0; s < plans.size(); ++s) {
    reference::LmStream st(m);
    std::vector<int> fed = prompts[s];
    fed.insert(fed.end(), ref[s].generated.begin(), ref[s].generated.end());
    for (int pos = 0; pos < m.context && pos < static_cast<int>(fed.size()); ++pos) {
      st.Step(fed[pos]);
      std::vector<int64_t> sums;
      for (int v : bounds) {
        int64_t sum = 0;
        for (int64_t x : st.value(v)) sum += x;
        sums.push_back(sum);
      }
      ref_taps[s].push_back(sums);
    }
  }
  LmCheck c;
  c.generated.resize(plans.size());
  long first_all_live = -1, first_done = -1;
  std::vector<bool> seen(plans.size(), false);
  size_t n_seen = 0;
  for (size_t i = 0; i < rtl.outputs.size(); ++i) {
    const std::vector<int64_t>& y = rtl.outputs[i];
    if (!y[o_valid]) continue;
    ++c.active_tokens;
    const size_t s = static_cast<size_t>(y[o_stream]);
    const int pos = static_cast<int>(y[o_pos]);
    if (s >= plans.size()) continue;
    if (!seen[s]) {
      seen[s] = true;
      if (++n_seen == plans.size()) first_all_live = rtl.clocks[i];
    }
    if (y[o_done] && first_done < 0) first_done = rtl.clocks[i];
    const int n = static_cast<int>(prompts[s].size());
    std::string where;
    for (size_t k = 0; k < taps.size() && pos < static_cast<int>(ref_taps[s].size()); ++k)
      if (y[taps[k]] != ref_taps[s][pos][k]) {
        where = fmt::format("; first differing tap: {} (RTL sum {}, reference {})", tap_names[k], y[taps[k]], ref_taps[s][pos][k]);
        break;
      }
    if (pos + 1 < n) {  // prefill: only the taps are compared
      if (!where.empty() && c.mismatches.size() < 10) c.mismatches.push_back(fmt::format("stream {} position {} (prompt){}", s, pos, where.substr(2)));
      continue;
    }
    const int k = pos - (n - 1);
    const int want = k < static_cast<int>(ref[s].generated.size()) ? ref[s].generated[k] : -1;
    c.generated[s].push_back(static_cast<int>(y[o_token]));
    if (y[o_token] == want && where.empty()) {
      ++c.tokens_passed;
    } else {
      ++c.tokens_failed;
      if (c.mismatches.size() < 10)
        c.mismatches.push_back(fmt::format("stream {} position {}: token {} , reference {}{}", s, pos, y[o_token], want, where));
    }
  }
  for (size_t s = 0; s < plans.size(); ++s)
    if (c.generated[s].size() != ref[s].generated.size()) {
      c.tokens_failed += static_cast<long>(std::max(c.generated[s].size(), ref[s].generated.size()) - std::min(c.generated[s].size(), ref[s].generated.size()));
      if (c.mismatches.size() < 10)
        c.mismatches.push_back(fmt::format("stream {}: RTL generated {} tokens, reference {}", s, c.generated[s].size(), ref[s].generated.size()));
    }
  if (first_all_live >= 0 && first_done > first_all_live) {
    long count = 0;
    for (size_t i = 0; i < rtl.outputs.size(); ++i)
      if (rtl.outputs[i][o_valid] && rtl.clocks[i] >= first_all_live && rtl.clocks[i] < first_done) ++count;
    c.steady_clocks = first_done - first_all_live;
    c.tokens_per_clock = static_cast<double>(count) / static_cast<double>(c.steady_clocks);
  }
  return c;
}

}  // namespace hw::cosim
