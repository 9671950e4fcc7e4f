#include "arith/cmvm_cse.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <queue>
#include <unordered_map>
#include <utility>

namespace hw::arith::cmvm_detail {

// ---------------------------------------------------------------------------------------------------------
// GraphBuilder

int IntervalBits(double lo, double hi) {
  if (lo >= 0) {
    if (hi < 1) return 1;
    return static_cast<int>(std::floor(std::log2(hi))) + 1;
  }
  const double mag = std::max(-lo, hi + 1);  // need -2^(b-1) <= lo and hi <= 2^(b-1) - 1
  return static_cast<int>(std::ceil(std::log2(mag))) + 1;
}

GraphBuilder::GraphBuilder(int num_inputs, const std::vector<InputRange>& ranges) {
  graph.num_inputs = num_inputs;
  depth_.assign(num_inputs, 0);
  lo_.resize(num_inputs);
  hi_.resize(num_inputs);
  for (int i = 0; i < num_inputs; ++i) {
    if (static_cast<int>(ranges.size()) == num_inputs) {
      lo_[i] = static_cast<double>(ranges[i].lo);
      hi_[i] = static_cast<double>(ranges[i].hi);
    } else {
      lo_[i] = -128;  // default: signed 8-bit activations
      hi_[i] = 127;
    }
  }
}

int GraphBuilder::Width(int node) const { return IntervalBits(lo_[node], hi_[node]); }

int GraphBuilder::AddAdder(const Term& a, const Term& b) {
  const int id = num_nodes();
  graph.adders.push_back({a, b});
  depth_.push_back(1 + std::max(depth_[a.node], depth_[b.node]));
  auto range = [&](const Term& t, double& l, double& h) {
    const double f = std::ldexp(1.0, t.shift);
    l = lo_[t.node] * f;
    h = hi_[t.node] * f;
    if (t.neg) {
      std::swap(l, h);
      l = -l;
      h = -h;
    }
  };
  double la, ha, lb, hb;
  range(a, la, ha);
  range(b, lb, hb);
  lo_.push_back(la + lb);
  hi_.push_back(ha + hb);
  total_width_ += IntervalBits(la + lb, ha + hb);
  return id;
}

namespace {

// ---------------------------------------------------------------------------------------------------------
// Pattern keys. A pattern is an unordered pair of row terms, normalised so that `first` has the smaller
// (node, shift); key = first.node | second.node | shift(second) - shift(first) | sign(first) != sign(second).

inline uint64_t PairKey(const RowTerm& t, const RowTerm& u) {
  const bool t_first = t.node < u.node || (t.node == u.node && t.shift < u.shift);
  const RowTerm& f = t_first ? t : u;
  const RowTerm& s = t_first ? u : t;
  const int d = s.shift - f.shift;
  return (static_cast<uint64_t>(f.node) << 40) | (static_cast<uint64_t>(s.node) << 16) |
         (static_cast<uint64_t>(d + 128) << 1) | static_cast<uint64_t>(f.neg != s.neg);
}
inline int KeyA(uint64_t k) { return static_cast<int>(k >> 40); }
inline int KeyB(uint64_t k) { return static_cast<int>((k >> 16) & 0xFFFFFF); }
inline int KeyD(uint64_t k) { return static_cast<int>((k >> 1) & 0xFF) - 128; }
inline bool KeyS(uint64_t k) { return (k & 1) != 0; }


struct CountSlot {
  uint64_t key = 0;
  int32_t val = 0;
  int32_t reg = 0;  // count of the key's highest entry in the heap (0: none); entries may be stale-high
};

// Buffers of one CSE run, kept per thread and reused by the next run: the optimizer makes many small runs, and
// allocating (and page-faulting) fresh tables for each of them cost more than the counting itself.
struct CseScratch {
  std::vector<CountSlot> slots, slots_old;
  std::vector<int32_t> occ;
  std::vector<int32_t> dense_val, dense_reg;
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> buckets;
  std::vector<size_t> heaped;
  size_t buckets_used = 0;  // buckets [0, buckets_used) may hold entries of the last run
};
CseScratch& Scratch() {
  thread_local CseScratch s;
  return s;
}

// Open-addressing hash map uint64 key (never 0) -> int32 count; key and count share one slot (one cache line).
class CountMap {
 public:
  CountMap(size_t expected, std::vector<CountSlot>& slots, std::vector<CountSlot>& spare)
      : slots_(slots), spare_(spare) {
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    slots_.assign(cap, CountSlot{});
    mask_ = cap - 1;
  }
  int32_t& Ref(uint64_t key) { return Slot(key).val; }
  CountSlot& Slot(uint64_t key) {
    size_t i = Home(key);
    while (slots_[i].key != 0) {
      if (slots_[i].key == key) return slots_[i];
      i = (i + 1) & mask_;
    }
    if ((size_ + 1) * 10 > slots_.size() * 7) {
      Grow();
      return Slot(key);
    }
    slots_[i].key = key;
    ++size_;
    return slots_[i];
  }
  CountSlot* Find(uint64_t key) {
    size_t i = Home(key);
    while (slots_[i].key != 0) {
      if (slots_[i].key == key) return &slots_[i];
      i = (i + 1) & mask_;
    }
    return nullptr;
  }
  int32_t Get(uint64_t key) const {
    size_t i = Home(key);
    while (slots_[i].key != 0) {
      if (slots_[i].key == key) return slots_[i].val;
      i = (i + 1) & mask_;
    }
    return 0;
  }
  void Prefetch(uint64_t key) const { __builtin_prefetch(&slots_[Home(key)]); }
  template <class F>
  void ForEachSlot(F&& f) {
    for (CountSlot& e : slots_)
      if (e.key != 0) f(e);
  }

