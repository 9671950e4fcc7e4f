// hardwire ref MODEL.json --inputs FILE [--layer L]: the bit-exact reference, one output vector per line.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "common/diag.h"
#include "cosim/cosim.h"
#include "model/model_io.h"
#include "reference/reference.h"

namespace hw::cli {

void AddRef(CLI::App& app, Registry& r) {
  struct Flags {
    std::string model, inputs;
    long random = 0;
    uint64_t seed = 1;
    int layer = -1;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("ref", "Run the bit-exact C++ reference and print the outputs");
  sub->add_option("model", f->model, "model manifest (model.json)")->required();
  auto* in = sub->add_option("--inputs", f->inputs, "input vectors file");
  sub->add_option("--random", f->random, "number of random vectors")->excludes(in);
  sub->add_option("--seed", f->seed, "seed for --random")->default_val(1);
  sub->add_option("--layer", f->layer, "print this layer's output instead of the model output");
  r.push_back({sub, [f]() {
                 const model::Model m = model::LoadModel(f->model);
                 if (f->inputs.empty() && f->random <= 0) throw Error(Location{"", "", "--inputs"}, "give --inputs FILE or --random N");
                 const reference::Batch x =
                     !f->inputs.empty() ? cosim::ReadVectorsFile(f->inputs, m.input_length) : cosim::RandomInputs(m, f->random, f->seed);
                 reference::CheckInputs(m, x, f->inputs.empty() ? "random inputs" : f->inputs);
                 const reference::Trace t = reference::Run(m, x);
                 if (f->layer >= static_cast<int>(t.layers.size()))
                   throw Error(Location{f->model, "", "--layer"}, fmt::format("model has {} layers", t.layers.size()));
                 const reference::Batch& y = f->layer < 0 ? t.output() : t.layers[f->layer];
                 std::string out;
                 for (Eigen::Index row = 0; row < y.rows(); ++row) {
                   for (Eigen::Index c = 0; c < y.cols(); ++c) out += (c ? " " : "") + std::to_string(y(row, c));
                   out += '\n';
                 }
                 std::cout << out;
                 return 0;
               }});
}

}  // namespace hw::cli
