// Verilator harness for IR v2 designs (generator/cosim/ir2_cosim.h). The per-design port accessors come from
// ir2_ports.h, generated next to the build. Arguments: STIMULUS EXPECTED LATENCY [STALL_SEED [DUMP]]
//   DUMP: every output with out_valid is written there as "clock y0 y1 ..." (clock = enabled clocks so far)
//   STIMULUS: one line per token slot: "valid x0 x1 ..." (a slot with valid 0 is a bubble)
//   EXPECTED: one line per valid token, in order: "y0 y1 ..."
// Each slot is one enabled clock (ce = 1); with a stall seed, random clocks with ce = 0 are inserted between
// slots. Every output with out_valid is compared, in order, with the next expected line, and must appear
// exactly LATENCY enabled clocks after its token entered. Prints "N passed, M failed"; exit 1 on any failure.
#include <verilated.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ir2_ports.h"

namespace {
std::vector<std::vector<int64_t>> ReadLines(const char* path) {
  std::ifstream f(path);
  std::vector<std::vector<int64_t>> rows;
  for (std::string line; std::getline(f, line);) {
    std::istringstream s(line);
    std::vector<int64_t> v;
    for (long long x; s >> x;) v.push_back(x);
    if (!v.empty()) rows.push_back(v);
  }
  return rows;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s STIMULUS EXPECTED LATENCY [STALL_SEED]\n", argv[0]);
    return 2;
  }
  const auto stim = ReadLines(argv[1]);
  const auto expected = ReadLines(argv[2]);
  const long latency = std::stol(argv[3]);
  const long stall_seed = argc > 4 ? std::stol(argv[4]) : -1;
  std::FILE* dump = argc > 5 ? std::fopen(argv[5], "w") : nullptr;
  const auto t0 = std::chrono::steady_clock::now();
  std::mt19937_64 rng(stall_seed >= 0 ? static_cast<uint64_t>(stall_seed) : 0);
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<Model>(ctx.get());
  auto tick = [&]() {
    m->clk = 0;
    m->eval();
    m->clk = 1;
    m->eval();
  };
  m->rst = 1;
  m->ce = 1;
  m->in_valid = 0;
  tick();
  tick();
  m->rst = 0;
  long enabled = 0, passed = 0, failed = 0, reported = 0, stalls = 0;
  size_t next_expected = 0;
  std::deque<long> entered;  // enabled-clock index of each valid token
  std::vector<int64_t> y(kOutputs), zeros(kInputs, 0);
  const size_t total = stim.size() + static_cast<size_t>(latency);
  for (size_t slot = 0; slot < total; ++slot) {
    while (stall_seed >= 0 && rng() % 4 == 0) {  // about one stalled clock per three enabled ones
      m->ce = 0;
      m->in_valid = rng() & 1;  // ignored while ce is low
      tick();
      ++stalls;
    }
    m->ce = 1;
    const bool have = slot < stim.size();
    const bool valid = have && stim[slot][0] != 0;
    m->in_valid = valid;
    SetInputs(m.get(), have && stim[slot].size() > 1 ? stim[slot].data() + 1 : zeros.data());
    if (valid) entered.push_back(enabled);
    tick();
    ++enabled;
    if (m->out_valid) {
      GetOutputs(m.get(), y.data());
      if (dump) {
        std::fprintf(dump, "%ld", enabled);
        for (int64_t v : y) std::fprintf(dump, " %lld", static_cast<long long>(v));
        std::fprintf(dump, "\n");
      }
      bool ok = next_expected < expected.size() && expected[next_expected] == y;
      const long when = entered.empty() ? -1 : entered.front();
      if (!entered.empty()) entered.pop_front();
      if (when < 0 || enabled - when != latency) ok = false;  // token entered at clock `when`, leaves `latency` later
      if (ok) {
        ++passed;
      } else {
        ++failed;
        if (reported++ < 10) {
          std::printf("mismatch at output %zu (token entered at enabled clock %ld, out at %ld): RTL", next_expected, when, enabled);
          for (int64_t v : y) std::printf(" %lld", static_cast<long long>(v));
          std::printf(", expected");
          if (next_expected < expected.size())
            for (int64_t v : expected[next_expected]) std::printf(" %lld", static_cast<long long>(v));
          std::printf("\n");
        }
      }
      ++next_expected;
    }
  }
  if (next_expected != expected.size()) {
    std::printf("RTL produced %zu outputs, expected %zu\n", next_expected, expected.size());
    failed += static_cast<long>(expected.size() > next_expected ? expected.size() - next_expected : 1);
  }
  if (dump) std::fclose(dump);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("simulated %ld clocks in %.3f s\n", enabled + stalls, secs);
  std::printf("%ld passed, %ld failed (%ld enabled clocks, %ld stalled)\n", passed, failed, enabled, stalls);
  m->final();
  return failed ? 1 : 0;
}
