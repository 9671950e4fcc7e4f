// A file of the generated output, in memory until the driver writes the directory atomically.
#pragma once

#include <string>

namespace hw::emit {

struct EmittedFile {
  std::string name;  // file name inside the output directory
  std::string text;
};

}  // namespace hw::emit
