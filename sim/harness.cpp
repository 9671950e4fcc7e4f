// hardwire co-simulation harness (Verilator 5). Built by `hardwire sim` together with the generated RTL
// (verilator --prefix Vtop). It streams input vectors one per clock with no bubbles (optionally with random
// clock-enable stalls) and compares every output with the expected vectors bit for bit. The port geometry
// comes from the design's interface.json, which `hardwire sim` reads and passes on the command line (keeping
// this file free of a JSON parser keeps its per-design compile short).
//
//   vsim --in E,BITS,SIGNED --out E,BITS,SIGNED --latency L --inputs in.txt --expected exp.txt
//        [--outputs got.txt] [--fst wave.fst] [--stall-seed S] [--max-report N]
//
// Text files: one vector per line, integers separated by spaces. Prints the first mismatches
// (vector index, output element, expected, got) and ends with "N passed, M failed"; exits 1 on any failure.
#include <verilated.h>
#if VM_TRACE
#include <verilated_fst_c.h>
#endif

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "Vtop.h"

namespace {

struct Port {
  int elements = 0;
  int bits = 0;
  bool is_signed = false;
};

std::vector<std::vector<int64_t>> ReadVectors(const std::string& path, int elements) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "vsim: cannot open %s\n", path.c_str());
    std::exit(2);
  }
  std::vector<std::vector<int64_t>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream ss(line);
    std::vector<int64_t> v;
    v.reserve(elements);
    int64_t x;
    while (ss >> x) v.push_back(x);
    if (static_cast<int>(v.size()) != elements) {
      std::fprintf(stderr, "vsim: %s line %zu has %zu values, expected %d\n", path.c_str(), out.size() + 1, v.size(), elements);
      std::exit(2);
    }
    out.push_back(std::move(v));
  }
  return out;
}

// Packs elements into 32-bit words, element i at bits [i*bits, (i+1)*bits).
void Pack(const std::vector<int64_t>& v, const Port& p, std::vector<uint32_t>& words) {
  std::fill(words.begin(), words.end(), 0);
  const uint64_t mask = p.bits >= 64 ? ~0ull : ((1ull << p.bits) - 1);
  for (int i = 0; i < p.elements; ++i) {
    const uint64_t u = static_cast<uint64_t>(v[i]) & mask;
    for (int b = 0; b < p.bits; ++b)
      if ((u >> b) & 1) {
        const long bit = static_cast<long>(i) * p.bits + b;
        words[bit / 32] |= 1u << (bit % 32);
      }
  }
}

int64_t Extract(const std::vector<uint32_t>& words, const Port& p, int i) {
  uint64_t u = 0;
  for (int b = 0; b < p.bits; ++b) {
    const long bit = static_cast<long>(i) * p.bits + b;
    if ((words[bit / 32] >> (bit % 32)) & 1) u |= 1ull << b;
  }
  if (p.is_signed && p.bits < 64 && ((u >> (p.bits - 1)) & 1)) u |= ~0ull << p.bits;
  return static_cast<int64_t>(u);
}

