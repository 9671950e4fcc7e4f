// hardwire explain MODEL.json --layer L --neuron N [--dot FILE] [--svg FILE]
// Prints one neuron's weights, their signed digits and its adder tree; writes Graphviz DOT and (through
// `dot`) SVG with every adder's operands, shifts, signs, width and pipeline stage.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/file_util.h"
#include "cosim/cosim.h"
#include "explain/explain.h"
#include "explain/lm_explain.h"
#include "model/lm_model_io.h"
#include "model/model_io.h"
#include "passes/lower_layer_ir2.h"

namespace hw::cli {

void AddExplain(CLI::App& app, Registry& r) {
  struct Flags {
    std::string model, layer, dot, svg;
    int neuron = 0, k = 1;
    ArithFlags arith;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("explain", "Show one neuron's weights, signed digits and adder tree (text, DOT, SVG)");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  sub->add_option("--layer", f->layer, "dense layer name or index (language model: a dense op's name, e.g. b0_q)")->required();
  sub->add_option("--neuron", f->neuron, "output channel")->required();
  sub->add_option("--dot", f->dot, "Graphviz output (default <layer>_n<N>.dot)");
  sub->add_option("--svg", f->svg, "SVG output rendered with `dot` (default <layer>_n<N>.svg; 'none' to skip)");
  sub->add_option("--adders-per-stage", f->k, "adder levels between pipeline registers")->default_val(1);
  f->arith.AddTo(sub);
  r.push_back({sub, [f]() {
                 explain::NeuronExplanation e;
                 std::string base;
                 if (model::IsGraphManifest(f->model)) {
                   const model::LmModel m = model::LoadLmModel(f->model);
                   e = explain::ExplainLmNeuron(m, f->layer, f->neuron, f->k);
                   base = fmt::format("{}_n{}", f->layer, f->neuron);
                 } else {
                   const model::Model m = LoadAnyModel(f->model);
                   const int li = explain::FindLayer(m, f->layer);
                   e = explain::ExplainNeuron(m, li, f->neuron, passes::ChoiceFor(f->arith.Resolve(m), m.layers[li].name), f->k);
                   base = fmt::format("{}_n{}", m.layers[li].name, f->neuron);
                 }
                 std::cout << e.text;
                 const std::string dot = f->dot.empty() ? base + ".dot" : f->dot;
                 WriteFileOrThrow(dot, e.dot);
                 std::cout << "\nwrote " << dot << "\n";
                 if (f->svg != "none") {
                   const std::string svg = f->svg.empty() ? base + ".svg" : f->svg;
                   std::string out;
                   if (cosim::RunCommand(fmt::format("dot -Tsvg -o '{}' '{}'", svg, dot), &out, false) != 0)
                     throw Error(Location{dot, "", ""}, "graphviz `dot` failed: " + out);
                   std::cout << "wrote " << svg << "\n";
                 }
                 return 0;
               }});
}

}  // namespace hw::cli
