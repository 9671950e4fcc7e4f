// hardwire command-line interface. Each subcommand is in cli/cmd_<name>.cpp; this file lists them and is the
// only place that turns errors into messages and exit statuses.
#include <iostream>

#include "cli/commands.h"
#include "common/diag.h"

int main(int argc, char** argv) {
  CLI::App app{"hardwire: quantized neural networks -> multiplier-free, fully pipelined Verilog"};
  app.require_subcommand(1);
  hw::cli::Registry commands;
  hw::cli::AddGenerate(app, commands);
  hw::cli::AddSim(app, commands);
  hw::cli::AddRef(app, commands);
  hw::cli::AddSynth(app, commands), hw::cli::AddReport(app, commands), hw::cli::AddExplain(app, commands);
  hw::cli::AddEval(app, commands);
  hw::cli::AddIr(app, commands);
  hw::cli::AddImport(app, commands);
  hw::cli::AddFaults(app, commands);
  CLI11_PARSE(app, argc, argv);
  try {
    for (const hw::cli::Command& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const hw::Error& e) {
    for (const std::string& msg : e.messages()) std::cerr << "error: " << msg << '\n';
    return 1;
  } catch (const hw::InternalError& e) {
    std::cerr << e.what() << "\nThis is a bug in hardwire; please report it with the model.\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