// Verilator maps ports to uint8/16/32/64 up to 64 bits and to VlWide<N> (32-bit words) above.
template <typename T>
void Store(T& port, const std::vector<uint32_t>& w) {
  if constexpr (std::is_integral_v<T>) {
    uint64_t u = w[0];
    if (w.size() > 1) u |= static_cast<uint64_t>(w[1]) << 32;
    port = static_cast<T>(u);
  } else {
    for (size_t i = 0; i < w.size(); ++i) port[i] = w[i];
  }
}
template <typename T>
void Load(const T& port, std::vector<uint32_t>& w) {
  if constexpr (std::is_integral_v<T>) {
    const uint64_t u = port;
    w[0] = static_cast<uint32_t>(u);
    if (w.size() > 1) w[1] = static_cast<uint32_t>(u >> 32);
  } else {
    for (size_t i = 0; i < w.size(); ++i) w[i] = port[i];
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string in_spec, out_spec;
  int latency = 0;
  std::string inputs_path, expected_path, outputs_path, fst_path;
  long stall_seed = -1;
  int max_report = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vsim: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--in") in_spec = next();
    else if (a == "--out") out_spec = next();
    else if (a == "--latency") latency = std::stoi(next());
    else if (a == "--inputs") inputs_path = next();
    else if (a == "--expected") expected_path = next();
    else if (a == "--outputs") outputs_path = next();
    else if (a == "--fst") fst_path = next();
    else if (a == "--stall-seed") stall_seed = std::stol(next());
    else if (a == "--max-report") max_report = std::stoi(next());
    else if (a.rfind("+verilator", 0) == 0) continue;
    else {
      std::fprintf(stderr, "vsim: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  auto parse_port = [](const std::string& spec) {
    Port p;
    int sg = 0;
    if (std::sscanf(spec.c_str(), "%d,%d,%d", &p.elements, &p.bits, &sg) != 3 || p.elements < 1 || p.bits < 1) {
      std::fprintf(stderr, "vsim: bad port spec '%s' (expected ELEMENTS,BITS,SIGNED)\n", spec.c_str());
      std::exit(2);
    }
    p.is_signed = sg != 0;
    return p;
  };
  const Port in_port = parse_port(in_spec);
  const Port out_port = parse_port(out_spec);
  if (latency < 1) {
    std::fprintf(stderr, "vsim: --latency must be >= 1\n");
    return 2;
  }
  const auto inputs = ReadVectors(inputs_path, in_port.elements);
  const auto expected = ReadVectors(expected_path, out_port.elements);
  if (inputs.size() != expected.size()) {
    std::fprintf(stderr, "vsim: %zu input vectors but %zu expected vectors\n", inputs.size(), expected.size());
    return 2;
  }

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vtop>(ctx.get());
#if VM_TRACE
  std::unique_ptr<VerilatedFstC> tfp;
  if (!fst_path.empty()) {
    ctx->traceEverOn(true);
    tfp = std::make_unique<VerilatedFstC>();
    top->trace(tfp.get(), 99);
    tfp->open(fst_path.c_str());
  }
#else
  if (!fst_path.empty()) {
    std::fprintf(stderr, "vsim: built without tracing; rebuild with --fst\n");
    return 2;
  }
#endif
  uint64_t time = 0;
  auto tick = [&]() {
    top->clk = 0;
    top->eval();
#if VM_TRACE
    if (tfp) tfp->dump(time);
#endif
    time += 5;
    top->clk = 1;
    top->eval();
#if VM_TRACE
    if (tfp) tfp->dump(time);
#endif
    time += 5;
  };

  std::vector<uint32_t> in_words((static_cast<long>(in_port.elements) * in_port.bits + 31) / 32);
  std::vector<uint32_t> out_words((static_cast<long>(out_port.elements) * out_port.bits + 31) / 32);
  std::vector<std::vector<uint32_t>> packed(inputs.size(), in_words);
  for (size_t k = 0; k < inputs.size(); ++k) Pack(inputs[k], in_port, packed[k]);
  std::vector<uint32_t> zeros(in_words.size(), 0);

  top->rst = 1;
  top->ce = 1;
  top->in_valid = 0;
  Store(top->in_data, zeros);
  for (int i = 0; i < 3; ++i) tick();
  top->rst = 0;

  std::mt19937_64 rng(stall_seed >= 0 ? static_cast<uint64_t>(stall_seed) : 0);
  std::ofstream outs;
  if (!outputs_path.empty()) outs.open(outputs_path);
  long passed = 0, failed = 0, reported = 0;
  size_t next_in = 0, next_out = 0;
  long enabled_edges = 0;
  std::vector<long> issued_at(inputs.size(), -1);
  const auto t0 = std::chrono::steady_clock::now();
  const long limit = static_cast<long>(inputs.size()) * (stall_seed >= 0 ? 8 : 1) + latency + 100;
  for (long cycle = 0; next_out < expected.size() && cycle < limit; ++cycle) {
    const bool ce = stall_seed < 0 || (rng() % 4) != 0;
    top->ce = ce;
    const bool have = next_in < inputs.size();
    top->in_valid = have;
    Store(top->in_data, have ? packed[next_in] : zeros);
    tick();
    if (!ce) continue;
    ++enabled_edges;
    if (have) issued_at[next_in++] = enabled_edges;
    if (top->out_valid) {
      Load(top->out_data, out_words);
      const size_t k = next_out++;
      bool ok = enabled_edges - issued_at[k] == latency - 1;
      if (!ok && reported < max_report) {
        std::printf("vector %zu: output after %ld clocks, interface.json says latency %d\n", k,
                    enabled_edges - issued_at[k] + 1, latency);
        ++reported;
      }
      std::string line;
      for (int e = 0; e < out_port.elements; ++e) {
        const int64_t got = Extract(out_words, out_port, e);
        if (outs) line += (e ? " " : "") + std::to_string(got);
        if (got != expected[k][e]) {
          ok = false;
          if (reported < max_report) {
            std::printf("mismatch: vector %zu output %d expected %lld got %lld\n", k, e,
                        static_cast<long long>(expected[k][e]), static_cast<long long>(got));
            ++reported;
          }
        }
      }
      if (outs) outs << line << '\n';
      ok ? ++passed : ++failed;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  failed += static_cast<long>(expected.size() - next_out);  // vectors that never came out
  top->final();
#if VM_TRACE
  if (tfp) tfp->close();
#endif
  std::printf("simulated %zu vectors in %.3f s (%.0f vectors/s), latency %d clocks\n", inputs.size(), secs,
              secs > 0 ? inputs.size() / secs : 0.0, latency);
  std::printf("%ld passed, %ld failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
