// The clock-target option group shared by generate, report and synth (commands.h, TimingFlags).
#include "cli/commands.h"

#include <fmt/format.h>

#include "common/diag.h"

namespace hw::cli {

void TimingFlags::AddTo(CLI::App* app) {
  app_ = app;
  app->add_option("--clock-ns", clock_ns, "a clock target in ns instead of --adders-per-stage (delay model: --target)");
  app->add_option("--target", target, "delay model for --clock-ns: fpga (Xilinx 7-series logic delays) or asic (generic standard cells in FO4 delays)")
      ->check(CLI::IsMember({"fpga", "asic"}))
      ->default_val("fpga");
  app->add_option("--fo4-ps", fo4_ps, "asic model: one FO4 inverter delay of your library in ps")->default_val(25);
  app->add_option("--asic-adder", asic_adder, "asic model: adder structure, prefix (parallel prefix) or ripple (ripple carry)")
      ->check(CLI::IsMember({"prefix", "ripple"}))
      ->default_val("prefix");
}

void TimingFlags::Check() const {
  if (clock_ns < 0) throw Error(Location{"", "", "--clock-ns"}, "must be positive");
  if (fo4_ps <= 0) throw Error(Location{"", "", "--fo4-ps"}, "must be positive");
  if (clock_ns == 0 && app_ && (app_->count("--target") || app_->count("--fo4-ps") || app_->count("--asic-adder")))
    throw Error(Location{"", "", "--target"}, "a delay model only applies with a clock target: give --clock-ns too");
}

namespace {
// Dense and language-model options name the clock target alike.
template <class Options>
void Apply(const TimingFlags& f, Options& o) {
  f.Check();
  o.clock_ns = f.clock_ns;
  o.asic = f.asic();
  o.asic_library.fo4_ps = f.fo4_ps;
  o.asic_library.ripple = f.asic_adder == "ripple";
}
}  // namespace

void TimingFlags::ApplyTo(driver::GenerateOptions& o) const { Apply(*this, o); }
void TimingFlags::ApplyTo(passes::lm::LmLowerOptions& o) const { Apply(*this, o); }

std::string TimingFlags::CommandSuffix() const {
  if (clock_ns <= 0) return "";
  std::string s = " --clock-ns " + fmt::format("{:g}", clock_ns);
  if (asic()) s += fmt::format(" --target asic --fo4-ps {:g} --asic-adder {}", fo4_ps, asic_adder);
  return s;
}

}  // namespace hw::cli
