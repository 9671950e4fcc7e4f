// hardwire eval MODEL.json --text FILE: held-out cross-entropy of a graph model (a language model), computed by
// the bit-exact integer reference over consecutive windows of the text.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/file_util.h"
#include "model/lm_model_io.h"
#include "reference/lm_reference.h"

namespace hw::cli {

void AddEval(CLI::App& app, Registry& r) {
  struct Flags {
    std::string model, text, logits;
    long windows = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("eval", "Held-out cross-entropy (nats per character) of a language model");
  sub->add_option("model", f->model, "graph model manifest (model.json, version 2)")->required();
  sub->add_option("--text", f->text, "text file, cut into consecutive windows of context+1 characters")->required();
  sub->add_option("--windows", f->windows, "use only the first N windows (0: all)")->check(CLI::NonNegativeNumber);
  sub->add_option("--logits", f->logits, "also write every position's logits to this file, one line per position");
  r.push_back({sub, [f]() {
                 if (!model::IsGraphManifest(f->model))
                   throw Error(Location{f->model, "", "version"}, "`hardwire eval` needs a graph model (version 2)");
                 const model::LmModel m = model::LoadLmModel(f->model);
                 const std::vector<int> ids = reference::Encode(m, ReadFileOrThrow(f->text, "text file"), f->text);
                 const size_t w = static_cast<size_t>(m.context) + 1;
                 std::vector<std::vector<int>> windows;
                 for (size_t i = 0; i + w <= ids.size() && (f->windows == 0 || windows.size() < static_cast<size_t>(f->windows)); i += w)
                   windows.emplace_back(ids.begin() + i, ids.begin() + i + w);
                 if (windows.empty())
                   throw Error(Location{f->text, "", ""}, fmt::format("text is shorter than one window of {} characters", w));
                 std::vector<std::vector<int64_t>> logits;
                 const auto t0 = std::chrono::steady_clock::now();
                 const double ce = reference::CrossEntropy(m, windows, f->logits.empty() ? nullptr : &logits);
                 const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                 const size_t positions = windows.size() * (w - 1);
                 if (!f->logits.empty()) {
                   std::string out;
                   for (const auto& row : logits) {
                     for (size_t c = 0; c < row.size(); ++c) out += (c ? " " : "") + std::to_string(row[c]);
                     out += '\n';
                   }
                   WriteFileOrThrow(f->logits, out);
                 }
                 std::cout << fmt::format("{} windows, {} positions: {:.4f} nats/char ({:.4f} bits/char); {:.0f} tokens/s\n", windows.size(),
                                          positions, ce, ce / std::log(2.0), positions / std::max(secs, 1e-9));
                 return 0;
               }});
}

}  // namespace hw::cli
