#include "arith/csd.h"

#include <gtest/gtest.h>

#include <random>

namespace hw::arith {
namespace {

int64_t Value(const std::vector<SignedDigit>& d) {
  int64_t v = 0;
  for (const auto& x : d) v += (x.neg ? -1 : 1) * (int64_t{1} << x.shift);
  return v;
}

int PopCount(int64_t v) { return __builtin_popcountll(static_cast<uint64_t>(v < 0 ? -v : v)); }

void CheckCsd(int64_t v) {
  const auto d = CsdDigits(v);
  ASSERT_EQ(Value(d), v) << v;
  for (size_t i = 1; i < d.size(); ++i) {
    ASSERT_GT(d[i].shift, d[i - 1].shift) << v;
    ASSERT_GE(d[i].shift - d[i - 1].shift, 2) << "adjacent non-zero digits for " << v;
  }
  // canonical form never has more non-zero digits than plain binary of |v|
  ASSERT_LE(static_cast<int>(d.size()), PopCount(v)) << v;
}

TEST(Csd, KnownValues) {
  EXPECT_TRUE(CsdDigits(0).empty());
  EXPECT_EQ(CsdDigits(7), (std::vector<SignedDigit>{{0, true}, {3, false}}));
  EXPECT_EQ(CsdDigits(-1), (std::vector<SignedDigit>{{0, true}}));
  EXPECT_EQ(CsdDigits(-128), (std::vector<SignedDigit>{{7, true}}));
  EXPECT_EQ(CsdToString(CsdDigits(7)), "+2^3 -2^0");
  EXPECT_EQ(CsdToString(CsdDigits(0)), "0");
  // 0b1011_1011 = 187 = 256 - 64 - 4 - 1 -> 4 digits (binary needs 6)
  EXPECT_EQ(CsdDigits(187).size(), 4u);
}

TEST(Csd, ExhaustiveSixteenBitRange) {
  for (int64_t v = -70000; v <= 70000; ++v) CheckCsd(v);
}

TEST(Csd, RandomLargeValues) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) CheckCsd(static_cast<int64_t>(rng() >> 3) - (int64_t{1} << 60));
  CheckCsd((int64_t{1} << 61) - 1);
  CheckCsd(-(int64_t{1} << 61));
}

}  // namespace
}  // namespace hw::arith
