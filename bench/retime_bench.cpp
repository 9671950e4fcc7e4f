// Pipeline flip-flops placed by the retime pass (issue 13), measured in one run on the same designs:
//   - the Fashion model (weights/fashion_mlp) and a jet-tagger-shaped int8 MLP 16-64-32-32-5 with per-channel
//     31-bit requant multipliers (built here with a fixed seed), at K = 1, 2, 3 adder levels per stage:
//     flip-flop bits of the placement without retime (a rank every K levels, delay lines shortened by sink) and
//     with it, and the latency of each (IR v1's placement, which the figures were measured on, equalled
//     the first to within 0.1 %: docs/performance.md);
//   - at K = 1, the part of those bits that delay lines carry beyond each value's first register (the only part
//     a placement can save there: every op's result is registered once);
//   - the retime pass's own time on those models and on one 128 x 784 int8 layer (targets: 2 s and 30 s);
//   - the same models with `--registers min` (passes/register_choice.h: each layer's graph picked by its flip-flop
//     bits among the graph as chosen, the min-depth CMVM and the transposed min-depth CMVM), with adders and adder
//     bits (as `hardwire generate` reports them) next to the default's.
//
//   build/bench/retime_bench [--large]      (--large: the 128 x 784 layer instead)
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <random>

#include "driver/generate.h"
#include "model/model_io.h"
#include "passes/ir2_passes.h"
#include "passes/lower_layer_ir2.h"
#include "passes/ir2_sink.h"
#include "passes/register_choice.h"
#include "report/stats.h"

using namespace hw;

