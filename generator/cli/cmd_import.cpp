// hardwire import MODEL.onnx -o DIR: a QONNX / quantized ONNX graph -> hardwire model + import report
// (docs/import.md).
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "model/model_io.h"
#include "onnx_import/onnx_import.h"

namespace hw::cli {

model::Model LoadAnyModel(const std::string& path) {
  const std::string ext = path.size() >= 5 ? path.substr(path.size() - 5) : "";
  if (ext == ".onnx" || ext == ".ONNX") return onnx_import::ImportOnnx(path).model;
  return model::LoadModel(path);
}

void AddImport(CLI::App& app, Registry& r) {
  struct Flags {
    std::string onnx, out, name;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("import", "Import a QONNX / quantized ONNX MLP as a hardwire model (docs/import.md)");
  sub->add_option("model", f->onnx, "ONNX file")->required();
  sub->add_option("-o,--out", f->out, "output directory (model.json, <name>.safetensors, import.json)")->required();
  sub->add_option("--name", f->name, "model name (default: from the file name)");
  r.push_back({sub, [f]() {
                 onnx_import::ImportOptions opt;
                 opt.name = f->name;
                 const onnx_import::ImportResult res = onnx_import::ImportOnnx(f->onnx, opt);
                 onnx_import::WriteImport(res, f->out);
                 const auto& m = res.model;
                 std::string out = fmt::format("imported {} -> {}/model.json: input {} x {}{}, {} layers\n", f->onnx, f->out,
                                               m.input_length, m.input.is_signed ? "int" : "uint", m.input.bits, m.layers.size());
                 for (const auto& l : res.report["layers"])
                   out += fmt::format("  {}: weight {} {}-bit {}, {}{}\n", l["name"].get<std::string>(),
                                      l["weight"]["encoding"].get<std::string>(), l["weight"]["bits"].get<int>(),
                                      l["weight"]["shape"].dump(), l.value("activation", "requant") == "threshold" ? "thresholds, " : "",
                                      l["exactness"].get<std::string>());
                 if (res.report.contains("output") && res.report["output"].contains("argmax"))
                   out += "  " + res.report["output"]["argmax"].get<std::string>() + "\n";
                 for (const auto& a : res.report["approximations"]) out += "  approximation: " + a.get<std::string>() + "\n";
                 out += fmt::format("report: {}/import.json\n", f->out);
                 std::cout << out;
                 return 0;
               }});
}

}  // namespace hw::cli
