// GTKWave save files for `hardwire sim --fst`: a .gtkw next to the FST that shows the clock, the valid
// pipeline and every layer's output vector in order, so a token can be followed through the pipeline.
#pragma once

#include <string>

namespace hw::cosim {

// Save-file text for the design described by `interface_json` (the text of interface.json) and the
// waveform `fst_path`. Signals are named as Verilator traces them: TOP.<top>.<signal>.
std::string GtkwText(const std::string& interface_json, const std::string& fst_path);

// `fst_path` with its extension replaced by .gtkw.
std::string GtkwPathFor(const std::string& fst_path);

// Reads <rtl_dir>/interface.json and writes GtkwPathFor(fst_path); returns that path. Throws hw::Error.
std::string WriteGtkw(const std::string& rtl_dir, const std::string& fst_path);

}  // namespace hw::cosim
