#include "synth/yosys.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include "common/diag.h"
#include "common/file_util.h"

namespace hw::synth {

namespace fs = std::filesystem;

const std::vector<std::string>& KnownFlows() {
  static const std::vector<std::string> flows = {"word", "gate", "xilinx", "depth"};
  return flows;
}

std::string DefaultFlowsDir() { return std::string(HW_SOURCE_DIR) + "/flows"; }

namespace {

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Yosys script arguments: double quotes (yosys does not understand shell single quotes).
std::string YQuote(const std::string& s) {
  if (s.find('"') != std::string::npos || s.find('\n') != std::string::npos)
    throw Error(Location{s, "", ""}, "path not usable in a yosys script (contains a double quote or newline)");
  return "\"" + s + "\"";
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

// Cell width from a `stat -width` name such as "$add_12"; 1 for unannotated cells.
long WidthSuffix(const std::string& type) {
  const size_t u = type.rfind('_');
  if (u == std::string::npos || u + 1 >= type.size()) return 1;
  long w = 0;
  for (size_t i = u + 1; i < type.size(); ++i) {
    if (type[i] < '0' || type[i] > '9') return 1;
    w = w * 10 + (type[i] - '0');
  }
  return w;
}

bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

std::string InstantiateFlow(const std::string& text, const std::string& top, const std::vector<std::string>& files,
                            const std::string& stat_path) {
  std::string read;
  for (const std::string& f : files) read += "read_verilog " + YQuote(f) + "\n";
  std::string s = text;
  ReplaceAll(s, "{{READ}}\n", read);
  ReplaceAll(s, "{{READ}}", read);
  ReplaceAll(s, "{{TOP}}", top);
  // `tee -o` takes the file name verbatim (no quote removal).
  if (stat_path.find_first_of(" \t\n\"") != std::string::npos)
    throw Error(Location{stat_path, "", ""}, "the synthesis work directory must not contain spaces or quotes");
  ReplaceAll(s, "{{STAT}}", stat_path);
  return s;
}

void ParseStatJson(const std::string& json_text, FlowResult* r) {
  const nlohmann::json j = nlohmann::json::parse(json_text);
  const nlohmann::json& d = j.at("design");
  r->cells = d.value("num_cells", 0L);
  if (d.contains("estimated_num_transistors")) {
    const nlohmann::json& t = d["estimated_num_transistors"];
    r->transistors = t.is_string() ? std::stol(t.get<std::string>()) : t.get<long>();
  }
  long adders = 0, adder_bits = 0, muls = 0, ffs = 0, luts = 0, srls = 0, carry = 0, muxes = 0;
  bool xilinx = false;
  if (d.contains("num_cells_by_type"))
    for (const auto& [type, count] : d["num_cells_by_type"].items()) {
      const long n = count.get<long>();
      r->cell_types[type] = n;
      if (StartsWith(type, "$add") || StartsWith(type, "$sub") || StartsWith(type, "$neg") || StartsWith(type, "$alu") ||
          StartsWith(type, "$macc")) {
        adders += n, adder_bits += n * WidthSuffix(type);
      } else if (StartsWith(type, "$mul")) {
        muls += n;
      } else if (StartsWith(type, "$dff") || StartsWith(type, "$adff") || StartsWith(type, "$sdff") ||
                 StartsWith(type, "$_DFF") || StartsWith(type, "$_SDFF") || StartsWith(type, "$_ADFF")) {
        ffs += n * (StartsWith(type, "$_") ? 1 : WidthSuffix(type));
      } else if (type == "FDRE" || type == "FDSE" || type == "FDCE" || type == "FDPE") {
        ffs += n, xilinx = true;
      } else if (StartsWith(type, "LUT") && type.size() == 4) {
        luts += n, xilinx = true;
      } else if (type == "INV") {
        luts += n, xilinx = true;  // a LUT1
      } else if (type == "SRL16E" || type == "SRLC32E" || type == "SRLC16E") {
        luts += n, srls += n, xilinx = true;
      } else if (StartsWith(type, "RAM") && type.find('M') != std::string::npos) {
        luts += n, xilinx = true;
      } else if (StartsWith(type, "CARRY")) {
        carry += n, xilinx = true;
      } else if (StartsWith(type, "MUXF")) {
        muxes += n, xilinx = true;
      }
    }
  r->ff_bits = ffs;
  if (r->flow == "word") r->adders = adders, r->adder_bits = adder_bits, r->multipliers = muls;
  if (xilinx || r->flow == "xilinx") r->luts = luts, r->srls = srls, r->carry = carry, r->muxes = muxes;
}

int ParseLtpDepth(const std::string& log_text) {
  static const std::regex re(R"(Longest topological path in \S+ \(length=(\d+)\))");
  int depth = -1;
  for (auto it = std::sregex_iterator(log_text.begin(), log_text.end(), re); it != std::sregex_iterator(); ++it)
    depth = std::max(depth, std::stoi((*it)[1].str()));
  return depth;
}

double ParseCpuSeconds(const std::string& log_text) {
  static const std::regex re(R"(CPU: user ([0-9.]+)s system ([0-9.]+)s)");
  double cpu = 0;
  for (auto it = std::sregex_iterator(log_text.begin(), log_text.end(), re); it != std::sregex_iterator(); ++it)
    cpu = std::stod((*it)[1].str()) + std::stod((*it)[2].str());
  return cpu;
}

double EstimateXilinxMhz(int depth) {
  if (depth < 0) return -1;
  return 1000.0 / (1.0 + 0.5 * depth);
}

FlowResult RunJob(const SynthJob& job, const std::string& flows_dir) {
  const std::string tmpl_path = (fs::path(flows_dir) / (job.flow + ".ys")).string();
  if (!fs::exists(tmpl_path)) throw Error(Location{tmpl_path, "", ""}, fmt::format("no flow '{}' (looked for this file)", job.flow));
  const std::string tmpl = ReadFileOrThrow(tmpl_path, "yosys flow");
  fs::create_directories(job.work_dir);
  const fs::path dir = fs::absolute(job.work_dir);
  const std::string script = (dir / (job.flow + ".ys")).string();
  const std::string stat = (dir / (job.flow + "_stat.json")).string();
  const std::string log = (dir / (job.flow + ".log")).string();
  std::error_code ec;
  fs::remove(stat, ec);
  WriteFileOrThrow(script, InstantiateFlow(tmpl, job.top, job.files, stat));
  FlowResult r;
  r.flow = job.flow;
  r.log_path = log;
  std::string cmd = fmt::format("yosys -q -l {} -s {} > {} 2>&1", Quote(log), Quote(script), Quote(log + ".out"));
  if (job.timeout_seconds > 0) cmd = fmt::format("timeout {} {}", job.timeout_seconds, cmd);
  const auto t0 = std::chrono::steady_clock::now();
  const int status = std::system(cmd.c_str());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  std::string log_text;
  if (fs::exists(log)) log_text = ReadFileOrThrow(log, "yosys log");
  r.cpu_seconds = ParseCpuSeconds(log_text);
  if (code == 124) {
    r.timed_out = true;
    r.error = fmt::format("timed out after {} s", job.timeout_seconds);
    return r;
  }
  if (code != 0 || !fs::exists(stat)) {
    std::string out = fs::exists(log + ".out") ? ReadFileOrThrow(log + ".out", "yosys output") : "";
    const size_t e = out.find("ERROR");
    r.error = e != std::string::npos ? out.substr(e, out.find('\n', e) - e) : fmt::format("yosys exited with status {}", code);
    return r;
  }
  try {
    ParseStatJson(ReadFileOrThrow(stat, "yosys stat"), &r);
  } catch (const std::exception& ex) {
    r.error = std::string("cannot read yosys statistics: ") + ex.what();
    return r;
  }
  r.depth = ParseLtpDepth(log_text);
  r.ok = true;
  return r;
}

std::vector<FlowResult> RunJobs(const std::vector<SynthJob>& jobs, const std::string& flows_dir, int parallel,
                                const Progress& progress) {
  std::vector<FlowResult> results(jobs.size());
  std::vector<std::string> errors(jobs.size());
  std::atomic<size_t> next{0};
  std::atomic<int> done{0};
  std::mutex mu;
  auto worker = [&]() {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      try {
        results[i] = RunJob(jobs[i], flows_dir);
      } catch (const std::exception& e) {
        errors[i] = e.what();
        results[i].flow = jobs[i].flow;
        results[i].error = e.what();
      }
      std::lock_guard<std::mutex> lock(mu);
      const int d = ++done;
      if (progress) progress(d, static_cast<int>(jobs.size()), jobs[i], results[i]);
    }
  };
  const int n = std::max(1, std::min<int>(parallel, static_cast<int>(jobs.size())));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < jobs.size(); ++i)
    if (!errors[i].empty() && errors[i].find("no flow") != std::string::npos) throw Error({errors[i]});
  return results;
}

}  // namespace hw::synth
