// Verilog-2005 emission of a scheduled, named Design: one module per layer, a top module, and the fixed
// building blocks from rtl_templates/. Output text depends only on the Design, so it is byte-identical
// across runs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "emit/emitted_file.h"
#include "ir/datapath.h"

namespace hw::emit {


// Name of the top module for a design.
std::string TopName(const ir::Design& d);

// The layer module text.
std::string EmitLayer(const ir::Module& m);
// The top module text (input register, layers in order, valid pipeline).
std::string EmitTop(const ir::Design& d);
// interface.json: ports, widths, packing order, latency, layers, files.
std::string EmitInterfaceJson(const ir::Design& d, const std::vector<std::string>& files);

// Every file of the design, in filelist order (templates first, top last), plus <top>.f and
// interface.json. Templates are read from `template_dir`.
std::vector<EmittedFile> EmitDesign(const ir::Design& d, const std::string& template_dir);
// The same with the layer modules' text given (one per layer, in order; emitted from IR v2): the modules of `d`
// then only provide names, types and latencies for the top and interface.json.
std::vector<EmittedFile> EmitDesign(const ir::Design& d, const std::vector<std::string>& layer_texts, const std::string& template_dir);

}  // namespace hw::emit
