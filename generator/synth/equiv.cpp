#include "synth/equiv.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "common/file_util.h"

namespace hw::synth {

namespace fs = std::filesystem;

namespace {
std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

EquivResult ProveEquivalent(const EquivJob& job) {
  fs::create_directories(job.work_dir);
  const fs::path dir = fs::absolute(job.work_dir);
  std::string ys = "# hardwire equivalence proof (see generator/synth/equiv.h)\n";
  for (const std::string& f : job.gold_files) ys += "read_verilog \"" + f + "\"\n";
  for (const std::string& f : job.gate_files) ys += "read_verilog \"" + f + "\"\n";
  // hierarchy -check: every module the files instantiate is defined.
  ys += "hierarchy -check\nproc\nopt_clean\n";
  ys += fmt::format("miter -equiv -flatten -make_outputs -ignore_gold_x {} {} hw_miter\n", job.gold_top, job.gate_top);
  ys += "hierarchy -top hw_miter\nopt -fast\n";
  ys += fmt::format("sat -verify -tempinduct -prove trigger 0 -set in_ce 1 -set-init-zero -seq {} -maxsteps {} "
                    "-show-inputs -show-outputs hw_miter\n",
                    std::max(1, job.latency), job.latency + 4);
  const std::string script = (dir / "equiv.ys").string();
  const std::string log = (dir / "equiv.log").string();
  WriteFileOrThrow(script, ys);
  std::string cmd = fmt::format("yosys -q -l {} -s {} > {} 2>&1", Quote(log), Quote(script), Quote(log + ".out"));
  if (job.timeout_seconds > 0) cmd = fmt::format("timeout {} {}", job.timeout_seconds, cmd);
  EquivResult r;
  r.log_path = log;
  const auto t0 = std::chrono::steady_clock::now();
  const int status = std::system(cmd.c_str());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  const std::string text = fs::exists(log) ? ReadFileOrThrow(log, "yosys log") : "";
  if (code == 124) {
    r.message = fmt::format("timed out after {} s", job.timeout_seconds);
    return r;
  }
  // -verify turns a failed proof into an error exit; SUCCESS is printed when the induction closes.
  if (code == 0 && text.find("SUCCESS!") != std::string::npos) {
    r.proven = true;
    r.message = fmt::format("proven equivalent (temporal induction, latency {})", job.latency);
  } else {
    r.failed = true;
    const std::string out = fs::exists(log + ".out") ? ReadFileOrThrow(log + ".out", "yosys output") : "";
    const size_t e = out.find("ERROR");
    r.message = e != std::string::npos ? out.substr(e, out.find('\n', e) - e) : fmt::format("yosys exit status {}", code);
  }
  return r;
}

}  // namespace hw::synth