 private:
  size_t Home(uint64_t key) const { return static_cast<size_t>(Mix(key)) & mask_; }
  void Grow() {
    spare_.swap(slots_);  // spare_ = old table
    size_t live = 0;
    for (const CountSlot& e : spare_) live += e.key != 0 && (e.val != 0 || e.reg != 0);
    size_t cap = 16;
    while (cap < (live + 1) * 3) cap <<= 1;  // load 1/6 .. 1/3 after growing, at most 0.7 (see Slot)
    slots_.assign(cap, CountSlot{});
    mask_ = cap - 1;
    size_ = 0;
    for (const CountSlot& e : spare_)
      if (e.key != 0 && (e.val != 0 || e.reg != 0)) {
        size_t j = Home(e.key);
        while (slots_[j].key != 0) j = (j + 1) & mask_;
        slots_[j] = e;
        ++size_;
      }
    if (spare_.size() > (size_t{1} << 20)) std::vector<CountSlot>().swap(spare_);  // large: give the memory back
  }
  std::vector<CountSlot>& slots_;
  std::vector<CountSlot>& spare_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Pair counts of one CSE run. Keys whose two nodes are both among the run's first `n0` local nodes (the nodes of
// the rows it starts from: the input columns of a block, where nearly every key occurs) live in a dense
// triangular array indexed by (node a <= node b, relative shift, sign); the keys of a node created by the run
// live in the hash map. The dense part is a quarter of the map's bytes per key and, with the rows' terms in
// node order, its updates walk memory in order: the map's cache misses were ~45 % of a 128 x 196 int8 solve.
class PairCounts {
 public:
  struct Ref {
    int32_t* val;
    int32_t* reg;
  };
  // n0 = 0: hash map only. span: the largest |relative shift| of a pair of the first n0 nodes.
  PairCounts(size_t expected_map, int n0, int span, CseScratch& s)
      : map_(expected_map, s.slots, s.slots_old), val_(s.dense_val), reg_(s.dense_reg), n0_(n0), span_(span) {
    stride_ = 2 * (2 * span + 1);
    const size_t n = n0 > 0 ? Tri(n0) * stride_ : 0;
    val_.assign(n, 0);
    reg_.assign(n, 0);
  }
  // Dense entries a triangular array of n0 nodes would need (the caller caps it).
  static size_t DenseSize(int n0, int span) { return Tri(n0) * 2 * (2 * static_cast<size_t>(span) + 1); }

  Ref Slot(uint64_t key) {
    if (Dense(key)) return {&val_[Index(key)], &reg_[Index(key)]};
    CountSlot& e = map_.Slot(key);
    return {&e.val, &e.reg};
  }
  int32_t* FindVal(uint64_t key) {
    if (Dense(key)) return &val_[Index(key)];
    CountSlot* e = map_.Find(key);
    return e ? &e->val : nullptr;
  }
  int32_t Get(uint64_t key) const { return Dense(key) ? val_[Index(key)] : map_.Get(key); }
  void Prefetch(uint64_t key) const {
    if (Dense(key)) {
      __builtin_prefetch(&val_[Index(key)]);
    } else {
      map_.Prefetch(key);
    }
  }
  int32_t& Ref0(uint64_t key) { return Dense(key) ? val_[Index(key)] : map_.Ref(key); }
  // f(key, val, reg) for every stored key.
  template <class F>
  void ForEach(F&& f) {
    size_t i = 0;
    for (int a = 0; a < n0_; ++a)
      for (int b = a; b < n0_; ++b)
        for (int d = -span_; d <= span_; ++d)
          for (int sg = 0; sg < 2; ++sg, ++i)
            if (val_[i] != 0)
              f((static_cast<uint64_t>(a) << 40) | (static_cast<uint64_t>(b) << 16) |
                    (static_cast<uint64_t>(d + 128) << 1) | static_cast<uint64_t>(sg),
                val_[i], reg_[i]);
    map_.ForEachSlot([&](CountSlot& e) { f(e.key, e.val, e.reg); });
  }

