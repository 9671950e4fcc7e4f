#include "common/file_util.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/diag.h"

namespace hw {

std::string ReadFileOrThrow(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string reason = std::strerror(errno);
    throw Error(Location{path, "", ""}, "cannot open " + (what.empty() ? std::string("file") : what) + ": " + reason);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(Location{path, "", ""}, "read error");
  return ss.str();
}

void WriteFileOrThrow(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(Location{path, "", ""}, std::string("cannot write file: ") + std::strerror(errno));
  out << contents;
  out.close();
  if (!out) throw Error(Location{path, "", ""}, "write error");
}

}  // namespace hw
