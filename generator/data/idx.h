// Reader for IDX files (the MNIST / Fashion-MNIST container format), gzip-compressed or not.
//
//   magic (4 bytes, big-endian): 0x00 0x00 <type> <ndims>, type 0x08 = unsigned byte
//   ndims sizes (4 bytes each, big-endian), then the data, row-major.
//
// Images are files with type 0x08 and 3 dimensions (count, rows, cols); labels are type 0x08 with 1 dimension.
// Errors (missing file, bad magic, truncated data, ...) throw hw::Error naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hw::data {

struct IdxImages {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols, image-major then row-major

  const uint8_t* image(int i) const { return pixels.data() + static_cast<size_t>(i) * rows * cols; }
};

// Reads an idx3-ubyte image file (".gz" or plain; zlib detects which).
IdxImages ReadIdxImages(const std::string& path);
// Reads an idx1-ubyte label file.
std::vector<uint8_t> ReadIdxLabels(const std::string& path);

// Directory holding the Fashion-MNIST files (train-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, ...):
// $HW_FASHION_MNIST_DIR if set and non-empty, else /usr/share/datasets/fashion-mnist (Debian package
// dataset-fashion-mnist).
std::string FashionMnistDir();

// One split of Fashion-MNIST: `split` is "train" (60,000 images) or "t10k" (10,000 images).
struct LabeledImages {
  IdxImages images;
  std::vector<uint8_t> labels;
};
// Reads <dir>/<split>-images-idx3-ubyte.gz and the matching labels, checks counts agree and labels are 0..9.
// `dir` empty means FashionMnistDir().
LabeledImages ReadFashionMnist(const std::string& split, const std::string& dir = "");

}  // namespace hw::data