 private:
  static size_t Tri(int n) { return static_cast<size_t>(n) * (static_cast<size_t>(n) + 1) / 2; }
  bool Dense(uint64_t key) const { return static_cast<int>((key >> 16) & 0xFFFFFF) < n0_; }  // node b < n0
  size_t Index(uint64_t key) const {
    const size_t a = key >> 40, b = (key >> 16) & 0xFFFFFF;
    const size_t d = ((key >> 1) & 0xFF) - 128 + span_;
    // row a of the triangle starts at a * n0 - a (a - 1) / 2
    return (a * n0_ - a * (a - 1) / 2 + (b - a)) * stride_ + d * 2 + (key & 1);
  }
  CountMap map_;
  std::vector<int32_t>& val_;
  std::vector<int32_t>& reg_;
  int n0_;
  int span_;
  size_t stride_ = 0;
};

// Max-queue of (priority, key) entries, popped in the same order as one binary heap of the pairs, but kept as
// one heap per score (priority >> 32 >> shift): entries pushed below the top score are only appended and
// heapified when their score reaches the top, and the top heap is small. The lazy global heap spent ~30 % of a
// 128 x 196 int8 solve re-sifting millions of stale entries.
class ScoreQueue {
 public:
  using Entry = std::pair<uint64_t, uint64_t>;
  ScoreQueue(int shift, CseScratch& s) : buckets_(s.buckets), heaped_(s.heaped), used_(s.buckets_used), shift_(shift) {
    // Only the buckets the last run touched: after one large run, the many small ones that follow must not pay
    // for clearing its (possibly millions of) buckets.
    for (size_t i = 0; i < used_; ++i) buckets_[i].clear(), heaped_[i] = 0;
    used_ = 0;
  }
  void Push(uint64_t prio, uint64_t key) {
    const size_t i = static_cast<size_t>(prio >> 32) >> shift_;
    if (i >= buckets_.size()) {
      buckets_.resize(i + 1);
      heaped_.resize(i + 1, 0);
    }
    buckets_[i].push_back({prio, key});
    used_ = std::max(used_, i + 1);
    top_ = std::max(top_, static_cast<int64_t>(i));
  }
  bool Empty() {
    while (top_ >= 0 && buckets_[top_].empty()) {
      // A large emptied bucket gives its memory back (scores mostly fall: it is rarely refilled).
      if (buckets_[top_].capacity() > 4096) std::vector<Entry>().swap(buckets_[top_]);
      --top_;
    }
    return top_ < 0;
  }
  // The top entry, or null when the queue is empty. Before entries new to the top heap are heapified, `keep(entry)` may drop
  // them (returns false; it may push the key again below the top): one linear pass over entries that went stale
  // instead of sifting each of them through the heap (a 128 x 196 int8 solve pops ~500 entries per adder).
  template <class Keep>
  const Entry* Top(Keep&& keep) {
    for (;;) {
      if (Empty()) return nullptr;
      auto& v = buckets_[top_];
      size_t& h = heaped_[top_];
      if (h == v.size()) break;
      size_t out = h;
      for (size_t k = h; k < v.size(); ++k)
        if (keep(v[k])) v[out++] = v[k];
      v.resize(out);
      if (!v.empty()) break;
    }
    auto& v = buckets_[top_];
    size_t& h = heaped_[top_];
    if (h < v.size()) {
      if (h < v.size() / 2) {
        std::make_heap(v.begin(), v.end());
      } else {
        for (size_t k = h; k < v.size(); ++k) std::push_heap(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k) + 1);
      }
      h = v.size();
    }
    return &v.front();
  }
  // Removes the entry Top returned (Top must have been called since the last Push).
  Entry Pop() {
    auto& v = buckets_[top_];
    std::pop_heap(v.begin(), v.end());
    const Entry e = v.back();
    v.pop_back();
    heaped_[top_] = v.size();
    return e;
  }

 private:
  std::vector<std::vector<Entry>>& buckets_;
  std::vector<size_t>& heaped_;
  size_t& used_;
  int shift_;
  int64_t top_ = -1;
};

struct Occurrence {
  int row;
  int i;  // index of the `first` term in the row
  int j;  // index of the `second` term
};

class CseEngine {
 public:
  CseEngine(GraphBuilder& b, std::vector<std::vector<RowTerm>>& rows, const CseParams& p)
      : b_(b), rows_(rows), p_(p), R_(static_cast<int>(rows.size())), n0_(DenseNodes(rows, p.dense_entries)),
        counts_(n0_ > 0 ? 1024 : EstimatePairs(rows), n0_, ShiftSpan(rows), Scratch()),
        occ_(Scratch().occ), queue_(p.row_capacity.empty() ? 0 : 6, Scratch()) {
    sparse_keys_ = n0_ == 0 && (p.sort_first_count < 0 ? SparseKeys(rows) : p.sort_first_count > 0);
    constrained_ = !p.row_capacity.empty();
    // Work on local node ids (only the nodes occurring in these rows), so that per-block state stays small.
    std::unordered_map<int, int> local;
    for (auto& row : rows_)
      for (RowTerm& t : row) {
        auto [it, fresh] = local.emplace(t.node, static_cast<int>(global_.size()));
        if (fresh) {
          global_.push_back(t.node);
          depth_.push_back(b_.depth(t.node));
        }
        t.node = it->second;
      }
    if (constrained_) {
      load_.assign(R_, 0);
      for (int r = 0; r < R_; ++r)
        for (const RowTerm& t : rows_[r]) load_[r] += Pow2(depth_[t.node]);
    }
    occ_.assign(global_.size() * R_, 0);
    for (int r = 0; r < R_; ++r)
      for (const RowTerm& t : rows_[r]) ++occ_[static_cast<size_t>(t.node) * R_ + r];
  }

