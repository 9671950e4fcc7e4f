#include "passes/pass.h"

#include <chrono>
#include <iostream>

#include "common/diag.h"

namespace hw::passes {

bool PassManager::Run(ir::Module& m, const std::string& dump_after) {
  bool any = false;
  bool ranges_valid = false;
  for (const auto& p : passes_) {
    const auto t0 = std::chrono::steady_clock::now();
    const bool changed = p->Run(m);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    timings_.push_back({p->name(), dt, changed});
    if (p->leaves_ranges_valid()) ranges_valid = true;
    else if (changed) ranges_valid = false;
    if (changed) {
      any = true;
      const std::string err = ir::Verify(m, ranges_valid);
      HW_CHECK(err.empty(), "after pass " + p->name() + ": " + err);
    }
    if (p->name() == dump_after) std::cerr << ir::Dump(m);
  }
  return any;
}

}  // namespace hw::passes
