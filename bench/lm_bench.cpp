// The language model in RTL, end to end in one run (issue 11's figures):
//   build/bench/lm_bench [MODEL.json] [--adders-per-stage K] [--work DIR]
// lowers the model to IR v2, emits the Verilog, builds it with Verilator, runs S streams (prompts: one token
// each, spread over the vocabulary) sampled until every context is full, compares every token with the C++
// reference, and prints: generate time, Verilator build time, simulated tokens/s, steady-state tokens per clock,
// L, S, adders, multipliers, table entries, pipeline flip-flops and per-stream state bits.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>

#include "common/diag.h"
#include "cosim/lm_cosim.h"
#include "emit/ir2_verilog.h"
#include "ir2/op_table.h"
#include "model/lm_model_io.h"
#include "passes/lower_lm.h"
#include "report/lm_report.h"

int main(int argc, char** argv) {
  std::string path = std::string(HW_SOURCE_DIR) + "/weights/tiny_lm/model.json", work = "out/lm_bench";
  int k = 4;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--adders-per-stage") && i + 1 < argc) k = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--work") && i + 1 < argc) work = argv[++i];
    else path = argv[i];
  }
  try {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const hw::model::LmModel m = hw::model::LoadLmModel(path);
    hw::passes::lm::LmLowerOptions o;
    o.adders_per_stage = k;
    const hw::ir2::Graph g = hw::passes::lm::LowerLmModel(m, o);
    const std::string verilog = hw::emit::EmitIr2Verilog(g);
    const double gen = std::chrono::duration<double>(clock::now() - t0).count();
    long counts[64] = {0}, ff = 0, lut_entries = 0, state_bits = 0;
    for (const auto& n : g.nodes) {
      ++counts[static_cast<int>(n.op)];
      if (n.op == hw::ir2::Op::kReg) ff += hw::ir2::TypeOf(n.range[0]).width;
      if (n.op == hw::ir2::Op::kLut) lut_entries += static_cast<long>(n.table.size());
    }
    for (const auto& s : g.states) state_bits += static_cast<long>(s.type.width) * s.lanes * g.streams;
    const hw::report::LmReport rep = hw::report::BuildLmReport(g, m, k, 200);
    std::vector<hw::cosim::LmStreamPlan> plans;
    for (int s = 0; s < g.streams; ++s) plans.push_back({{s % m.vocab_size()}, 0});
    const hw::cosim::LmSchedule sched = hw::cosim::MakeLmSchedule(g, m, plans, 1, false, 0, 1);
    const hw::cosim::Ir2CosimResult res = hw::cosim::CosimIr2(g, sched.slots, work, -1, true);
    const hw::cosim::LmCheck c = hw::cosim::CheckLmAgainstReference(g, m, plans, res, 1);
    fmt::print("model {}: {} matrix weights, context {}, vocabulary {}; K = {}\n", m.name, m.MatrixWeights(), m.context, m.vocab_size(), k);
    fmt::print("generate (lower + emit): {:.2f} s (target <= 60), {:.1f} MB of Verilog\n", gen, verilog.size() / 1e6);
    fmt::print("verilator build: {:.1f} s (target <= 600)\n", res.build_seconds);
    fmt::print("tokens: {} passed, {} failed against the C++ reference; interpreter vs RTL outputs: {} passed, {} failed\n", c.tokens_passed,
               c.tokens_failed, res.passed, res.failed);
    fmt::print("simulated: {} tokens in {:.2f} s = {:.0f} tokens/s (target >= 2000)\n", c.active_tokens, res.sim_seconds,
               c.active_tokens / std::max(res.sim_seconds, 1e-9));
    fmt::print("steady state: {:.4f} tokens per clock over {} clocks; L = {} clocks, S = {} streams\n", c.tokens_per_clock, c.steady_clocks,
               g.latency, g.streams);
    fmt::print("adders {}, multipliers {}, tables {} ({} entries), pipeline flip-flops {}, per-stream state {} bits ({} per stream)\n",
               counts[static_cast<int>(hw::ir2::Op::kAdd)], counts[static_cast<int>(hw::ir2::Op::kMul)],
               counts[static_cast<int>(hw::ir2::Op::kLut)], lut_entries, ff, state_bits, state_bits / g.streams);
    fmt::print("memory: K/V cache {} bits ({} per stream) in {} memories of {} words; other per-stream state {} bits per stream\n",
               rep.kv_bits_per_stream * g.streams, rep.kv_bits_per_stream,
               std::count_if(g.states.begin(), g.states.end(), [](const auto& s) { return s.lanes > 1; }), g.streams,
               rep.other_state_bits_per_stream);
    return c.tokens_failed == 0 && res.failed == 0 ? 0 : 1;
  } catch (const hw::Error& e) {
    for (const auto& msg : e.messages()) std::cerr << "error: " << msg << '\n';
    return 1;
  }
}