  void Run() {
    if (sparse_keys_) {
      // Mostly distinct keys (e.g. the CSE across column blocks, whose rows hold many different nodes): count by
      // sorting and keep only keys occurring twice or more (the others can never be extracted; Dec ignores
      // absent keys), so the map holds the useful statistics only.
      // In `parts` passes over the pairs, each sorting the keys of one hash class, so that the buffer stays
      // within CseParams::sort_pass_keys keys (8e6 = 64 MB; the 128 x 784 CSE across blocks has ~8e7 pairs).
      std::vector<uint64_t>& all = new_keys_;
      double pairs = 0;
      for (const auto& row : rows_) pairs += 0.5 * static_cast<double>(row.size()) * static_cast<double>(row.size());
      const uint64_t parts = static_cast<uint64_t>(std::max(1.0, std::ceil(pairs / std::max(1.0, p_.sort_pass_keys))));
      for (uint64_t part = 0; part < parts; ++part) {
        all.clear();
        for (int r = 0; r < R_; ++r) {
          const auto& row = rows_[r];
          for (size_t i = 0; i < row.size(); ++i)
            for (size_t j = i + 1; j < row.size(); ++j) {
              const uint64_t k = PairKey(row[i], row[j]);
              if (parts == 1 || (Mix(k) >> 40) % parts == part) all.push_back(k);
            }
        }
        std::sort(all.begin(), all.end());
        for (size_t u = 0; u < all.size();) {
          size_t v = u + 1;
          while (v < all.size() && all[v] == all[u]) ++v;
          if (v - u >= 2) counts_.Ref0(all[u]) = static_cast<int32_t>(v - u);
          u = v;
        }
      }
      std::vector<uint64_t>().swap(all);
    } else {
      for (int r = 0; r < R_; ++r) {
        const auto& row = rows_[r];
        for (size_t i = 0; i < row.size(); ++i)
          for (size_t j = i + 1; j < row.size(); ++j) ++counts_.Ref0(PairKey(row[i], row[j]));
      }
    }
    counts_.ForEach([&](uint64_t key, int32_t val, int32_t& reg) {
      if (val >= p_.min_count) {
        queue_.Push(Prio(val, key), key);
        reg = val;
      }
    });

    std::vector<Occurrence> occs;
    uint64_t key;
    int64_t score;
    int count;
    const int look = std::max(1, p_.lookahead);
    while (PopValid(key, score, count, occs)) {
      if (look > 1 && TopScore() == score) {
        // Several patterns tie: take the one whose substitution destroys the fewest other repeated pairs.
        cand_keys_.assign(1, key);
        cand_counts_.assign(1, count);
        if (cand_occs_.size() < static_cast<size_t>(look)) cand_occs_.resize(look);
        cand_occs_[0].swap(occs);
        while (static_cast<int>(cand_keys_.size()) < look && TopScore() == score) {
          uint64_t k2;
          int64_t s2;
          int c2;
          if (!PopValid(k2, s2, c2, occs)) break;
          if (s2 != score) {
            Push(c2, k2);
            break;
          }
          cand_occs_[cand_keys_.size()].swap(occs);
          cand_keys_.push_back(k2);
          cand_counts_.push_back(c2);
        }
        size_t pick = 0;
        int64_t best = -1;
        for (size_t c = 0; c < cand_keys_.size(); ++c) {
          const int64_t cost = OverlapCost(cand_occs_[c], best);
          if (best < 0 || cost < best) best = cost, pick = c;
        }
        for (size_t c = 0; c < cand_keys_.size(); ++c)
          if (c != pick) Push(cand_counts_[c], cand_keys_[c]);
        key = cand_keys_[pick];
        occs.swap(cand_occs_[pick]);
      }
      Apply(key, occs);
    }
    for (auto& row : rows_)
      for (RowTerm& t : row) t.node = global_[t.node];
  }

