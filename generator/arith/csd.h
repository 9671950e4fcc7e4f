// Canonical signed digit (CSD) recoding: the unique signed-binary form of an integer with no two adjacent
// non-zero digits, hence the minimum number of non-zero digits.
//   Example: 7 = 0b111 -> digits {+1 at 3, -1 at 0}  (8 - 1)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hw::arith {

struct SignedDigit {
  int shift = 0;    // weight 2^shift
  bool neg = false;  // digit is -1 when true, +1 otherwise
  bool operator==(const SignedDigit&) const = default;
};

// Non-zero digits of v, lowest shift first. Empty for v == 0. Valid for |v| < 2^62.
std::vector<SignedDigit> CsdDigits(int64_t v);
// Human-readable form, e.g. 7 -> "+2^3 -2^0", 0 -> "0".
std::string CsdToString(const std::vector<SignedDigit>& digits);

}  // namespace hw::arith
