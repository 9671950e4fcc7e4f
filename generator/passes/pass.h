// Passes over the datapath IR. A pass does one thing and reports whether it changed the module; the
// PassManager runs an ordered list of passes (plain data, see DefaultPipeline()), verifies the IR after
// every pass that changed it, and records the time each pass took.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/datapath.h"

namespace hw::passes {

class ModulePass {
 public:
  virtual ~ModulePass() = default;
  virtual std::string name() const = 0;
  // Returns true if the module changed.
  virtual bool Run(ir::Module& m) = 0;
  // Whether range/width fields must be consistent after this pass (for the verifier).
  virtual bool leaves_ranges_valid() const { return false; }
};

struct PassTiming {
  std::string pass;
  double seconds = 0;
  bool changed = false;
};

class PassManager {
 public:
  void Add(std::unique_ptr<ModulePass> p) { passes_.push_back(std::move(p)); }
  // Runs every pass in order on `m`. Throws hw::InternalError if the verifier rejects the result.
  // `dump_after`: pass name whose output is printed to stderr (debugging), or empty.
  bool Run(ir::Module& m, const std::string& dump_after = "");
  const std::vector<PassTiming>& timings() const { return timings_; }

 private:
  std::vector<std::unique_ptr<ModulePass>> passes_;
  std::vector<PassTiming> timings_;
};

}  // namespace hw::passes