 private:
  static size_t EstimatePairs(const std::vector<std::vector<RowTerm>>& rows) {
    // At most one key per pair occurrence, and at most one per (node pair, relative shift, sign): large matrices
    // repeat the same few keys millions of times, so the second bound keeps the table (and its cache misses) small.
    size_t n = 0;
    int lo = 1 << 30, hi = -(1 << 30), top = 0;
    for (const auto& r : rows) {
      n += r.size() * (r.size() - (r.empty() ? 0 : 1)) / 2;
      for (const RowTerm& t : r) lo = std::min(lo, t.shift), hi = std::max(hi, t.shift), top = std::max(top, t.node);
    }
    const double nodes = std::min<double>(top + 1.0, static_cast<double>(n) + 1.0);
    const double keys = nodes * (nodes + 1) / 2 * (2.0 * std::max(0, hi - lo) + 1) * 2;
    return static_cast<size_t>(std::min({static_cast<double>(n / 2 + 64), keys + 64, double{1 << 20}}));
  }
  // True when the pairs of `rows` are mostly distinct keys (more than 1e6 pairs and a key space larger than the
  // number of pairs): then the first count is made by sorting, not in the map.
  static bool SparseKeys(const std::vector<std::vector<RowTerm>>& rows) {
    size_t n = 0;
    int lo = 1 << 30, hi = -(1 << 30), top = 0;
    for (const auto& r : rows) {
      n += r.size() * (r.size() - (r.empty() ? 0 : 1)) / 2;
      for (const RowTerm& t : r) lo = std::min(lo, t.shift), hi = std::max(hi, t.shift), top = std::max(top, t.node);
    }
    const double nodes = top + 1.0;
    const double keys = nodes * (nodes + 1) / 2 * (2.0 * std::max(0, hi - lo) + 1) * 2;
    return n > 1000000 && keys > static_cast<double>(n);
  }
  // Number of distinct nodes in `rows` when their pair counts fit the dense array (at most `limit` entries;
  // default 2^24, 64 MB per array), else 0. Local ids are given in order of first occurrence, so these are
  // exactly local nodes 0 .. n0 - 1.
  static int DenseNodes(const std::vector<std::vector<RowTerm>>& rows, size_t limit) {
    std::vector<int> nodes;
    for (const auto& r : rows)
      for (const RowTerm& t : r) nodes.push_back(t.node);
    std::sort(nodes.begin(), nodes.end());
    const int n = static_cast<int>(std::unique(nodes.begin(), nodes.end()) - nodes.begin());
    return n >= 2 && PairCounts::DenseSize(n, ShiftSpan(rows)) <= limit ? n : 0;
  }
  static int ShiftSpan(const std::vector<std::vector<RowTerm>>& rows) {
    int lo = 1 << 30, hi = -(1 << 30);
    for (const auto& r : rows)
      for (const RowTerm& t : r) lo = std::min(lo, t.shift), hi = std::max(hi, t.shift);
    return hi < lo ? 0 : hi - lo;
  }
  static uint64_t Pow2(int d) { return d >= 63 ? (uint64_t{1} << 62) : (uint64_t{1} << d); }

  // Score of the queue's top entry (-1: empty).
  int64_t TopScore() {
    auto keep = [&](const ScoreQueue::Entry& e) { return Keep(e); };
    const ScoreQueue::Entry* e = queue_.Top(keep);
    return e == nullptr ? -1 : static_cast<int64_t>(e->first >> 32);
  }
  // Whether a queue entry may still be the best pattern: false for a superseded entry (dropped), for a key whose
  // exact count is known cheaply and fell below the entry (pushed again at that count) or below min_count.
  // Entries whose exact count needs FindOccurrences are kept and checked when popped (PopValid).
  bool Keep(const ScoreQueue::Entry& e) {
    const int64_t entry = static_cast<int64_t>(e.first >> 32);
    const uint64_t k0 = e.second;
    const PairCounts::Ref slot = counts_.Slot(k0);
    if (*slot.reg != EntryCount(entry)) return false;
    const int cur = *slot.val;
    if (cur < p_.min_count) {
      *slot.reg = 0;
      return false;
    }
    if (KeyA(k0) == KeyB(k0) || (constrained_ && depth_[KeyA(k0)] != depth_[KeyB(k0)])) return true;
    if (Score(cur, k0) < entry) {
      Push(cur, k0);
      return false;
    }
    return true;
  }
  // Pops heap entries until one is current and exact; returns it with its occurrences (false: heap empty).
  bool PopValid(uint64_t& key, int64_t& score, int& count, std::vector<Occurrence>& occs) {
    auto keep = [&](const ScoreQueue::Entry& e) { return Keep(e); };
    while (queue_.Top(keep) != nullptr) {
      const ScoreQueue::Entry top = queue_.Pop();
      const uint64_t prio = top.first, k0 = top.second;
      const int64_t entry = static_cast<int64_t>(prio >> 32);
      const PairCounts::Ref slot = counts_.Slot(k0);
      const int cur = *slot.val;
      if (*slot.reg != EntryCount(entry)) continue;  // an older, superseded entry of this key
      *slot.reg = 0;
      if (cur < p_.min_count) continue;
      int k;
      occs.clear();
      if (KeyA(k0) != KeyB(k0) && (!constrained_ || depth_[KeyA(k0)] == depth_[KeyB(k0)])) {
        k = cur;  // exact: distinct nodes never overlap, and equal depths never raise a row's load
      } else {
        FindOccurrences(k0, occs);
        k = static_cast<int>(occs.size());
      }
      if (Score(k, k0) < entry) {
        if (k >= p_.min_count) Push(k, k0);
        continue;
      }
      if (occs.empty()) FindOccurrences(k0, occs);
      key = k0;
      score = entry;
      count = k;
      return true;
    }
    return false;
  }

