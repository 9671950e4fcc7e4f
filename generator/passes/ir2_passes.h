// Passes over IR v2 and their manager. A pass does one thing and reports whether it changed the graph. The
// pipeline is a list of pass names (registered below); an unknown name is a user error. The verifier runs on
// the input and after every pass, and a pass that claims "unchanged" is audited (its output must print the
// same as its input). Dumps go to numbered files, one per pass.
//
//   range-analysis         ranges of every result, from the op table's range rules (adds: linear forms, ir2_linear_form.h)
//   split-requant          under a clock target: a requant too slow for one stage becomes an add and a requant
//   schedule               levels and stages from the timing model (adders per stage K)
//   retime                 stateless graphs: the stages that carry the fewest flip-flop bits within K levels per stage
//                          and the same latency, exactly (min-cost flow; ir2_retime.h)
//   sink                   moves pure ops later where that carries fewer register bits (ir2_sink.h)
//   materialize-registers  reg nodes on every edge that crosses a stage boundary (shared delay lines), so that
//                          the emitter only prints
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir2/ir.h"
#include "ir2/timing.h"
#include "ir2/verify.h"

namespace hw::passes::ir2 {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string name() const = 0;
  virtual bool Run(hw::ir2::Graph& g) = 0;  // true if the graph changed
  // Whether the pass has anything to do on `g` at all; the manager skips it (no audit, no dump) when not.
  virtual bool Applies(const hw::ir2::Graph&) const { return true; }
  // The verifier level that holds after this pass.
  virtual hw::ir2::VerifyLevel level() const = 0;
};

struct PassOptions {
  int adders_per_stage = 1;  // K: the most adder levels between two registers
  double clock_ns = 0;       // > 0: schedule by a delay model for this clock period instead of K (ir2/timing.h)
  bool asic = false;         // with clock_ns: the generic asic model instead of the fpga one
  hw::ir2::AsicLibrary asic_library{};
  bool offset_binary = true;  // the offset-encode pass (ir2_offset_encode.h) runs; false: sums in plain two's complement
  hw::ir2::TimingModel Timing() const;
};

// The registered pass names, in the default order.
std::vector<std::string> DefaultPipeline();
std::vector<std::string> RegisteredPasses();
// Throws hw::Error (code E-IR-PASS) for an unknown name.
std::unique_ptr<Pass> MakePass(const std::string& name, const PassOptions& options);

struct PassRecord {
  std::string pass;
  bool changed = false;
  double seconds = 0;  // the pass itself (not the verifier and audit around it)
};

class PassManager {
 public:
  // `dump_dir`: if set, the input and each pass's output are written to NN-<pass>.ir there.
  // `dump_after`: pass names whose output is dumped (empty: all, when dump_dir is set).
  PassManager(std::vector<std::string> pipeline, PassOptions options, std::string dump_dir = "",
              std::vector<std::string> dump_after = {});
  // Runs the pipeline. Throws hw::Error if the input does not verify (a user error: the IR text is wrong) and
  // hw::InternalError if a pass produces an invalid graph or changes a graph it claims it did not change.
  void Run(hw::ir2::Graph& g);
  // Appends a pass object (for passes built outside the registry, e.g. in tests).
  void AddPass(std::unique_ptr<Pass> p) { passes_.push_back(std::move(p)); }
  const std::vector<PassRecord>& records() const { return records_; }

 private:
  std::vector<std::unique_ptr<Pass>> passes_;
  std::string dump_dir_;
  std::vector<std::string> dump_after_;
  std::vector<PassRecord> records_;
};

}  // namespace hw::passes::ir2
