#include "arith/csd.h"

namespace hw::arith {

std::vector<SignedDigit> CsdDigits(int64_t v) {
  std::vector<SignedDigit> out;
  int shift = 0;
  while (v != 0) {
    if (v & 1) {
      // remainder mod 4 decides the digit: 1 -> +1, 3 -> -1 (so the next bit becomes 0)
      const int64_t mod4 = v & 3;
      const bool neg = (mod4 == 3);
      out.push_back({shift, neg});
      v = neg ? v + 1 : v - 1;
    }
    v >>= 1;  // arithmetic shift; v is even here
    ++shift;
  }
  return out;
}

std::string CsdToString(const std::vector<SignedDigit>& digits) {
  if (digits.empty()) return "0";
  std::string s;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!s.empty()) s += ' ';
    s += it->neg ? "-2^" : "+2^";
    s += std::to_string(it->shift);
  }
  return s;
}

}  // namespace hw::arith
