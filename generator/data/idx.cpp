#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "common/diag.h"

namespace hw::data {

namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& message) {
  throw Error(Location{path, "", ""}, message);
}

struct GzCloser {
  void operator()(gzFile f) const {
    if (f) gzclose(f);
  }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

GzHandle Open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) Fail(path, "IDX file not found");
  if (std::filesystem::is_directory(path, ec)) Fail(path, "expected an IDX file, found a directory");
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) Fail(path, std::string("cannot open IDX file: ") + (errno ? std::strerror(errno) : "out of memory"));
  return GzHandle(f);
}

// Reads exactly `n` bytes; throws on a short read (truncated file) or a decompression error.
void ReadExact(gzFile f, const std::string& path, void* dst, size_t n, const char* what) {
  auto* out = static_cast<unsigned char*>(dst);
  size_t done = 0;
  while (done < n) {
    const size_t chunk = std::min<size_t>(n - done, size_t{1} << 30);
    const int got = gzread(f, out + done, static_cast<unsigned>(chunk));
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      Fail(path, std::string("read error in ") + what + ": " + (msg ? msg : "unknown zlib error"));
    }
    if (got == 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      std::string detail = (errnum != Z_OK && msg && *msg) ? std::string(" (") + msg + ")" : "";
      Fail(path, "truncated IDX file: expected " + std::to_string(n) + " bytes of " + what + ", got " +
                     std::to_string(done) + detail);
    }
    done += static_cast<size_t>(got);
  }
}

uint32_t BigEndian32(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// Reads the header, checks the magic, returns the dimension sizes.
std::vector<uint32_t> ReadHeader(gzFile f, const std::string& path, int expected_dims, const char* kind) {
  unsigned char magic[4];
  ReadExact(f, path, magic, 4, "header");
  char buf[64];
  std::snprintf(buf, sizeof buf, "0x%02x%02x%02x%02x", magic[0], magic[1], magic[2], magic[3]);
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != expected_dims) {
    char want[32];
    std::snprintf(want, sizeof want, "0x000008%02x", expected_dims);
    Fail(path, std::string("bad IDX magic ") + buf + ": expected " + want + " (" + kind +
                   ", unsigned bytes, " + std::to_string(expected_dims) + " dimension" +
                   (expected_dims == 1 ? "" : "s") + ")");
  }
  std::vector<uint32_t> dims(expected_dims);
  for (int i = 0; i < expected_dims; ++i) {
    unsigned char b[4];
    ReadExact(f, path, b, 4, "header");
    dims[i] = BigEndian32(b);
  }
  return dims;
}

// Anything after the declared data is suspicious (wrong file or concatenated files).
void ExpectEnd(gzFile f, const std::string& path) {
  unsigned char extra;
  const int got = gzread(f, &extra, 1);
  if (got > 0) Fail(path, "trailing data after the declared IDX contents");
}

}  // namespace

IdxImages ReadIdxImages(const std::string& path) {
  GzHandle f = Open(path);
  const std::vector<uint32_t> dims = ReadHeader(f.get(), path, 3, "images");
  constexpr uint32_t kMaxCount = 10'000'000, kMaxSide = 4096;
  if (dims[0] > kMaxCount) Fail(path, "image count " + std::to_string(dims[0]) + " exceeds limit 10000000");
  if (dims[1] == 0 || dims[2] == 0 || dims[1] > kMaxSide || dims[2] > kMaxSide)
    Fail(path, "image size " + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) + " out of range 1..4096");
  IdxImages img;
  img.count = static_cast<int>(dims[0]);
  img.rows = static_cast<int>(dims[1]);
  img.cols = static_cast<int>(dims[2]);
  img.pixels.resize(static_cast<size_t>(img.count) * img.rows * img.cols);
  ReadExact(f.get(), path, img.pixels.data(), img.pixels.size(), "pixel data");
  ExpectEnd(f.get(), path);
  return img;
}

std::vector<uint8_t> ReadIdxLabels(const std::string& path) {
  GzHandle f = Open(path);
  const std::vector<uint32_t> dims = ReadHeader(f.get(), path, 1, "labels");
  if (dims[0] > 10'000'000u) Fail(path, "label count " + std::to_string(dims[0]) + " exceeds limit 10000000");
  std::vector<uint8_t> labels(dims[0]);
  ReadExact(f.get(), path, labels.data(), labels.size(), "label data");
  ExpectEnd(f.get(), path);
  return labels;
}

std::string FashionMnistDir() {
  const char* env = std::getenv("HW_FASHION_MNIST_DIR");
  if (env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

LabeledImages ReadFashionMnist(const std::string& split, const std::string& dir) {
  const std::string d = dir.empty() ? FashionMnistDir() : dir;
  if (split != "train" && split != "t10k")
    throw Error(Location{d, "", ""}, "unknown Fashion-MNIST split '" + split + "' (expected train or t10k)");
  const std::string images_path = (std::filesystem::path(d) / (split + "-images-idx3-ubyte.gz")).string();
  const std::string labels_path = (std::filesystem::path(d) / (split + "-labels-idx1-ubyte.gz")).string();
  LabeledImages out;
  out.images = ReadIdxImages(images_path);
  out.labels = ReadIdxLabels(labels_path);
  if (out.labels.size() != static_cast<size_t>(out.images.count))
    Fail(labels_path, std::to_string(out.labels.size()) + " labels but " + images_path + " holds " +
                          std::to_string(out.images.count) + " images");
  for (size_t i = 0; i < out.labels.size(); ++i)
    if (out.labels[i] > 9) Fail(labels_path, "label " + std::to_string(out.labels[i]) + " at index " +
                                                 std::to_string(i) + " out of range 0..9");
  return out;
}

}  // namespace hw::data
