// IDX reader (generator/data/idx.h) and the Fashion-MNIST preprocessing (generator/data/fashion_preprocess.h).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/diag.h"
#include "data/fashion_preprocess.h"
#include "data/idx.h"

namespace fs = std::filesystem;

namespace {

std::string TempDir() {
  const fs::path dir = fs::temp_directory_path() / ("hw_idx_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

std::string Header(uint8_t ndims, const std::vector<uint32_t>& dims) {
  std::string s = {0, 0, 8, static_cast<char>(ndims)};
  for (uint32_t d : dims) {
    s += static_cast<char>(d >> 24);
    s += static_cast<char>(d >> 16);
    s += static_cast<char>(d >> 8);
    s += static_cast<char>(d);
  }
  return s;
}

void WritePlain(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void WriteGz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

// Expects ReadIdx* to throw hw::Error whose message contains `needle` and names the file.
template <typename F>
void ExpectError(F f, const std::string& path, const std::string& needle) {
  try {
    f();
    FAIL() << "expected hw::Error containing '" << needle << "'";
  } catch (const hw::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
  }
}

std::string ImagesBytes() {
  // 2 images of 2x3
  std::string s = Header(3, {2, 2, 3});
  for (int i = 0; i < 12; ++i) s += static_cast<char>(i * 20);
  return s;
}

}  // namespace

TEST(Idx, ReadsPlainAndGzipImages) {
  const std::string dir = TempDir();
  for (bool gz : {false, true}) {
    const std::string path = dir + (gz ? "/img.gz" : "/img.idx");
    gz ? WriteGz(path, ImagesBytes()) : WritePlain(path, ImagesBytes());
    const hw::data::IdxImages img = hw::data::ReadIdxImages(path);
    EXPECT_EQ(img.count, 2);
    EXPECT_EQ(img.rows, 2);
    EXPECT_EQ(img.cols, 3);
    ASSERT_EQ(img.pixels.size(), 12u);
    EXPECT_EQ(img.pixels[11], 220);
    EXPECT_EQ(img.image(1)[0], 120);
  }
  fs::remove_all(dir);
}

TEST(Idx, ReadsLabels) {
  const std::string dir = TempDir();
  std::string s = Header(1, {3});
  s += std::string{7, 0, 9};
  WriteGz(dir + "/lab.gz", s);
  EXPECT_EQ(hw::data::ReadIdxLabels(dir + "/lab.gz"), (std::vector<uint8_t>{7, 0, 9}));
  fs::remove_all(dir);
}

TEST(Idx, MissingFile) {
  const std::string path = TempDir() + "/does-not-exist.gz";
  ExpectError([&] { hw::data::ReadIdxImages(path); }, path, "not found");
  ExpectError([&] { hw::data::ReadIdxLabels(path); }, path, "not found");
}

TEST(Idx, BadMagic) {
  const std::string dir = TempDir();
  // A label file read as images, and garbage.
  WritePlain(dir + "/labels.idx", Header(1, {3}) + std::string{1, 2, 3});
  ExpectError([&] { hw::data::ReadIdxImages(dir + "/labels.idx"); }, dir + "/labels.idx", "bad IDX magic");
  WriteGz(dir + "/junk.gz", "PK\x03\x04 this is not idx");
  ExpectError([&] { hw::data::ReadIdxLabels(dir + "/junk.gz"); }, dir + "/junk.gz", "bad IDX magic");
  fs::remove_all(dir);
}

TEST(Idx, Truncated) {
  const std::string dir = TempDir();
  const std::string full = ImagesBytes();
  WritePlain(dir + "/short.idx", full.substr(0, full.size() - 1));
  ExpectError([&] { hw::data::ReadIdxImages(dir + "/short.idx"); }, dir + "/short.idx", "truncated");
  WritePlain(dir + "/hdr.idx", full.substr(0, 6));
  ExpectError([&] { hw::data::ReadIdxImages(dir + "/hdr.idx"); }, dir + "/hdr.idx", "truncated");
  // A gzip stream cut in the middle.
  WriteGz(dir + "/full.gz", full);
  std::ifstream in(dir + "/full.gz", std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  WritePlain(dir + "/cut.gz", gz.substr(0, gz.size() / 2));
  ExpectError([&] { hw::data::ReadIdxImages(dir + "/cut.gz"); }, dir + "/cut.gz", "");
  fs::remove_all(dir);
}

TEST(Idx, TrailingData) {
  const std::string dir = TempDir();
  WritePlain(dir + "/long.idx", ImagesBytes() + "x");
  ExpectError([&] { hw::data::ReadIdxImages(dir + "/long.idx"); }, dir + "/long.idx", "trailing data");
  fs::remove_all(dir);
}

TEST(Idx, DatasetDirFromEnvironment) {
  const char* old = std::getenv("HW_FASHION_MNIST_DIR");
  const std::string saved = old ? old : "";
  ::setenv("HW_FASHION_MNIST_DIR", "/some/where", 1);
  EXPECT_EQ(hw::data::FashionMnistDir(), "/some/where");
  ::unsetenv("HW_FASHION_MNIST_DIR");
  EXPECT_EQ(hw::data::FashionMnistDir(), "/usr/share/datasets/fashion-mnist");
  if (old) ::setenv("HW_FASHION_MNIST_DIR", saved.c_str(), 1);
}

TEST(Idx, FashionMnistTestSet) {
  const std::string dir = hw::data::FashionMnistDir();
  if (!fs::exists(dir + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "Fashion-MNIST not installed in " << dir;
  const auto t = hw::data::ReadFashionMnist("t10k");
  EXPECT_EQ(t.images.count, 10000);
  EXPECT_EQ(t.images.rows, 28);
  EXPECT_EQ(t.images.cols, 28);
  ASSERT_EQ(t.labels.size(), 10000u);
  std::vector<int> per_class(10, 0);
  for (uint8_t l : t.labels) ++per_class[l];
  for (int c : per_class) EXPECT_EQ(c, 1000);
  EXPECT_THROW(hw::data::ReadFashionMnist("validation"), hw::Error);
}

TEST(FashionPreprocess, Names) {
  const auto p = hw::data::ParsePreprocess("pool2x2_u8");
  EXPECT_EQ(p.length(), 196);
  EXPECT_EQ(p.bits, 8);
  EXPECT_EQ(hw::data::ParsePreprocess("full_u4").length(), 784);
  EXPECT_EQ(hw::data::ParsePreprocess("pool4x4_u6").length(), 49);
  for (const char* bad : {"", "pool3x3_u8", "pool2x4_u8", "pool2x2_u9", "pool2x2_u0", "full", "pool2x2_u8 "})
    EXPECT_THROW(hw::data::ParsePreprocess(bad), hw::Error) << bad;
}

TEST(FashionPreprocess, PoolingRoundsHalfUp) {
  std::vector<uint8_t> img(28 * 28, 0);
  // Block (0,0): 10 11 / 12 12 -> 45/4 = 11.25 -> 11.  Block (0,1): 1 1 / 0 0 -> 0.5 -> 1.
  img[0] = 10, img[1] = 11, img[28] = 12, img[29] = 12;
  img[2] = 1, img[3] = 1;
  // Block (13,13): all 255 -> 255 (u8), 15 (u4 clamps round(255/16) = 16 to 15).
  for (int r = 26; r < 28; ++r)
    for (int c = 26; c < 28; ++c) img[r * 28 + c] = 255;
  const auto v = hw::data::FashionPreprocess("pool2x2_u8", img.data());
  ASSERT_EQ(v.size(), 196u);
  EXPECT_EQ(v[0], 11);
  EXPECT_EQ(v[1], 1);
  EXPECT_EQ(v[195], 255);
  const auto u4 = hw::data::FashionPreprocess("pool2x2_u4", img.data());
  EXPECT_EQ(u4[0], 1);  // 45 / 64 = 0.70 -> 1
  EXPECT_EQ(u4[195], 15);
  const auto full = hw::data::FashionPreprocess("full_u8", img.data());
  ASSERT_EQ(full.size(), 784u);
  EXPECT_EQ(full[1], 11);
  EXPECT_THROW(hw::data::FashionPreprocess("pool2x2_u8", img.data(), 14, 56), hw::Error);
}

TEST(FashionPreprocess, MismatchWithModelInputIsAnError) {
  EXPECT_NO_THROW(hw::data::CheckPreprocessMatchesInput("pool2x2_u8", 196, false, 8, "m.json"));
  EXPECT_THROW(hw::data::CheckPreprocessMatchesInput("pool2x2_u8", 784, false, 8, "m.json"), hw::Error);
  EXPECT_THROW(hw::data::CheckPreprocessMatchesInput("pool2x2_u8", 196, false, 4, "m.json"), hw::Error);
  EXPECT_THROW(hw::data::CheckPreprocessMatchesInput("pool2x2_u8", 196, true, 8, "m.json"), hw::Error);
}
