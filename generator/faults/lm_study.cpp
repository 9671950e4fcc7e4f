#include "faults/lm_study.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <set>

#include "arith/csd.h"
#include "common/diag.h"
#include "faults/parallel.h"
#include "emit/ir2_verilog.h"
#include "faults/rtl_inject.h"
#include "faults/interpreter.h"
#include "ir2/op_table.h"
#include "reference/lm_reference.h"

namespace hw::faults {

using hw::ir2::Op;
using model::LmOp;
using model::LmOpKind;

namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t HashString(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}


// The unit of op `name` of `m`: "embedding" before the first block, "block <b> attention" from a block's first
// op to the add that closes its attention half, "block <b> MLP" for the rest of the block, "head" after the
// last block; "control" for anything else (the stream scheduler).
std::map<std::string, std::string> Units(const model::LmModel& m) {
  std::map<std::string, std::string> u;
  bool seen_block = false;
  for (size_t i = 0; i < m.ops.size(); ++i) {
    const std::string& n = m.ops[i].name;
    if (n.size() > 2 && n[0] == 'b' && std::isdigit(static_cast<unsigned char>(n[1]))) {
      const std::string block = n.substr(1, n.find('_') - 1);
      seen_block = true;
      // attention half until (and including) the first add after the block's attention op
      bool attn_seen = false, closed = false;
      for (size_t k = 0; k < i; ++k) {
        const std::string& p = m.ops[k].name;
        if (p.rfind("b" + block + "_", 0) != 0) continue;
        if (m.ops[k].kind == LmOpKind::kAttention) attn_seen = true;
        else if (attn_seen && m.ops[k].kind == LmOpKind::kAdd) closed = true;
      }
      u[n] = fmt::format("block {} {}", block, closed ? "MLP" : "attention");
    } else {
      u[n] = seen_block ? "head" : "embedding";
    }
  }
  return u;
}

// Sorted distinct indices in [0, n): each with probability `rate` (geometric skips, so that 13 Mbit of state
// cost what their faults cost), or exactly `count` of them.
std::vector<int64_t> DrawIndices(int64_t n, double rate, long count, std::mt19937_64& rng) {
  std::vector<int64_t> out;
  if (n <= 0) return out;
  if (count >= 0) {
    std::set<int64_t> pick;
    const int64_t k = std::min<int64_t>(count, n);
    while (static_cast<int64_t>(pick.size()) < k) pick.insert(static_cast<int64_t>(Below(rng, static_cast<uint64_t>(n))));
    return {pick.begin(), pick.end()};
  }
  if (rate <= 0) return out;
  if (rate >= 1) {
    for (int64_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  const double l = std::log1p(-rate);
  for (int64_t i = -1;;) {
    const double gap = std::floor(std::log1p(-Uniform(rng)) / l);
    if (gap >= static_cast<double>(n)) break;
    i += static_cast<int64_t>(gap) + 1;
    if (i >= n) break;
    out.push_back(i);
  }
  return out;
}

int ArgmaxLowest(const std::vector<int64_t>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());  // first of the largest
}

}  // namespace

model::LmModel ApplyLmWeightFaults(const model::LmModel& m, const std::vector<WeightFault>& faults) {
  model::LmModel out = m;
  for (const WeightFault& f : faults) {
    HW_CHECK(f.layer >= 0 && f.layer < static_cast<int>(m.ops.size()) && m.ops[f.layer].kind == LmOpKind::kDense, "LM weight fault on a dense op");
    LmOp& op = out.ops[f.layer];
    int64_t& w = op.weight.at(static_cast<size_t>(f.row) * op.in_length + f.col);
    switch (f.kind) {
      case WeightFault::Kind::kZero: w = 0; break;
      case WeightFault::Kind::kFlip: w = -w; break;
      case WeightFault::Kind::kDigitRemove:
        for (const arith::SignedDigit& d : arith::CsdDigits(w))
          if (d.shift == f.position) w -= (d.neg ? -1 : 1) * (int64_t{1} << d.shift);
        break;
      case WeightFault::Kind::kDigitAdd: w += (f.neg ? -1 : 1) * (int64_t{1} << f.position); break;
    }
  }
  return out;
}

int64_t LmSites::StateBits() const {
  int64_t n = 0;
  for (const Segment& s : state_bits) n += s.bits;
  return n;
}

LmEvaluator::LmEvaluator(const model::LmModel& m, const hw::ir2::Graph& g, std::vector<std::vector<int>> windows, int prompt)
    : m_(m), graphs_{g}, windows_(std::move(windows)), prompt_(prompt) {
  const int T = m.context;
  if (windows_.empty()) throw Error(Location{"", "", "--text"}, "no held-out windows");
  if (static_cast<int>(windows_.size()) > g.streams)
    throw Error(Location{"", "", "--windows"}, fmt::format("{} windows for {} streams", windows_.size(), g.streams));
  for (const auto& w : windows_) HW_CHECK(static_cast<int>(w.size()) == T + 1, "a window holds context + 1 tokens");
  if (prompt_ < 1 || prompt_ > T) throw Error(Location{"", "", "--prompt-length"}, fmt::format("must be in 1..{}", T));
  // Ports by name.
  const std::vector<int> ins = g.Inputs(), outs = g.Outputs();
  for (const char* name : {"prompt_valid", "prompt_first", "prompt_token", "seed", "greedy"}) {
    int pos = -1;
    for (size_t k = 0; k < ins.size(); ++k)
      if (g.nodes[ins[k]].symbol == name) pos = static_cast<int>(k);
    HW_CHECK(pos >= 0, std::string("LM graph without input ") + name);
    input_port_.push_back(pos);
  }
  for (size_t k = 0; k < outs.size(); ++k)
    if (g.nodes[outs[k]].symbol == "token") token_output_ = static_cast<int>(k);
  HW_CHECK(token_output_ >= 0, "LM graph without output token");
  // The logits as the argmax tree reads them: a compare-select's value operand paired with a constant index.
  logit_node_.assign(m.vocab_size(), -1);
  logit_result_.assign(m.vocab_size(), 0);
  for (const hw::ir2::Node& n : g.nodes) {
    if (n.op != Op::kCmpSel) continue;
    for (int side : {0, 2}) {
      const hw::ir2::Node& idx = g.nodes[n.operands[side + 1].node];
      if (idx.op != Op::kConst || idx.value < 0 || idx.value >= m.vocab_size()) continue;
      logit_node_[idx.value] = n.operands[side].node;
      logit_result_[idx.value] = n.operands[side].result;
    }
  }
  for (int v = 0; v < m.vocab_size(); ++v) HW_CHECK(logit_node_[v] >= 0, fmt::format("logit {} not found in the argmax tree", v));

  // Sites, by unit.
  const std::map<std::string, std::string> unit_of = Units(m);
  std::map<std::string, int> unit_index;
  auto unit = [&](const std::string& name) {
    const auto it = unit_of.find(name);
    const std::string u = it == unit_of.end() ? "control" : it->second;
    const auto [pos, added] = unit_index.emplace(u, static_cast<int>(sites_.units.size()));
    if (added) sites_.units.push_back(u);
    return pos->second;
  };
  for (const LmOp& op : m.ops) unit(op.name);  // units in model order
  unit("control");
  for (size_t oi = 0; oi < m.ops.size(); ++oi) {
    const LmOp& op = m.ops[oi];
    if (op.kind != LmOpKind::kDense) continue;
    const int u = unit(op.name);
    for (int r = 0; r < op.length; ++r)
      for (int c = 0; c < op.in_length; ++c) {
        sites_.weights.push_back({static_cast<int>(oi), r, c});
        sites_.weight_unit.push_back(u);
      }
  }
  // Registers that carry the stream slot (to the state's address ports) are control, not modelled.
  std::vector<bool> sid(g.nodes.size(), false);
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    const hw::ir2::Node& n = g.nodes[id];
    const int N = static_cast<int>(id);
    const int u = unit(n.group >= 0 ? g.groups[n.group] : "control");
    sid[id] = n.op == Op::kStreamId || (n.op == Op::kReg && sid[n.operands[0].node]);
    if (n.op == Op::kAdd)
      for (int b = 0; b < OpWidth(g, N); ++b) sites_.adder_bits.push_back({u, N, b});
    if (n.op == Op::kReg) {
      if (sid[id]) sites_.registers_excluded += OpWidth(g, N);
      else
        for (int b = 0; b < OpWidth(g, N); ++b) sites_.register_bits.push_back({u, N, b});
    }
    if (n.op == Op::kLut)
      for (int64_t e = 0; e < static_cast<int64_t>(n.table.size()) * OpWidth(g, N); ++e) sites_.table_bits.push_back({u, N, e});
  }
  for (size_t s = 0; s < g.states.size(); ++s) {
    const hw::ir2::StateDecl& st = g.states[s];
    // K/V rows are named <attention op>_k<j> / _v<j>; the rest (pos, live, last, rng) is the scheduler's.
    std::string owner = "control";
    for (const LmOp& op : m.ops)
      if (op.kind == LmOpKind::kAttention && st.name.rfind(op.name + "_", 0) == 0) owner = op.name;
    sites_.state_bits.push_back({unit(owner), static_cast<int>(s), static_cast<int64_t>(g.streams) * st.lanes * st.type.width});
  }
  clean_run_ = RunHardware({});
  clean_q_ = Score(clean_run_);
}

