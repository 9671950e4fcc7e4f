#include "cosim/cosim.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "common/diag.h"
#include "common/file_util.h"

namespace hw::cosim {

namespace fs = std::filesystem;

int RunCommand(const std::string& cmd, std::string* output, bool echo) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw Error(Location{"", "", ""}, "cannot run: " + cmd);
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) {
    if (output) *output += buf;
    if (echo) std::fputs(buf, stdout), std::fflush(stdout);
  }
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

namespace {
std::string Quote(const std::string& s) { return ShellQuote(s); }
// Optimisation levels for the C++ that Verilator writes (OPT_FAST: the model's eval code, OPT_SLOW: one-time
// initialisation, OPT_GLOBAL: the Verilator runtime and the harness); ccache, when installed, makes the
// runtime and harness objects free after the first build.
std::string MakeFlags(const BuildOptions& o) {
  std::string f = "OPT_FAST=" + o.opt_fast + " OPT_SLOW=-O0 OPT_GLOBAL=-O1";
  // ccache needs a cache directory: $CCACHE_DIR or one under $HOME (unset in some CI sandboxes).
  const bool has_cache_dir = std::getenv("CCACHE_DIR") != nullptr || std::getenv("HOME") != nullptr;
  if (o.use_ccache && has_cache_dir && std::system("command -v ccache >/dev/null 2>&1") == 0) f += " OBJCACHE=ccache";
  return f;
}

}  // namespace

BuildResult BuildSimulator(const BuildOptions& o) {
  const fs::path rtl = fs::absolute(o.rtl_dir);
  if (!fs::exists(rtl / "interface.json"))
    throw Error(Location{o.rtl_dir, "", ""}, "no interface.json here: run `hardwire generate` into this directory first");
  const std::string iface = ReadFileOrThrow((rtl / "interface.json").string(), "interface");
  std::smatch m;
  const std::regex top_re("\"top\": \"([A-Za-z0-9_]+)\"");
  if (!std::regex_search(iface, m, top_re)) throw Error(Location{(rtl / "interface.json").string(), "", "top"}, "missing top module name");
  const std::string top = m[1];
  const fs::path build = fs::absolute(o.build_dir.empty() ? rtl.string() + "-sim" : o.build_dir) / (o.trace_fst ? "fst" : "fast");
  fs::create_directories(build);
  const std::string harness = std::string(HW_SOURCE_DIR) + "/sim/harness.cpp";
  // Why these flags (docs/performance.md): the generated layers are thousands of small assigns; the C++ that
  // Verilator writes for them compiles far faster at -O1 than -O2/-O3 with no measurable loss in simulation
  // speed for this shape of code, and --output-split lets make compile the pieces on both cores.
  const std::string cmd = fmt::format(
      "cd {} && verilator --cc --exe --build -j {} -Wno-fatal --x-assign fast --x-initial fast --noassert "
      "--prefix Vtop --top-module {} -F {} {} -Mdir {} -o vsim {} -MAKEFLAGS '{}' {}",
      Quote(build.string()), o.jobs, top, Quote((rtl / (top + ".f")).string()), Quote(harness), Quote(build.string()),
      o.output_split ? "--output-split 20000 --output-split-cfuncs 2000" : "", MakeFlags(o),
      o.trace_fst ? "--trace-fst" : "");
  const auto t0 = std::chrono::steady_clock::now();
  std::string log;
  const int rc = RunCommand(cmd, &log, !o.quiet);
  BuildResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rc != 0) {
    if (log.size() > 6000) log = "...\n" + log.substr(log.size() - 6000);
    throw Error(Location{o.rtl_dir, "", ""}, "Verilator build failed (exit " + std::to_string(rc) + "):\n" + log);
  }
  r.binary = (build / "vsim").string();
  return r;
}

void WriteVectorsFile(const std::string& path, const reference::Batch& b) {
  std::string s;
  s.reserve(static_cast<size_t>(b.rows()) * b.cols() * 4);
  for (Eigen::Index r = 0; r < b.rows(); ++r) {
    for (Eigen::Index c = 0; c < b.cols(); ++c) {
      if (c) s += ' ';
      s += std::to_string(b(r, c));
    }
    s += '\n';
  }
  WriteFileOrThrow(path, s);
}

