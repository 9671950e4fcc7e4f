// Runs f(i) for i in [0, n) on `threads` threads (index i on thread i mod threads); results in index order, so
// the outcome does not depend on the thread count.
#pragma once

#include <algorithm>
#include <future>
#include <vector>

namespace hw::faults {

template <typename T, typename F>
std::vector<T> Parallel(int n, int threads, F f) {
  std::vector<T> out(n);
  threads = std::max(1, threads);
  if (threads == 1) {
    for (int i = 0; i < n; ++i) out[i] = f(i);
    return out;
  }
  std::vector<std::future<void>> workers;
  for (int t = 0; t < threads; ++t)
    workers.push_back(std::async(std::launch::async, [&, t] {
      for (int i = t; i < n; i += threads) out[i] = f(i);
    }));
  for (auto& w : workers) w.get();
  return out;
}

}  // namespace hw::faults