LmEvaluator::Run LmEvaluator::RunHardware(const std::vector<HwFault>& faults, std::vector<cosim::Ir2Token>* slots,
                                          std::vector<std::vector<int64_t>>* outputs) const {
  const hw::ir2::Graph& g = graphs_[0];
  CheckHwFaults(faults, graphs_, "fault set");
  const int T = m_.context, W = static_cast<int>(windows_.size()), V = m_.vocab_size();
  const int n_in = static_cast<int>(g.Inputs().size()), n_out = static_cast<int>(g.Outputs().size());
  const GraphProgram p(g, 0, faults, false, n_in, n_out);
  std::vector<int> logit_slot(V);
  for (int v = 0; v < V; ++v) logit_slot[v] = p.slot_of(logit_node_[v]) + logit_result_[v];
  const int token_slot = p.output_slot(token_output_);
  Run run;
  run.logits.assign(W, std::vector<std::vector<int64_t>>(T, std::vector<int64_t>(V)));
  run.greedy.assign(W, std::vector<int>(T));
  run.generated.assign(W, {});
  std::vector<int64_t> val, in(static_cast<size_t>(W) * n_in);
  GraphProgram::State state = p.Reset(W);
  for (int phase = 0; phase < 2; ++phase) {  // 0: teacher-forced, 1: prompt then generation (no reset between)
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < W; ++r) {
        int64_t* x = &in[static_cast<size_t>(r) * n_in];
        const bool fed = phase == 0 || t < prompt_;
        x[input_port_[0]] = fed ? 1 : 0;
        x[input_port_[1]] = t == 0 ? 1 : 0;
        x[input_port_[2]] = fed ? windows_[r][t] : 0;
        x[input_port_[3]] = 0;
        x[input_port_[4]] = 1;
      }
      p.Run(in.data(), n_in, W, W, val, &state);
      if (slots)
        for (int r = 0; r < g.streams; ++r)
          slots->push_back(r < W ? cosim::Ir2Token{true, std::vector<int64_t>(in.begin() + static_cast<size_t>(r) * n_in,
                                                                              in.begin() + static_cast<size_t>(r + 1) * n_in)}
                                 : cosim::Ir2Token{false, std::vector<int64_t>(n_in, 0)});
      if (outputs)
        for (int r = 0; r < W; ++r) {
          std::vector<int64_t> y(n_out);
          for (int o = 0; o < n_out; ++o)
            y[o] = static_cast<int64_t>(static_cast<uint64_t>(val[static_cast<size_t>(p.output_slot(o)) * W + r]) << p.output_shift(o));
          outputs->push_back(std::move(y));
        }
      for (int r = 0; r < W; ++r) {
        const int tok = static_cast<int>(val[static_cast<size_t>(token_slot) * W + r]);
        if (phase == 0) {
          run.greedy[r][t] = tok;
          for (int v = 0; v < V; ++v) run.logits[r][t][v] = val[static_cast<size_t>(logit_slot[v]) * W + r];
        } else if (t >= prompt_ - 1) {
          run.generated[r].push_back(tok);
        }
      }
    }
  }
  return run;
}