reference::Batch ParseVectors(const std::string& text, const std::string& name, int expected_width) {
  std::vector<int64_t> vals;
  long rows = 0, line_no = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    // strtoll stops at a NUL byte, which would silently drop the rest of the line
    if (line.find('\0') != std::string::npos)
      throw Error(Location{name, "", ""}, fmt::format("line {}: contains a NUL byte (not a text file?)", line_no));
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    long count = 0;
    const char* p = line.c_str();
    while (*p) {
      while (*p == ' ' || *p == '\t' || *p == '\r') ++p;
      if (!*p) break;
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(p, &end, 10);
      if (end == p || (*end && *end != ' ' && *end != '\t' && *end != '\r'))
        throw Error(Location{name, "", ""}, fmt::format("line {}: '{}' is not an integer", line_no,
                                                         std::string(p, std::min<size_t>(strcspn(p, " \t"), 20))));
      if (errno == ERANGE) throw Error(Location{name, "", ""}, fmt::format("line {}: integer out of range", line_no));
      vals.push_back(v);
      ++count;
      p = end;
    }
    if (count != expected_width)
      throw Error(Location{name, "", ""}, fmt::format("line {}: {} values, expected {}", line_no, count, expected_width));
    ++rows;
  }
  if (rows == 0) throw Error(Location{name, "", ""}, "no vectors");
  reference::Batch b(rows, expected_width);
  std::copy(vals.begin(), vals.end(), b.data());
  return b;
}

reference::Batch ReadVectorsFile(const std::string& path, int expected_width) {
  return ParseVectors(ReadFileOrThrow(path, "vectors file"), path, expected_width);
}

reference::Batch RandomInputs(const model::Model& model, long count, uint64_t seed) {
  const int n = model.input_length;
  const int64_t lo = model.input.min(), hi = model.input.max();
  reference::Batch b(count, n);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> uni(lo, hi);
  for (long r = 0; r < count; ++r)
    for (int c = 0; c < n; ++c) {
      if (r == 0) b(r, c) = lo;
      else if (r == 1) b(r, c) = hi;
      else if (r == 2) b(r, c) = (c % 2) ? lo : hi;
      else b(r, c) = (rng() % 8 == 0) ? ((rng() & 1) ? hi : lo) : uni(rng);
    }
  return b;
}

RunResult RunSimulation(const BuildResult& build, const std::string& rtl_dir, const reference::Batch& inputs,
                        const reference::Batch& expected, const RunOptions& o) {
  const fs::path dir = fs::path(build.binary).parent_path();
  const std::string in_path = (dir / "inputs.txt").string();
  const std::string exp_path = (dir / "expected.txt").string();
  const std::string out_path = (dir / "outputs.txt").string();
  WriteVectorsFile(in_path, inputs);
  WriteVectorsFile(exp_path, expected);
  const std::string iface_path = (fs::absolute(rtl_dir) / "interface.json").string();
  nlohmann::json iface;
  try {
    iface = nlohmann::json::parse(ReadFileOrThrow(iface_path, "interface"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(Location{iface_path, "", ""}, std::string("malformed interface.json: ") + e.what());
  }
  auto port = [&](const char* key) {
    const auto& p = iface.at(key);
    return fmt::format("{},{},{}", p.at("elements").get<int>(), p.at("element_bits").get<int>(), p.at("signed").get<bool>() ? 1 : 0);
  };
  std::string cmd;
  try {
    cmd = fmt::format("{} --in {} --out {} --latency {} --inputs {} --expected {} --outputs {} --max-report {}",
                      Quote(build.binary), port("input"), port("output"), iface.at("latency").get<int>(), Quote(in_path),
                      Quote(exp_path), Quote(out_path), o.max_report);
  } catch (const nlohmann::json::exception& e) {
    throw Error(Location{iface_path, "", ""}, std::string("incomplete interface.json: ") + e.what());
  }
  if (!o.fst_path.empty()) cmd += " --fst " + Quote(fs::absolute(o.fst_path).string());
  if (o.stall_seed >= 0) cmd += " --stall-seed " + std::to_string(o.stall_seed);
  RunResult r;
  r.exit_code = RunCommand(cmd, &r.log, o.echo);
  std::smatch m;
  if (!std::regex_search(r.log, m, std::regex(R"((\d+) passed, (\d+) failed)")))
    throw Error(Location{build.binary, "", ""}, "simulation did not report a result:\n" + r.log);
  r.passed = std::stol(m[1]);
  r.failed = std::stol(m[2]);
  if (std::regex_search(r.log, m, std::regex(R"(\(([0-9.]+) vectors/s\))"))) r.vectors_per_second = std::stod(m[1]);
  std::ifstream got(out_path);
  std::string line;
  while (std::getline(got, line)) {
    std::istringstream ss(line);
    std::vector<int64_t> v;
    int64_t x;
    while (ss >> x) v.push_back(x);
    r.outputs.push_back(std::move(v));
  }
  return r;
}

}  // namespace hw::cosim