  // What substituting `occs` destroys: every other pair of the touched rows that shares a term with an
  // occurrence loses that occurrence; summed over such pairs, (count - 1), i.e. the adders they could still save.
  // Stops early once the cost reaches `limit` (if limit >= 0): the caller only needs to know it is not lower.
  int64_t OverlapCost(const std::vector<Occurrence>& occs, int64_t limit) {
    int64_t cost = 0;
    for (const Occurrence& o : occs) {
      const auto& row = rows_[o.row];
      for (int t = 0; t < static_cast<int>(row.size()); ++t) {
        if (t == o.i || t == o.j) continue;
        const int c1 = counts_.Get(PairKey(row[o.i], row[t])), c2 = counts_.Get(PairKey(row[o.j], row[t]));
        cost += std::max(c1 - 1, 0) + std::max(c2 - 1, 0);
        if (limit >= 0 && cost >= limit) return cost;
      }
    }
    return cost;
  }

  // Count of a heap entry from its score (inverse of Score in the count).
  int EntryCount(int64_t score) const {
    if (!constrained_) return static_cast<int>(score);
    return static_cast<int>((score + 4095) / 4096);
  }
  // Primary priority of a pattern. Unconstrained: its count. Depth-bounded: its count, then (among equal
  // counts) the smaller growth 2^{d_new} - 2^{d_a} - 2^{d_b} of the rows' depth load, i.e. balanced pairs
  // (equal operand depths, growth 0) first: they leave the rows' depth slack for later patterns.
  int64_t Score(int count, uint64_t key) const {
    if (!constrained_) return count;
    const int a = KeyA(key), bn = KeyB(key);
    const int dp = std::max(depth_[a], depth_[bn]) + 1;
    const int64_t g = static_cast<int64_t>(Pow2(dp) - Pow2(depth_[a]) - Pow2(depth_[bn]));
    return count * 4096 - std::min<int64_t>(g, 63) * 64;
  }
  uint64_t Prio(int count, uint64_t key) const {
    // tie-break among equal scores: narrow patterns first (small relative shift, cheaper adders), or with
    // deep_first the deeper operands first (depth_a + depth_b), then a seeded hash (seed 0 = fixed order; other
    // seeds give the restarts their variety).
    const int d = std::abs(KeyD(key));
    const uint64_t h = p_.seed == 0 ? Mix(key) : Mix(key ^ Mix(p_.seed));
    const int first = p_.deep_first ? std::min(63, 4 * (depth_[KeyA(key)] + depth_[KeyB(key)])) : 63 - std::min(d, 63);
    const uint32_t tb = (static_cast<uint32_t>(first) << 26) | static_cast<uint32_t>(h & ((1u << 26) - 1));
    return (static_cast<uint64_t>(Score(count, key)) << 32) | tb;
  }
  void Push(int count, uint64_t key) {
    *counts_.Slot(key).reg = count;
    queue_.Push(Prio(count, key), key);
  }
  // Keys absent from the map never reached a count of 2 (see Apply): nothing to decrement.
  void Dec(uint64_t key) {
    if (int32_t* v = counts_.FindVal(key)) --*v;
  }

  void FindOccurrences(uint64_t key, std::vector<Occurrence>& out) {
    const int a = KeyA(key), bn = KeyB(key), d = KeyD(key);
    const bool s = KeyS(key);
    const int dp = std::max(depth_[a], depth_[bn]) + 1;
    const uint64_t grow = constrained_ ? Pow2(dp) - Pow2(depth_[a]) - Pow2(depth_[bn]) : 0;
    const size_t oa = static_cast<size_t>(a) * R_, ob = static_cast<size_t>(bn) * R_;
    for (int r = 0; r < R_; ++r) {
      if (occ_[oa + r] == 0 || occ_[ob + r] == 0 || (a == bn && occ_[oa + r] < 2)) continue;
      const auto& row = rows_[r];
      uint64_t load = constrained_ ? load_[r] : 0;
      const uint64_t cap = constrained_ ? p_.row_capacity[r] : 0;
      ta_.clear();
      tb_.clear();
      for (int i = 0; i < static_cast<int>(row.size()); ++i) {
        if (row[i].node == a) ta_.push_back(i);
        if (row[i].node == bn && a != bn) tb_.push_back(i);
      }
      if (a == bn) {
        std::sort(ta_.begin(), ta_.end(), [&](int x, int y) { return row[x].shift < row[y].shift; });
        used_.assign(ta_.size(), 0);
        for (size_t x = 0; x < ta_.size(); ++x) {
          if (used_[x]) continue;
          for (size_t y = x + 1; y < ta_.size(); ++y) {
            if (used_[y]) continue;
            const RowTerm& f = row[ta_[x]];
            const RowTerm& g = row[ta_[y]];
            if (g.shift - f.shift > d) break;
            if (g.shift - f.shift == d && (f.neg != g.neg) == s) {
              if (constrained_ && load + grow > cap) break;
              load += grow;
              used_[x] = used_[y] = 1;
              out.push_back({r, ta_[x], ta_[y]});
              break;
            }
          }
        }
      } else {
        for (int i : ta_) {
          const RowTerm& f = row[i];
          for (int j : tb_) {
            const RowTerm& g = row[j];
            if (g.shift - f.shift == d && (f.neg != g.neg) == s) {
              if (constrained_ && load + grow > cap) break;
              load += grow;
              out.push_back({r, i, j});
              break;
            }
          }
        }
      }
    }
  }