LmEvaluator::Run LmEvaluator::RunReference(const model::LmModel& m) const {
  const int T = m.context, W = static_cast<int>(windows_.size());
  Run run;
  run.logits.assign(W, {});
  run.greedy.assign(W, {});
  std::vector<std::vector<int>> prompts;
  for (int r = 0; r < W; ++r) {
    reference::LmStream s(m);
    for (int t = 0; t < T; ++t) {
      run.logits[r].push_back(s.Step(windows_[r][t]));
      run.greedy[r].push_back(ArgmaxLowest(run.logits[r].back()));
    }
    prompts.emplace_back(windows_[r].begin(), windows_[r].begin() + prompt_);
  }
  for (const reference::Generation& gen : reference::Generate(m, prompts, T, std::nullopt)) run.generated.push_back(gen.generated);
  return run;
}

LmQuality LmEvaluator::Score(const Run& r) const {
  const LmOp& s = m_.sample();
  const double scale = static_cast<double>(s.score.M(0)) / std::ldexp(1.0, static_cast<int>(s.score.S(0)) + s.exp_frac_bits) * std::log(2.0);
  double ce = 0;
  long right = 0, count = 0, changed = 0, generated = 0;
  for (size_t w = 0; w < windows_.size(); ++w) {
    for (size_t t = 0; t < r.logits[w].size(); ++t) {
      const std::vector<int64_t>& l = r.logits[w][t];
      const int64_t mx = *std::max_element(l.begin(), l.end());
      double sum = 0;
      for (int64_t v : l) sum += std::exp(static_cast<double>(v - mx) * scale);
      const int target = windows_[w][t + 1];
      ce -= static_cast<double>(l[target] - mx) * scale - std::log(sum);
      right += r.greedy[w][t] == target ? 1 : 0;
      ++count;
    }
    if (!clean_run_.generated.empty()) {
      const std::vector<int>& a = r.generated[w];
      const std::vector<int>& b = clean_run_.generated[w];
      for (size_t k = 0; k < std::max(a.size(), b.size()); ++k) changed += (k < a.size() && k < b.size() && a[k] == b[k]) ? 0 : 1;
      generated += static_cast<long>(b.size());
    }
  }
  LmQuality q;
  q.cross_entropy = ce / std::max<long>(1, count);
  q.accuracy = static_cast<double>(right) / std::max<long>(1, count);
  q.changed = static_cast<double>(changed) / std::max<long>(1, generated);
  return q;
}

