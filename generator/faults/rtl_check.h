// The check that the fault model is true to the hardware: the same fault set is put into the generated RTL
// (a faulty weight by generating the faulty model; hardware faults by faults/rtl_inject.h in the IR v2 layer
// modules the interpreter ran), Verilator runs it on the evaluator's inputs, and every output must equal what
// the fault evaluation (interpreter or reference) predicted.
#pragma once

#include <string>

#include "driver/generate.h"
#include "faults/study.h"

namespace hw::faults {

struct RtlCheckResult {
  long passed = 0;            // vectors where the RTL equals the faulty prediction
  long failed = 0;
  long differ_from_clean = 0;  // vectors where the faulty prediction differs from the fault-free model
  double build_seconds = 0;
};

// `c` is the evaluator's model compiled with `options` (its graphs are the evaluator's design, its files the
// fault-free RTL). `work_dir` receives rtl/ and sim/ (replaced).
RtlCheckResult CheckInRtl(const Evaluator& ev, const FaultSet& f, const driver::CompiledDesign& c,
                          const driver::GenerateOptions& options, const std::string& work_dir);

}  // namespace hw::faults
