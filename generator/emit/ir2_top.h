// The files of an IR v2 design (ir2/design.h): one Verilog module per module graph (emit/ir2_verilog.h), a top
// module that registers the input, instantiates the modules, wires them as the design's connections say and
// carries the valid bit alongside (rtl_templates/hw_valid_pipe.v), the filelist and interface.json. The text
// depends only on the design, so it is byte-identical across runs.
#pragma once

#include <string>
#include <vector>

#include "emit/emitted_file.h"
#include "ir2/design.h"

namespace hw::emit {

std::string TopName(const hw::ir2::Design& d);

// The signal in the top that carries a connection's source: `in_q` (the input register) or
// <instance without its u_ prefix>_<port>.
std::string SourceSignal(const hw::ir2::Design& d, const hw::ir2::Endpoint& from);

// The top module text. `d` must be valid (VerifyDesign).
std::string EmitTop(const hw::ir2::Design& d);
// interface.json: ports, widths, packing order, latency, instances ("layers"), files.
std::string EmitInterfaceJson(const hw::ir2::Design& d, const std::vector<std::string>& files);

// Every file, in filelist order (templates first, modules, top last), plus <top>.f and interface.json.
// `header`: the first comment line of every module file. Throws hw::Error if the design is not valid.
std::vector<EmittedFile> EmitDesign(const hw::ir2::Design& d, const std::string& template_dir, const std::string& header);

}  // namespace hw::emit