LmQuality LmEvaluator::Evaluate(const FaultSet& f) const {
  if (!f.weights.empty() && !f.hw.empty())
    throw Error(Location{"", "", "fault set"}, "weight faults and hardware faults in one set are not supported; evaluate them separately");
  if (!f.weights.empty()) return Score(RunReference(ApplyLmWeightFaults(m_, f.weights)));
  if (f.hw.empty()) return clean_q_;
  return Score(RunHardware(f.hw));
}

FaultSet SampleLm(const LmEvaluator& ev, Level level, const std::string& unit, double rate, long count, uint64_t seed) {
  if (!(rate >= 0 && rate <= 1)) throw Error(Location{"", "", "rate"}, fmt::format("fault rate {} is outside [0, 1]", rate));
  const LmSites& s = ev.sites();
  int only = -1;
  if (!unit.empty()) {
    for (size_t k = 0; k < s.units.size(); ++k)
      if (s.units[k] == unit) only = static_cast<int>(k);
    if (only < 0) {
      std::string all;
      for (const std::string& u : s.units) all += (all.empty() ? "" : ", ") + u;
      throw Error(Location{"", "", "--layer"}, "no unit '" + unit + "' in the language model (units: " + all + ")");
    }
  }
  std::mt19937_64 rng(seed);
  FaultSet out;
  auto eligible_bits = [&](const std::vector<LmSites::Bit>& v) {
    std::vector<const LmSites::Bit*> e;
    for (const LmSites::Bit& b : v)
      if (only < 0 || b.unit == only) e.push_back(&b);
    return e;
  };
  switch (level) {
    case Level::kWeight: {
      std::vector<size_t> e;
      for (size_t i = 0; i < s.weights.size(); ++i)
        if (only < 0 || s.weight_unit[i] == only) e.push_back(i);
      for (int64_t k : DrawIndices(static_cast<int64_t>(e.size()), rate, count, rng)) {
        const Sites::Weight& w = s.weights[e[k]];
        const LmOp& op = ev.model().ops[w.layer];
        out.weights.push_back(DrawWeightFault(w.layer, w.row, w.col, op.weight[static_cast<size_t>(w.row) * op.in_length + w.col],
                                              op.weight_bits, "mix", rng));
      }
      break;
    }
    case Level::kAdder: case Level::kRegister: case Level::kTable: {
      const auto e = eligible_bits(level == Level::kAdder ? s.adder_bits : level == Level::kRegister ? s.register_bits : s.table_bits);
      for (int64_t k : DrawIndices(static_cast<int64_t>(e.size()), rate, count, rng)) {
        HwFault h;
        h.node = e[k]->node;
        h.one = Below(rng, 2) == 1;
        if (level == Level::kTable) {
          const int w = OpWidth(ev.graph(), h.node);
          h.kind = HwFault::Kind::kStuckTable, h.entry = static_cast<int>(e[k]->index / w), h.bit = static_cast<int>(e[k]->index % w);
        } else {
          h.kind = level == Level::kAdder ? HwFault::Kind::kStuckOutput : HwFault::Kind::kStuckRegister;
          h.bit = static_cast<int>(e[k]->index);
        }
        out.hw.push_back(h);
      }
      break;
    }
    case Level::kMemory: {
      std::vector<const LmSites::Segment*> segs;
      int64_t total = 0;
      for (const LmSites::Segment& g : s.state_bits)
        if (only < 0 || g.unit == only) segs.push_back(&g), total += g.bits;
      size_t at = 0;
      int64_t base = 0;
      for (int64_t k : DrawIndices(total, rate, count, rng)) {
        while (k >= base + segs[at]->bits) base += segs[at]->bits, ++at;
        const hw::ir2::StateDecl& st = ev.graph().states[segs[at]->state];
        const int64_t i = k - base;
        HwFault h;
        h.kind = HwFault::Kind::kStuckState;
        h.node = segs[at]->state;
        h.bit = static_cast<int>(i % st.type.width);
        h.lane = static_cast<int>((i / st.type.width) % st.lanes);
        h.stream = static_cast<int>(i / st.type.width / st.lanes);
        h.one = Below(rng, 2) == 1;
        out.hw.push_back(h);
      }
      break;
    }
  }
  return out;
}

