// Ranges of sums by linear forms (used by the IR v2 range-analysis pass). Every add is written as
// c0 + sum_k c_k * a_k over atoms a_k: the values that are not adds (inputs, state reads, products, requants,
// table outputs, ...; registers are looked through). Its range is c0 + sum_k c_k * [lo_k, hi_k] taken at the
// better end for each k. That is sound (every value the add can take has this form with each a_k in its range)
// and never wider than interval arithmetic on the operands, and much tighter on shift-and-add graphs, where
// one input reaches an output along several paths: (x << 2) - x is 3x in [-384, 381] for an 8-bit x, not
// [-639, 636]. Forms with more than kMaxTerms atoms fall back to the interval (the add becomes an atom).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ir2/ir.h"

namespace hw::passes::ir2 {

class LinearRanges {
 public:
  static constexpr size_t kMaxTerms = 4096;
  explicit LinearRanges(const hw::ir2::Graph& g);
  // The range of add node `i`, whose operands' ranges are final; `interval` is the op table's interval rule.
  // Call in node order.
  hw::ir2::Range AddRange(int i, const hw::ir2::Range& interval);

 private:
  struct Form {
    __int128 constant = 0;
    std::vector<std::pair<int64_t, __int128>> terms;  // (atom key, coefficient), sorted by key, no zeros
  };
  const hw::ir2::Graph& g_;
  std::vector<std::unique_ptr<Form>> forms_;  // per node: its form, for adds that have one
};

}  // namespace hw::passes::ir2
