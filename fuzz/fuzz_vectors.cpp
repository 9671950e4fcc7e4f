// libFuzzer target: the inputs-file reader (hw::cosim::ParseVectors). The first byte selects the expected
// vector width (1..16), the rest is the file text. Any input must either parse or throw hw::Error.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/diag.h"
#include "cosim/cosim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int width = 1 + data[0] % 16;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const hw::reference::Batch b = hw::cosim::ParseVectors(text, "inputs.txt", width);
    if (b.cols() != width || b.rows() < 1) std::abort();
  } catch (const hw::Error&) {
  }
  return 0;
}
