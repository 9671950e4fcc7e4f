#include "faults/rtl_check.h"

#include <filesystem>

#include "cosim/cosim.h"
#include "emit/verilog.h"
#include "faults/rtl_inject.h"

namespace hw::faults {

RtlCheckResult CheckInRtl(const Evaluator& ev, const FaultSet& f, const driver::GenerateOptions& options,
                          const std::string& work_dir) {
  const reference::Batch expected = ev.Outputs(f);  // also rejects a set mixing weight and hardware faults
  std::vector<emit::EmittedFile> files;
  if (!f.weights.empty()) {
    files = driver::CompileIrV1(ApplyWeightFaults(ev.model(), f.weights), options).files;
  } else {
    files = emit::EmitDesign(ev.design(), options.template_dir.empty() ? driver::DefaultTemplateDir() : options.template_dir);
    InjectIntoRtl(files, ev.design(), f.hw);
  }
  const std::string rtl = (std::filesystem::path(work_dir) / "rtl").string();
  driver::WriteOutputDir(files, rtl);
  cosim::BuildOptions bo;
  bo.rtl_dir = rtl;
  bo.build_dir = (std::filesystem::path(work_dir) / "sim").string();
  bo.jobs = 1;
  const cosim::BuildResult b = cosim::BuildSimulator(bo);
  cosim::RunOptions ro;
  ro.echo = false;
  const cosim::RunResult r = cosim::RunSimulation(b, rtl, ev.inputs(), expected, ro);
  RtlCheckResult out;
  out.passed = r.passed;
  out.failed = r.failed;
  out.build_seconds = b.seconds;
  const reference::Batch& clean = ev.fault_free();
  for (long i = 0; i < expected.rows(); ++i) out.differ_from_clean += expected.row(i) != clean.row(i) ? 1 : 0;
  return out;
}

}  // namespace hw::faults
