#include "cli/commands.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "common/diag.h"

namespace hw::cli {

namespace {

passes::ArithChoice ParseChoice(const std::string& mode, const std::string& depth, const std::string& what) {
  passes::ArithChoice c;
  if (mode == "csd") c.mode = passes::ArithMode::kCsd;
  else if (mode == "cmvm") c.mode = passes::ArithMode::kCmvm;
  else throw Error(Location{"", "", what}, "unknown arithmetic '" + mode + "' (expected csd or cmvm)");
  if (depth == "unconstrained") c.depth = arith::DepthMode::kUnconstrained;
  else if (depth == "min") c.depth = arith::DepthMode::kMinimum;
  else if (depth.rfind("min+", 0) == 0) {
    c.depth = arith::DepthMode::kMinimumPlusK;
    try {
      c.extra_depth = std::stoi(depth.substr(4));
    } catch (...) {
      throw Error(Location{"", "", what}, "bad depth '" + depth + "' (expected unconstrained, min or min+K)");
    }
  } else {
    throw Error(Location{"", "", what}, "bad depth '" + depth + "' (expected unconstrained, min or min+K)");
  }
  return c;
}

}  // namespace

void ArithFlags::AddTo(CLI::App* app) {
  app->add_option("--arith", arith, "arithmetic: cmvm (shared subexpressions) or csd (per-weight trees)")->default_val("cmvm");
  app->add_option("--depth", depth, "adder depth for cmvm: unconstrained, min or min+K")->default_val("unconstrained");
  app->add_option("--layer-arith", per_layer, "per-layer override NAME=MODE[:DEPTH], repeatable");
  app->add_option("--effort", effort, "cmvm search effort: 0 fast (small blocks), 1 default, 2-3 more time for fewer adders")
      ->check(CLI::Range(0, 3))
      ->default_val(1);
  app->add_option("--registers", registers,
                  "cmvm: 'min' picks each layer's graph among several shapes (as chosen; min-depth, min+1 and unconstrained, "
                  "of W and transposed) by its pipeline flip-flop bits at the same or lower latency")
      ->check(CLI::IsMember({"default", "min"}))
      ->default_val("default");
}

passes::LowerOptions ArithFlags::Resolve(const model::Model& m) const {
  passes::LowerOptions o;
  o.arith = ParseChoice(arith, depth, "--arith/--depth");
  o.arith.effort = effort;
  o.arith.fewest_registers = registers == "min";
  for (const std::string& spec : per_layer) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos) throw Error(Location{"", "", "--layer-arith"}, "expected NAME=MODE[:DEPTH], got '" + spec + "'");
    const std::string name = spec.substr(0, eq), rest = spec.substr(eq + 1);
    bool found = false;
    for (const auto& l : m.layers) found |= l.name == name;
    if (!found) throw Error(Location{m.manifest_path, "", "--layer-arith"}, "no layer named '" + name + "'");
    const auto colon = rest.find(':');
    o.per_layer[name] = ParseChoice(rest.substr(0, colon), colon == std::string::npos ? depth : rest.substr(colon + 1),
                                    "--layer-arith " + name);
    o.per_layer[name].effort = effort;
    o.per_layer[name].fewest_registers = registers == "min";
  }
  return o;
}

}  // namespace hw::cli