namespace {

model::DenseLayer RandomInt8Layer(int in, int out, std::mt19937_64& rng, bool last, int index) {
  model::DenseLayer d;
  d.in = in, d.out = out;
  d.weight_bits = 8;
  d.weight = arith::IntMatrix{out, in, std::vector<int64_t>(static_cast<size_t>(in) * out)};
  for (int64_t& w : d.weight.w) w = static_cast<int64_t>(rng() % 256) - 128;
  d.has_bias = true;
  for (int o = 0; o < out; ++o) {
    d.bias.push_back(static_cast<int64_t>(rng() % 4000) - 2000);
    d.multiplier.push_back((int64_t{1} << 30) + static_cast<int64_t>(rng() % (int64_t{1} << 30)));  // 31 bits
    d.shift.push_back(40);
  }
  d.output = model::IntType{true, 8};
  d.clamp_lo = last ? -128 : 0;
  d.clamp_hi = 127;
  d.weight_tensor = fmt::format("fc{}.weight", index);
  d.bias_tensor = fmt::format("fc{}.bias", index);
  d.multiplier_tensor = fmt::format("fc{}.m", index);
  d.shift_tensor = fmt::format("fc{}.s", index);
  return d;
}

model::Model Mlp(const std::string& name, const std::vector<int>& sizes, bool argmax) {
  std::mt19937_64 rng(2026);
  model::Model m;
  m.name = name;
  m.input_length = sizes[0];
  m.input = model::IntType{true, 8};
  for (size_t i = 0; i + 1 < sizes.size(); ++i)
    m.layers.push_back({fmt::format("fc{}", i + 1), RandomInt8Layer(sizes[i], sizes[i + 1], rng, i + 2 == sizes.size(), static_cast<int>(i + 1))});
  if (argmax) m.layers.push_back({"cls", model::ArgmaxLayer{}});
  return m;
}

// Flip-flop bits and latency of the whole design with or without the retime pass; and the seconds the retime pass
// took over all layers.
struct Figures {
  long ff_bits = 0;
  long delay_line_bits = 0;  // bits of registers beyond a value's first one (a reg reading a reg or an input port)
  int latency = 0;
  double retime_seconds = 0;
  long adders = 0, adder_bits = 0;
};

Figures Measure(const model::Model& m, int k, bool retime, bool fewest_registers = false) {
  Figures f;
  std::vector<std::string> pipeline = passes::ir2::DefaultPipeline();
  if (!retime) pipeline.erase(std::find(pipeline.begin(), pipeline.end(), "retime"));
  f.latency = 1;
  f.ff_bits = static_cast<long>(m.input_length) * m.input.bits;  // the top's input register
  std::vector<hw::ir2::Graph> graphs;
  for (int i = 0; i < static_cast<int>(m.layers.size()); ++i) {
    passes::ArithChoice choice;
    choice.fewest_registers = fewest_registers;
    hw::ir2::Graph g = passes::LowerLayerToIr2(m, i, passes::ChooseForRegisters(m, i, choice, {k}));
    passes::ir2::PassManager pm(pipeline, {k});
    pm.Run(g);
    for (const auto& r : pm.records())
      if (r.pass == "retime") f.retime_seconds += r.seconds;
    for (const hw::ir2::Node& n : g.nodes)
      if (n.op == hw::ir2::Op::kReg) {
        const int w = hw::ir2::TypeOf(n.range[0]).width;
        f.ff_bits += w;
        const hw::ir2::Op from = g.nodes[n.operands[0].node].op;
        if (from == hw::ir2::Op::kReg || from == hw::ir2::Op::kInput) f.delay_line_bits += w;
      }
    f.latency += g.latency;
    graphs.push_back(std::move(g));
  }
  const report::DesignStats st = report::ComputeStats(m, graphs);
  f.adders = st.total.adders;
  f.adder_bits = st.total.adder_bits;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const bool large = argc > 1 && !std::strcmp(argv[1], "--large");
  try {
    std::vector<std::pair<std::string, model::Model>> models;
    models.push_back({"fashion_mlp", model::LoadModel(std::string(HW_SOURCE_DIR) + "/weights/fashion_mlp/model.json")});
    models.push_back({"jet 16-64-32-32-5 int8, M 31 bits", Mlp("jet_mlp", {16, 64, 32, 32, 5}, true)});
    std::cout << fmt::format("{:<34} {:>2} | {:>16} | {:>16} | {:>9} | {:>10} | {:>16} | {:>14} | {:>14}\n", "model", "K",
                             "no retime FF (lat)", "retime", "change", "retime s", "--registers min", "adders", "adder bits");
    for (const auto& [label, m] : models)
      for (int k = 1; k <= 3 && !large; ++k) {
        const Figures b = Measure(m, k, false), c = Measure(m, k, true), r = Measure(m, k, true, true);
        std::cout << fmt::format("{:<34} {:>2} | {:>9} ({:>4}) | {:>9} ({:>4}) | {:>8.1f}% | {:>10.3f} | {:>9} ({:>4}) | {:>6} -> {:>5} | {:>6} -> {:>5}\n",
                                 label, k, b.ff_bits, b.latency, c.ff_bits, c.latency, 100.0 * (c.ff_bits - b.ff_bits) / b.ff_bits,
                                 c.retime_seconds, r.ff_bits, r.latency, c.adders, r.adders, c.adder_bits, r.adder_bits);
        // At K = 1 every op's result is registered once anyway: only the delay lines beyond that can shrink.
        if (k == 1)
          std::cout << fmt::format("{:<34} {:>2} | delay lines beyond each value's first register: {} -> {} bits ({:.1f}%)\n", "", "",
                                   b.delay_line_bits, c.delay_line_bits, 100.0 * (c.delay_line_bits - b.delay_line_bits) / b.delay_line_bits);
      }
    if (large) {
      const model::Model m = Mlp("wide", {784, 128}, false);
      for (int k = 1; k <= 3; k += 2) {
        const auto t0 = std::chrono::steady_clock::now();
        const Figures b = Measure(m, k, false), c = Measure(m, k, true);
        std::cout << fmt::format("128 x 784 int8 layer, K = {}: FF bits {} -> {} ({:.1f}%), latency {} -> {}, retime {:.2f} s (all {:.1f} s)\n", k,
                                 b.ff_bits, c.ff_bits, 100.0 * (c.ff_bits - b.ff_bits) / b.ff_bits, b.latency, c.latency, c.retime_seconds,
                                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "retime_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