  void Apply(uint64_t key, const std::vector<Occurrence>& occs) {
    const int a = KeyA(key), bn = KeyB(key), d = KeyD(key);
    const bool s = KeyS(key);
    // node value: (x_a << max(0,-d)) + s * (x_b << max(0,d)); an occurrence (f, g) equals
    // sign(f) * (node << min(shift f, shift g)).
    const int gp = b_.AddAdder(Term{global_[a], std::max(0, -d), false}, Term{global_[bn], std::max(0, d), s});
    const int p = static_cast<int>(global_.size());
    global_.push_back(gp);
    depth_.push_back(b_.depth(gp));
    occ_.resize(global_.size() * R_, 0);
    const uint64_t grow = constrained_ ? Pow2(depth_[p]) - Pow2(depth_[a]) - Pow2(depth_[bn]) : 0;
    size_t x = 0;
    while (x < occs.size()) {
      const int r = occs[x].row;
      size_t y = x;
      while (y < occs.size() && occs[y].row == r) ++y;
      auto& row = rows_[r];
      removed_.assign(row.size(), 0);
      news_.clear();
      for (size_t z = x; z < y; ++z) {
        removed_[occs[z].i] = removed_[occs[z].j] = 1;
        const RowTerm& f = row[occs[z].i];
        const RowTerm& g = row[occs[z].j];
        news_.push_back({p, std::min(f.shift, g.shift), f.neg});
      }
      const int n = static_cast<int>(row.size());
      dec_keys_.clear();
      for (int i = 0; i < n; ++i) {
        if (!removed_[i]) continue;
        for (int j = 0; j < n; ++j)
          if (!removed_[j] || j > i) dec_keys_.push_back(PairKey(row[i], row[j]));
      }
      // Decrements are independent: fetching the counts a few keys ahead overlaps their cache misses (the
      // count lookups are most of a layer-sized solve).
      constexpr size_t kAhead = 12;
      for (size_t k = 0; k < dec_keys_.size(); ++k) {
        if (k + kAhead < dec_keys_.size()) counts_.Prefetch(dec_keys_[k + kAhead]);
        Dec(dec_keys_[k]);
      }
      kept_.clear();
      for (int i = 0; i < n; ++i)
        if (!removed_[i]) kept_.push_back(row[i]);
      for (size_t u = 0; u < news_.size(); ++u) {
        for (const RowTerm& k : kept_) new_keys_.push_back(PairKey(news_[u], k));
        for (size_t v = u + 1; v < news_.size(); ++v) new_keys_.push_back(PairKey(news_[u], news_[v]));
      }
      const int m = static_cast<int>(y - x);
      occ_[static_cast<size_t>(a) * R_ + r] -= m;
      occ_[static_cast<size_t>(bn) * R_ + r] -= m;
      occ_[static_cast<size_t>(p) * R_ + r] += m;
      if (constrained_) load_[r] += grow * m;
      kept_.insert(kept_.end(), news_.begin(), news_.end());
      row.swap(kept_);
      x = y;
    }
    // Every pair involving the new node p gets all its occurrences here, at p's creation (p's terms are never
    // added to a row later, and pairs with a younger node are counted at that node's creation). So the new keys
    // are counted exactly, locally, and only those occurring at least twice enter the map: the others can never
    // be extracted. This keeps the map at the size of the useful statistics (a 128 x 196 int8 matrix otherwise
    // accumulates tens of millions of count-1 keys).
    std::sort(new_keys_.begin(), new_keys_.end());
    size_t repeated = 0;  // the keys occurring twice or more, compacted to the front with their counts
    for (size_t u = 0; u < new_keys_.size();) {
      size_t v = u + 1;
      while (v < new_keys_.size() && new_keys_[v] == new_keys_[u]) ++v;
      if (v - u >= 2) {
        new_keys_[repeated++] = new_keys_[u];
        new_counts_.push_back(static_cast<int32_t>(v - u));
      }
      u = v;
    }
    for (size_t u = 0; u < repeated; ++u) {
      if (u + 8 < repeated) counts_.Prefetch(new_keys_[u + 8]);
      const uint64_t k = new_keys_[u];
      const PairCounts::Ref e = counts_.Slot(k);
      *e.val += new_counts_[u];
      if (*e.val >= p_.min_count && *e.val > *e.reg) {  // an entry at reg >= val is stale-high: corrected when popped
        *e.reg = *e.val;
        queue_.Push(Prio(*e.val, k), k);
      }
    }
    new_keys_.clear();
    new_counts_.clear();
  }