LmPoint RunLmPoint(const LmEvaluator& ev, Level level, const std::string& unit, double rate, long count, int samples, uint64_t seed,
                   int threads) {
  LmPoint p;
  p.level = level, p.unit = unit, p.rate = rate, p.count = count;
  uint64_t rate_bits = 0;
  std::memcpy(&rate_bits, &rate, sizeof rate);
  struct One {
    LmQuality q;
    size_t faults = 0;
  };
  const auto results = Parallel<One>(samples, threads, [&](int i) {
    uint64_t h = SplitMix(seed);
    for (uint64_t part : {static_cast<uint64_t>(level), HashString(unit), rate_bits, static_cast<uint64_t>(count), static_cast<uint64_t>(i)})
      h = SplitMix(h ^ part);
    const FaultSet f = SampleLm(ev, level, unit, rate, count, h);
    return One{ev.Evaluate(f), f.size()};
  });
  double total = 0;
  for (const One& r : results) p.samples.push_back(r.q), total += static_cast<double>(r.faults);
  p.mean_faults = total / std::max(1, samples);
  return p;
}

std::vector<LmAblationRow> AblateLm(const LmEvaluator& ev, int threads, bool neurons) {
  const model::LmModel& m = ev.model();
  struct Job {
    std::string unit;
    std::vector<std::pair<int, std::vector<std::pair<int, int>>>> zero;  // op -> (row, col) ranges: row -1 = all rows, col -1 = all cols
  };
  std::vector<Job> jobs;
  auto find = [&](const std::string& name) {
    for (size_t i = 0; i < m.ops.size(); ++i)
      if (m.ops[i].name == name) return static_cast<int>(i);
    return -1;
  };
  for (size_t i = 0; i < m.ops.size(); ++i) {
    const LmOp& op = m.ops[i];
    if (op.kind == LmOpKind::kDense) jobs.push_back({op.name + " (all weights)", {{static_cast<int>(i), {{-1, -1}}}}});
    if (op.kind == LmOpKind::kAttention) {
      // A head contributes nothing when the output projection's columns that read it are zero.
      const std::string prefix = op.name.substr(0, op.name.find('_') + 1);
      const int o = find(prefix + "o");
      if (o < 0) continue;
      const int hd = op.length / op.heads;
      for (int h = 0; h < op.heads; ++h) {
        Job j{fmt::format("{} head {}", op.name, h), {}};
        std::vector<std::pair<int, int>> cols;
        for (int d = 0; d < hd; ++d) cols.push_back({-1, h * hd + d});
        j.zero.push_back({o, cols});
        jobs.push_back(j);
      }
    }
  }
  if (neurons)
    for (size_t i = 0; i < m.ops.size(); ++i) {
      const LmOp& op = m.ops[i];
      if (op.kind != LmOpKind::kTable) continue;  // the activation between ffn1 and ffn2
      const std::string prefix = op.name.substr(0, op.name.find('_') + 1);
      const int f1 = find(prefix + "ffn1"), f2 = find(prefix + "ffn2");
      if (f1 < 0 || f2 < 0) continue;
      for (int n = 0; n < m.ops[f1].length; ++n)
        jobs.push_back({fmt::format("{}ffn neuron {}", prefix, n), {{f1, {{n, -1}}}, {f2, {{-1, n}}}}});
    }
  const auto qs = Parallel<LmQuality>(static_cast<int>(jobs.size()), threads, [&](int k) {
    model::LmModel a = m;
    for (const auto& z : jobs[k].zero) {
      LmOp& op = a.ops[z.first];
      for (const auto& rc : z.second)
        for (int r = 0; r < op.length; ++r)
          for (int c = 0; c < op.in_length; ++c)
            if ((rc.first < 0 || rc.first == r) && (rc.second < 0 || rc.second == c)) op.weight[static_cast<size_t>(r) * op.in_length + c] = 0;
    }
    return ev.Score(ev.RunReference(a));
  });
  std::vector<LmAblationRow> rows;
  for (size_t k = 0; k < jobs.size(); ++k) rows.push_back({jobs[k].unit, qs[k]});
  std::stable_sort(rows.begin(), rows.end(), [](const LmAblationRow& a, const LmAblationRow& b) {
    return a.quality.cross_entropy > b.quality.cross_entropy;
  });
  return rows;
}

}  // namespace hw::faults

