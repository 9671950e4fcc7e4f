#include "cosim/gtkw.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "common/diag.h"
#include "common/file_util.h"

namespace hw::cosim {

namespace {

// GTKWave trace flags: 0x20 right-justify, 0x02 hex, 0x04 decimal, 0x08 binary, 0x400 signed;
// 0x200 blank/comment row, 0x800000 group begin, 0x1000000 group end.
constexpr const char* kBin = "@28";
constexpr const char* kHex = "@22";
constexpr const char* kDec = "@24";
constexpr const char* kSignedDec = "@424";

std::string Vec(const std::string& scope, const std::string& name, int width) {
  return width == 1 ? fmt::format("{}.{}", scope, name) : fmt::format("{}.{}[{}:0]", scope, name, width - 1);
}

std::string Group(const std::string& title, const std::string& body) {
  return fmt::format("@800200\n-{}\n{}@1000200\n-{}\n", title, body, title);
}

}  // namespace

std::string GtkwPathFor(const std::string& fst_path) {
  return std::filesystem::path(fst_path).replace_extension(".gtkw").string();
}

std::string GtkwText(const std::string& interface_json, const std::string& fst_path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(interface_json);
  } catch (const std::exception& e) {
    throw Error(Location{"interface.json", "", ""}, std::string("cannot parse: ") + e.what());
  }
  const std::string top = j.at("top").get<std::string>();
  const std::string scope = "TOP." + top;
  std::string s = "[*] GTKWave save file written by `hardwire sim --fst`.\n";
  s += fmt::format("[*] Model '{}': latency {} clocks; one token enters per clock while ce is high.\n",
                   j.value("model", std::string()), j.value("latency", 0));
  s += fmt::format("[dumpfile] \"{}\"\n", std::filesystem::absolute(fst_path).string());
  s += fmt::format("[savefile] \"{}\"\n", std::filesystem::absolute(GtkwPathFor(fst_path)).string());
  s += "[timestart] 0\n[sst_expanded] 1\n[signals_width] 260\n[sst_width] 260\n";
  s += fmt::format("[treeopen] TOP.\n[treeopen] {}.\n", scope);
  const auto& in = j.at("input");
  const auto& out = j.at("output");
  std::string ctl = std::string(kBin) + "\n";
  ctl += Vec(scope, "clk", 1) + "\n" + Vec(scope, "rst", 1) + "\n" + Vec(scope, "ce", 1) + "\n";
  ctl += Vec(scope, j.at("input").value("valid_port", "in_valid"), 1) + "\n";
  ctl += Vec(scope, out.value("valid_port", "out_valid"), 1) + "\n";
  s += Group("control and valid", ctl);
  s += Group(fmt::format("input ({} x {} bits)", in.at("elements").get<int>(), in.at("element_bits").get<int>()),
             std::string(kHex) + "\n" + Vec(scope, in.value("data_port", "in_data"), in.at("width").get<int>()) + "\n");
  for (const auto& l : j.at("layers")) {
    const int w = l.at("elements").get<int>() * l.at("element_bits").get<int>();
    const bool scalar = l.at("elements").get<int>() == 1;
    const std::string fmt_flag = scalar ? (l.value("signed", false) ? kSignedDec : kDec) : kHex;
    s += Group(fmt::format("{} {} ({} x {} bits, valid {} clocks after input)", l.at("instance").get<std::string>(),
                           l.at("kind").get<std::string>(), l.at("elements").get<int>(), l.at("element_bits").get<int>(),
                           l.value("output_valid_after", 0)),
               std::string(fmt_flag) + "\n" + Vec(scope, l.at("output_signal").get<std::string>(), w) + "\n");
  }
  const bool scalar_out = out.at("elements").get<int>() == 1;
  s += Group("output", std::string(scalar_out ? (out.value("signed", false) ? kSignedDec : kDec) : kHex) + "\n" +
                           Vec(scope, out.value("data_port", "out_data"), out.at("width").get<int>()) + "\n");
  s += "[pattern_trace] 1\n[pattern_trace] 0\n";
  return s;
}

std::string WriteGtkw(const std::string& rtl_dir, const std::string& fst_path) {
  const std::string iface = ReadFileOrThrow((std::filesystem::path(rtl_dir) / "interface.json").string(), "interface");
  const std::string path = GtkwPathFor(fst_path);
  WriteFileOrThrow(path, GtkwText(iface, fst_path));
  return path;
}

}  // namespace hw::cosim
