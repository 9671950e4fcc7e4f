#include "faults/rtl_check.h"

#include <filesystem>

#include "common/diag.h"
#include "cosim/cosim.h"
#include "faults/rtl_inject.h"

namespace hw::faults {

RtlCheckResult CheckInRtl(const Evaluator& ev, const FaultSet& f, const driver::CompiledDesign& c,
                          const driver::GenerateOptions& options, const std::string& work_dir) {
  HW_CHECK(&c.graphs == &ev.design(), "the evaluator must run the compiled design's graphs");
  const reference::Batch expected = ev.Outputs(f);  // also rejects a set mixing weight and hardware faults
  auto files = c.files;
  if (!f.weights.empty()) {
    files = driver::Compile(ApplyWeightFaults(ev.model(), f.weights), options).files;
  } else {
    for (size_t li = 0; li < c.graphs.size(); ++li) {
      const std::string name = c.graphs[li].name + ".v";
      bool found = false;
      for (auto& file : files)
        if (file.name == name) InjectIntoLayerRtl(file.text, c.graphs, static_cast<int>(li), f.hw), found = true;
      HW_CHECK(found, "fault injection: no file " + name);
    }
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