namespace hw::faults {

LmRtlCheck CheckLmInRtl(const LmEvaluator& ev, const FaultSet& f, const std::string& work_dir) {
  if (!f.weights.empty()) throw Error(Location{"", "", "fault set"}, "the LM's RTL check takes hardware faults");
  std::vector<cosim::Ir2Token> slots;
  std::vector<std::vector<int64_t>> expected;
  const LmEvaluator::Run run = ev.RunHardware(f.hw, &slots, &expected);
  const LmEvaluator::Run clean = ev.RunHardware({});
  std::string verilog = emit::EmitIr2Verilog(ev.graph());
  InjectIntoLayerRtl(verilog, ev.graphs(), 0, f.hw);
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  const cosim::Ir2CosimResult r = cosim::CosimIr2Expected(ev.graph(), verilog, slots, expected, work_dir);
  LmRtlCheck out;
  out.passed = r.passed, out.failed = r.failed, out.build_seconds = r.build_seconds, out.sim_seconds = r.sim_seconds;
  for (size_t w = 0; w < run.greedy.size(); ++w) {
    for (size_t t = 0; t < run.greedy[w].size(); ++t) out.tokens_changed += run.greedy[w][t] != clean.greedy[w][t];
    for (size_t t = 0; t < run.generated[w].size(); ++t) out.tokens_changed += run.generated[w][t] != clean.generated[w][t];
  }
  return out;
}

}  // namespace hw::faults
