// hardwire ref MODEL.json --inputs FILE [--layer L]: the bit-exact reference, one output vector per line.
// For a graph model (a language model): hardwire ref MODEL.json --prompt TEXT... [--tokens N] [--greedy | --seed S]
// generates text, one stream per prompt.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "common/diag.h"
#include "cosim/cosim.h"
#include "model/lm_model_io.h"
#include "model/model_io.h"
#include "reference/lm_reference.h"
#include "reference/input_quant.h"
#include "reference/reference.h"

namespace hw::cli {

void AddRef(CLI::App& app, Registry& r) {
  struct Flags {
    std::string model, inputs, float_inputs;
    bool real = false, quantized_inputs = false;
    long random = 0;
    uint64_t seed = 1;
    int layer = -1;
    std::vector<std::string> prompts;
    int tokens = 64;
    bool greedy = false, ids = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("ref", "Run the bit-exact C++ reference and print the outputs");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  auto* in = sub->add_option("--inputs", f->inputs, "input vectors file");
  auto* fin = sub->add_option("--float-inputs", f->float_inputs,
                               "real-valued input vectors, quantized by the model's input quantizer (imported models)")->excludes(in);
  sub->add_option("--random", f->random, "number of random vectors")->excludes(in)->excludes(fin);
  sub->add_flag("--real", f->real, "print the output layer's values in real units (the manifest's output scale)");
  sub->add_flag("--quantized-inputs", f->quantized_inputs, "print the integer input vectors (e.g. of --float-inputs) instead of running the model");
  auto* seed = sub->add_option("--seed", f->seed, "seed for --random; for a language model, sample with this seed (default 1)")->default_val(1);
  sub->add_option("--layer", f->layer, "print this layer's output instead of the model output");
  sub->add_option("--prompt", f->prompts, "language model: a prompt (repeat for several streams)")->excludes(in);
  sub->add_option("--tokens", f->tokens, "language model: tokens to generate per stream (stops early when the context is full)")
      ->check(CLI::Range(1, 1 << 20));
  sub->add_flag("--greedy", f->greedy, "language model: argmax instead of sampling")->excludes(seed);
  sub->add_flag("--ids", f->ids, "language model: print token ids instead of text");
  r.push_back({sub, [f]() {
                 if (model::IsGraphManifest(f->model)) {
                   const model::LmModel m = model::LoadLmModel(f->model);
                   if (f->prompts.empty()) throw Error(Location{f->model, "", "--prompt"}, "a language model needs at least one --prompt");
                   std::vector<std::vector<int>> prompts;
                   for (size_t i = 0; i < f->prompts.size(); ++i)
                     prompts.push_back(reference::Encode(m, f->prompts[i], fmt::format("--prompt {}", i + 1)));
                   const auto gens = reference::Generate(m, prompts, f->tokens, f->greedy ? std::nullopt : std::optional<uint64_t>(f->seed));
                   std::string out;
                   for (size_t i = 0; i < gens.size(); ++i) {
                     if (f->ids) {
                       out += fmt::format("stream {}:", i);
                       for (int id : gens[i].generated) out += fmt::format(" {}", id);
                       out += '\n';
                       continue;
                     }
                     out += fmt::format("== stream {} ({}): {} tokens{}\n", i, f->greedy ? "greedy" : fmt::format("sampled, seed {}", f->seed),
                                        gens[i].generated.size(), gens[i].context_full ? ", context full" : "");
                     out += reference::Decode(m, gens[i].prompt) + reference::Decode(m, gens[i].generated) + "\n";
                   }
                   std::cout << out;
                   return 0;
                 }
                 if (!f->prompts.empty()) throw Error(Location{f->model, "", "--prompt"}, "--prompt needs a graph model (a language model)");
                 const model::Model m = LoadAnyModel(f->model);
                 if (f->inputs.empty() && f->float_inputs.empty() && f->random <= 0)
                   throw Error(Location{"", "", "--inputs"}, "give --inputs FILE, --float-inputs FILE or --random N");
                 const reference::Batch x = !f->inputs.empty()         ? cosim::ReadVectorsFile(f->inputs, m.input_length)
                                            : !f->float_inputs.empty() ? reference::ReadFloatInputs(m, f->float_inputs)
                                                                       : cosim::RandomInputs(m, f->random, f->seed);
                 reference::CheckInputs(m, x, !f->inputs.empty() ? f->inputs : !f->float_inputs.empty() ? f->float_inputs : "random inputs");
                 if (f->quantized_inputs) {
                   std::string out;
                   for (Eigen::Index row = 0; row < x.rows(); ++row) {
                     for (Eigen::Index c = 0; c < x.cols(); ++c) out += (c ? " " : "") + std::to_string(x(row, c));
                     out += '\n';
                   }
                   std::cout << out;
                   return 0;
                 }
                 const reference::Trace t = reference::Run(m, x);
                 if (f->layer >= static_cast<int>(t.layers.size()))
                   throw Error(Location{f->model, "", "--layer"}, fmt::format("model has {} layers", t.layers.size()));
                 const int shown = f->layer < 0 ? static_cast<int>(t.layers.size()) - 1 : f->layer;
                 const reference::Batch& y = t.layers[shown];
                 if (f->real && (!m.output_scale.present || m.layers[shown].name != m.output_scale.layer))
                   throw Error(Location{f->model, "", "--real"},
                               m.output_scale.present ? fmt::format("the manifest gives real units for layer '{}' only (use --layer {})", m.output_scale.layer,
                                                                    [&] { int i = 0; while (m.layers[i].name != m.output_scale.layer) ++i; return i; }())
                                                      : std::string("the model has no output scale (written by `hardwire import`)"));
                 std::string out;
                 for (Eigen::Index row = 0; row < y.rows(); ++row) {
                   for (Eigen::Index c = 0; c < y.cols(); ++c) {
                     if (!f->real) {
                       out += (c ? " " : "") + std::to_string(y(row, c));
                       continue;
                     }
                     const auto& os = m.output_scale;
                     const double sc = os.scale.size() == 1 ? os.scale[0] : os.scale[c], off = os.offset.size() == 1 ? os.offset[0] : os.offset[c];
                     out += fmt::format("{}{:.9g}", c ? " " : "", sc * static_cast<double>(y(row, c)) + off);
                   }
                   out += '\n';
                 }
                 std::cout << out;
                 return 0;
               }});
}

}  // namespace hw::cli
