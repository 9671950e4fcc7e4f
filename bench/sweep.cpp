// Random-model sweep for long runs (docs/hardening.md):
//   build/bench/sweep --models N [--seed S] [--first I] [--vectors V] [--keep] [--work DIR] [--clock-ns T]
// co-simulates models I .. I+N-1 of the sweep (tests/sweep/sweep_run.h) against the reference, prints one line
// per model and a summary, and exits 1 if any model mismatches or fails to build.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "../tests/sweep/sweep_run.h"
#include "common/diag.h"

int main(int argc, char** argv) {
  int models = 200, first = 0;
  uint64_t seed = 1000;
  long vectors = 400;
  bool keep = false;
  double clock_ns = 0;  // > 0: schedule by this clock target instead of K
  std::string work = "sweep-work";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--models") models = std::atoi(next());
    else if (a == "--seed") seed = std::strtoull(next(), nullptr, 10);
    else if (a == "--first") first = std::atoi(next());
    else if (a == "--vectors") vectors = std::atol(next());
    else if (a == "--work") work = next();
    else if (a == "--keep") keep = true;
    else if (a == "--clock-ns") clock_ns = std::atof(next());
    else {
      std::fprintf(stderr, "usage: sweep --models N [--seed S] [--first I] [--vectors V] [--keep] [--work DIR] [--clock-ns T]\n");
      return 2;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  int bad = 0;
  long vectors_total = 0;
  for (int i = first; i < first + models; ++i) {
    try {
      const hw::sweep::SweepResult r = hw::sweep::RunSweepModel(i, seed, work, vectors, keep, clock_ns);
      vectors_total += r.passed;
      std::printf("%4d %-12s in=%-5d layers=%d  %s  pass=%ld fail=%ld  gen %.1fs build %.1fs total %.1fs  [%s]\n", i,
                  r.name.c_str(), r.input_length, r.layers, r.ok() ? "OK  " : "FAIL", r.passed, r.failed,
                  r.generate_seconds, r.build_seconds, r.total_seconds, r.category.c_str());
      if (!r.ok()) {
        ++bad;
        std::printf("%s\n", r.log.c_str());
      }
    } catch (const hw::Error& e) {
      ++bad;
      std::printf("%4d ERROR %s\n", i, e.what());
    } catch (const std::exception& e) {
      ++bad;
      std::printf("%4d EXCEPTION %s\n", i, e.what());
    }
    std::fflush(stdout);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("sweep: %d models (seed %llu, first %d), %ld vectors, %d failed, %.0f s\n", models,
              static_cast<unsigned long long>(seed), first, vectors_total, bad, secs);
  return bad == 0 ? 0 : 1;
}