  GraphBuilder& b_;
  std::vector<std::vector<RowTerm>>& rows_;
  const CseParams& p_;
  int R_;
  bool constrained_ = false;
  bool sparse_keys_ = false;  // first count by sorting (see Run)
  std::vector<uint64_t> load_;
  std::vector<int> global_;  // local node id -> builder node id
  std::vector<int> depth_;   // depth of every local node
  int n0_;  // local nodes 0 .. n0_ - 1 have their pair counts in the dense array (0: none)
  PairCounts counts_;
  std::vector<int32_t>& occ_;  // occ_[node * R + row]: occurrences of the node in the row
  ScoreQueue queue_;
  // scratch
  std::vector<int> ta_, tb_;
  std::vector<char> used_, removed_;
  std::vector<RowTerm> news_, kept_;
  std::vector<uint64_t> new_keys_, dec_keys_;
  std::vector<int32_t> new_counts_;
  std::vector<uint64_t> cand_keys_;
  std::vector<int> cand_counts_;
  std::vector<std::vector<Occurrence>> cand_occs_;
};

}  // namespace

void RunCse(GraphBuilder& b, std::vector<std::vector<RowTerm>>& rows, const CseParams& params) {
  CseEngine e(b, rows, params);
  e.Run();
}

// ---------------------------------------------------------------------------------------------------------
// Final reduction of every row

RowTerm Combine(GraphBuilder& b, RowTerm t, RowTerm u) {
  if (t.neg && !u.neg) std::swap(t, u);
  const int m = std::min(t.shift, u.shift);
  const bool both_neg = t.neg && u.neg;
  const int id = b.AddAdder(Term{t.node, t.shift - m, false}, Term{u.node, u.shift - m, u.neg && !both_neg});
  return RowTerm{id, m, both_neg};
}

std::vector<Term> FinishRows(GraphBuilder& b, const std::vector<std::vector<RowTerm>>& rows) {
  std::vector<Term> out(rows.size());
  struct Item {
    int depth;
    int width;
    int order;
    RowTerm t;
  };
  auto worse = [](const Item& x, const Item& y) {
    if (x.depth != y.depth) return x.depth > y.depth;
    if (x.width != y.width) return x.width > y.width;
    return x.order > y.order;
  };
  std::vector<Item> heap;
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.empty()) {
      out[r] = Term{-1, 0, false};
      continue;
    }
    heap.clear();
    int order = 0;
    for (const RowTerm& t : row) heap.push_back({b.depth(t.node), b.Width(t.node) + t.shift, order++, t});
    std::make_heap(heap.begin(), heap.end(), worse);
    while (heap.size() > 1) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      Item x = heap.back();
      heap.pop_back();
      std::pop_heap(heap.begin(), heap.end(), worse);
      Item y = heap.back();
      heap.pop_back();
      RowTerm c = Combine(b, x.t, y.t);
      heap.push_back({b.depth(c.node), b.Width(c.node) + c.shift, order++, c});
      std::push_heap(heap.begin(), heap.end(), worse);
    }
    const RowTerm& t = heap.front().t;
    out[r] = Term{t.node, t.shift, t.neg};
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Transposition

AdderGraph TransposeGraph(const AdderGraph& g, const std::vector<InputRange>& ranges_of_new_inputs) {
  const int m = static_cast<int>(g.outputs.size());  // new inputs
  const int n = g.num_inputs;                          // new outputs
  // consumers[v]: the terms (in the transposed graph) whose sum is the transposed value of node v.
  std::vector<std::vector<RowTerm>> consumers(g.num_nodes());
  GraphBuilder b(m, ranges_of_new_inputs);
  for (int r = 0; r < m; ++r) {
    const Term& t = g.outputs[r];
    if (!t.is_zero()) consumers[t.node].push_back({r, t.shift, t.neg});
  }
  // transposed value of each original node, as a term of the new graph (node -1 = zero)
  std::vector<RowTerm> value(g.num_nodes(), RowTerm{-1, 0, false});
  std::vector<std::vector<RowTerm>> one(1);
  for (int v = g.num_nodes() - 1; v >= 0; --v) {
    auto& c = consumers[v];
    if (!c.empty()) {
      if (c.size() == 1) {
        value[v] = c[0];
      } else {
        one[0] = c;
        const Term t = FinishRows(b, one)[0];
        value[v] = RowTerm{t.node, t.shift, t.neg};
      }
    }
    if (v >= g.num_inputs && value[v].node >= 0) {
      const AdderNode& ad = g.adder(v);
      for (const Term* e : {&ad.a, &ad.b})
        consumers[e->node].push_back({value[v].node, value[v].shift + e->shift, value[v].neg != e->neg});
    }
    std::vector<RowTerm>().swap(c);
  }
  b.graph.outputs.resize(n);
  for (int i = 0; i < n; ++i)
    b.graph.outputs[i] = value[i].node < 0 ? Term{-1, 0, false} : Term{value[i].node, value[i].shift, value[i].neg};
  return std::move(b.graph);
}

}  // namespace hw::arith::cmvm_detail
