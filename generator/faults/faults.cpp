#include "faults/faults.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "arith/csd.h"
#include "common/diag.h"
#include "common/file_util.h"
#include "ir2/op_table.h"

namespace hw::faults {

const char* ToString(Level l) {
  switch (l) {
    case Level::kWeight: return "weight";
    case Level::kAdder: return "adder";
    case Level::kRegister: return "register";
    case Level::kMemory: return "memory";
    case Level::kTable: return "table";
  }
  return "?";
}

Level ParseLevel(const std::string& s) {
  if (s == "weight") return Level::kWeight;
  if (s == "adder") return Level::kAdder;
  if (s == "register") return Level::kRegister;
  if (s == "memory") return Level::kMemory;
  if (s == "table") return Level::kTable;
  throw Error(Location{"", "", "--level"}, "unknown fault level '" + s + "' (weight, adder, register, memory, table)");
}

std::string OpName(const hw::ir2::Graph& g, int id) {
  return fmt::format("{}{}", g.nodes[id].op == hw::ir2::Op::kReg ? "r" : "n", id);
}

int OpWidth(const hw::ir2::Graph& g, int id, int r) { return hw::ir2::TypeOf(g.nodes[id].range[r]).width; }

Sites EnumerateSites(const model::Model& m, const Graphs& d) {
  Sites s;
  for (size_t li = 0; li < m.layers.size(); ++li)
    if (const auto* dl = std::get_if<model::DenseLayer>(&m.layers[li].op))
      for (int r = 0; r < dl->out; ++r)
        for (int c = 0; c < dl->in; ++c) s.weights.push_back({static_cast<int>(li), r, c});
  for (size_t li = 0; li < d.size(); ++li) {
    const hw::ir2::Graph& g = d[li];
    const int L = static_cast<int>(li);
    for (size_t id = 0; id < g.nodes.size(); ++id) {
      const hw::ir2::Node& n = g.nodes[id];
      const int N = static_cast<int>(id);
      if (n.op == hw::ir2::Op::kAdd) {
        s.adders.push_back({L, N});
        for (int b = 0; b < OpWidth(g, N); ++b) s.adder_bits.push_back({L, N, b});
      }
      if (n.op == hw::ir2::Op::kReg)
        for (int b = 0; b < OpWidth(g, N); ++b) s.register_bits.push_back({L, N, b});
    }
  }
  return s;
}

// std::uniform_real_distribution is not the same on every standard library; this is.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
uint64_t Below(std::mt19937_64& rng, uint64_t n) { return static_cast<uint64_t>(Uniform(rng) * n); }

namespace {

int LayerIndex(const model::Model& m, const std::string& name) {
  for (size_t i = 0; i < m.layers.size(); ++i)
    if (m.layers[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string LayerNames(const model::Model& m) {
  std::string s;
  for (const model::Layer& l : m.layers) s += (s.empty() ? "" : ", ") + l.name;
  return s;
}


// Indices of the faulty sites among `n` (those whose `keep` is true): Bernoulli(rate) each, or exactly
// `count` distinct ones.
std::vector<size_t> Pick(size_t n, const std::function<bool(size_t)>& keep, double rate, long count,
                         std::mt19937_64& rng) {
  std::vector<size_t> eligible;
  for (size_t i = 0; i < n; ++i)
    if (keep(i)) eligible.push_back(i);
  std::vector<size_t> out;
  if (count >= 0) {
    const size_t k = std::min<size_t>(static_cast<size_t>(count), eligible.size());
    for (size_t i = 0; i < k; ++i) {  // partial Fisher-Yates
      const size_t j = i + Below(rng, eligible.size() - i);
      std::swap(eligible[i], eligible[j]);
      out.push_back(eligible[i]);
    }
    std::sort(out.begin(), out.end());
  } else {
    for (size_t i : eligible)
      if (Uniform(rng) < rate) out.push_back(i);
  }
  return out;
}

WeightFault::Kind ParseWeightKind(const std::string& s, bool* ok) {
  *ok = true;
  if (s == "zero") return WeightFault::Kind::kZero;
  if (s == "flip") return WeightFault::Kind::kFlip;
  if (s == "digit-remove") return WeightFault::Kind::kDigitRemove;
  if (s == "digit-add") return WeightFault::Kind::kDigitAdd;
  *ok = false;
  return WeightFault::Kind::kZero;
}

const char* ToString(WeightFault::Kind k) {
  switch (k) {
    case WeightFault::Kind::kZero: return "zero";
    case WeightFault::Kind::kFlip: return "flip";
    case WeightFault::Kind::kDigitRemove: return "digit-remove";
    case WeightFault::Kind::kDigitAdd: return "digit-add";
  }
  return "?";
}

bool HasDigitAt(int64_t w, int pos) {
  for (const arith::SignedDigit& d : arith::CsdDigits(w))
    if (d.shift == pos) return true;
  return false;
}

// Problem with weight fault `f` against the model, or "" if it applies.
std::string WeightFaultProblem(const model::Model& m, const WeightFault& f, std::string* field) {
  if (f.layer < 0 || f.layer >= static_cast<int>(m.layers.size())) return *field = "layer", "no such layer";
  const auto* dl = std::get_if<model::DenseLayer>(&m.layers[f.layer].op);
  if (!dl) return *field = "layer", "layer '" + m.layers[f.layer].name + "' has no weights (it is " + m.layers[f.layer].kind() + ")";
  if (f.row < 0 || f.row >= dl->out)
    return *field = "row", fmt::format("row {} out of range 0..{} of layer '{}'", f.row, dl->out - 1, m.layers[f.layer].name);
  if (f.col < 0 || f.col >= dl->in)
    return *field = "col", fmt::format("column {} out of range 0..{} of layer '{}'", f.col, dl->in - 1, m.layers[f.layer].name);
  const int64_t w = dl->weight.at(f.row, f.col);
  if (f.kind == WeightFault::Kind::kDigitRemove && !HasDigitAt(w, f.position))
    return *field = "position", fmt::format("weight {} ({}) has no digit at 2^{}", w, arith::CsdToString(arith::CsdDigits(w)), f.position);
  if (f.kind == WeightFault::Kind::kDigitAdd) {
    if (f.position < 0 || f.position > 30) return *field = "position", fmt::format("position {} out of range 0..30", f.position);
    if (HasDigitAt(w, f.position))
      return *field = "position", fmt::format("weight {} ({}) already has a digit at 2^{}", w, arith::CsdToString(arith::CsdDigits(w)), f.position);
  }
  return "";
}

}  // namespace

WeightFault DrawWeightFault(int layer, int row, int col, int64_t w, int weight_bits, const std::string& kind, std::mt19937_64& rng) {
  WeightFault f{WeightFault::Kind::kZero, layer, row, col};
  bool ok = true;
  f.kind = kind == "mix" ? static_cast<WeightFault::Kind>(Below(rng, 4)) : ParseWeightKind(kind, &ok);
  const std::vector<arith::SignedDigit> digits = arith::CsdDigits(w);
  if (f.kind == WeightFault::Kind::kDigitRemove) {
    if (digits.empty()) f.kind = WeightFault::Kind::kZero;  // nothing to remove: the defect is harmless
    else f.position = digits[Below(rng, digits.size())].shift;
  } else if (f.kind == WeightFault::Kind::kDigitAdd) {
    // A digit where the CSD of w has none, among the weight's bit positions.
    std::vector<int> free;
    for (int p = 0; p < std::max(1, weight_bits); ++p)
      if (!HasDigitAt(w, p)) free.push_back(p);
    if (free.empty()) f.kind = WeightFault::Kind::kZero;
    else f.position = free[Below(rng, free.size())], f.neg = Below(rng, 2) == 1;
  }
  return f;
}

void CheckSpec(const SampleSpec& spec, const model::Model& m) {
  Diagnostics diag;
  if (!(spec.rate >= 0 && spec.rate <= 1))
    diag.Add(Location{"", "", "rate"}, fmt::format("fault rate {} is outside [0, 1]", spec.rate));
  if (!spec.layer.empty() && LayerIndex(m, spec.layer) < 0)
    diag.Add(Location{"", "", "layer"}, "no layer '" + spec.layer + "' in the model (layers: " + LayerNames(m) + ")");
  bool ok = true;
  if (spec.weight_kind != "mix") ParseWeightKind(spec.weight_kind, &ok);
  if (!ok) diag.Add(Location{"", "", "--weight-kind"}, "unknown weight fault '" + spec.weight_kind + "' (mix, zero, flip, digit-remove, digit-add)");
  if (spec.adder_kind != "stuck" && spec.adder_kind != "drop")
    diag.Add(Location{"", "", "--adder-kind"}, "unknown adder fault '" + spec.adder_kind + "' (stuck, drop)");
  diag.ThrowIfAny();
}

FaultSet Sample(const SampleSpec& spec, const Sites& sites, const model::Model& m, const Graphs& d, uint64_t seed) {
  CheckSpec(spec, m);
  (void)d;
  std::mt19937_64 rng(seed);
  const int only = spec.layer.empty() ? -1 : LayerIndex(m, spec.layer);
  auto in_layer = [&](int l) { return only < 0 || l == only; };
  FaultSet out;
  switch (spec.level) {
    case Level::kWeight: {
      const auto pick = Pick(sites.weights.size(), [&](size_t i) { return in_layer(sites.weights[i].layer); },
                             spec.rate, spec.count, rng);
      for (size_t i : pick) {
        const Sites::Weight& s = sites.weights[i];
        const auto& dl = std::get<model::DenseLayer>(m.layers[s.layer].op);
        const WeightFault f = DrawWeightFault(s.layer, s.row, s.col, dl.weight.at(s.row, s.col), dl.weight_bits, spec.weight_kind, rng);
        out.weights.push_back(f);
      }
      break;
    }
    case Level::kAdder: {
      if (spec.adder_kind == "drop") {
        const auto pick = Pick(sites.adders.size(), [&](size_t i) { return in_layer(sites.adders[i].layer); },
                               spec.rate, spec.count, rng);
        for (size_t i : pick) {
          HwFault f;
          f.kind = HwFault::Kind::kDropOperand;
          f.layer = sites.adders[i].layer;
          f.node = sites.adders[i].node;
          f.operand = static_cast<int>(Below(rng, 2));
          out.hw.push_back(f);
        }
      } else {
        const auto pick = Pick(sites.adder_bits.size(), [&](size_t i) { return in_layer(sites.adder_bits[i].layer); },
                               spec.rate, spec.count, rng);
        for (size_t i : pick) {
          HwFault f;
          f.kind = HwFault::Kind::kStuckOutput;
          f.layer = sites.adder_bits[i].layer;
          f.node = sites.adder_bits[i].node;
          f.bit = sites.adder_bits[i].bit;
          f.one = Below(rng, 2) == 1;
          out.hw.push_back(f);
        }
      }
      break;
    }
    case Level::kMemory: case Level::kTable:
      throw Error(Location{"", "", "--level"}, std::string("a dense model has no ") + ToString(spec.level) + " sites (the language model has)");
    case Level::kRegister: {
      const auto pick = Pick(sites.register_bits.size(), [&](size_t i) { return in_layer(sites.register_bits[i].layer); },
                             spec.rate, spec.count, rng);
      for (size_t i : pick) {
        const Sites::RegisterBit& s = sites.register_bits[i];
        HwFault f;
        f.kind = HwFault::Kind::kStuckRegister;
        f.layer = s.layer, f.node = s.node, f.bit = s.bit;
        f.one = Below(rng, 2) == 1;
        out.hw.push_back(f);
      }
      break;
    }
  }
  return out;
}

model::Model ApplyWeightFaults(const model::Model& m, const std::vector<WeightFault>& faults) {
  model::Model out = m;
  Diagnostics diag;
  for (const WeightFault& f : faults) {
    std::string field;
    const std::string problem = WeightFaultProblem(m, f, &field);
    if (!problem.empty()) {
      diag.Add(Location{"weight fault", "", field}, problem);
      continue;
    }
    auto& dl = std::get<model::DenseLayer>(out.layers[f.layer].op);
    int64_t& w = dl.weight.at(f.row, f.col);
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
  diag.ThrowIfAny();
  return out;
}

namespace {

// Problem with hardware fault `f` against the design, or "" (with the field it concerns).
std::string HwFaultProblem(const HwFault& f, const Graphs& d, std::string* field) {
  if (f.layer < 0 || f.layer >= static_cast<int>(d.size()))
    return *field = "layer", fmt::format("layer {} does not exist", f.layer);
  const hw::ir2::Graph& g = d[f.layer];
  if (f.kind == HwFault::Kind::kStuckState) {
    if (f.node < 0 || f.node >= static_cast<int>(g.states.size()))
      return *field = "state", fmt::format("state {} does not exist in '{}'", f.node, g.name);
    const hw::ir2::StateDecl& st = g.states[f.node];
    if (f.stream < 0 || f.stream >= g.streams)
      return *field = "stream", fmt::format("stream {} out of range 0..{} of '{}'", f.stream, g.streams - 1, g.name);
    if (f.lane < 0 || f.lane >= st.lanes)
      return *field = "lane", fmt::format("lane {} out of range 0..{} of state '{}'", f.lane, st.lanes - 1, st.name);
    if (f.bit < 0 || f.bit >= st.type.width)
      return *field = "bit", fmt::format("bit {} out of range 0..{} of state '{}'", f.bit, st.type.width - 1, st.name);
    return "";
  }
  if (f.node < 0 || f.node >= static_cast<int>(g.nodes.size()))
    return *field = "node", fmt::format("op {} does not exist in '{}'", f.node, g.name);
  const hw::ir2::Node& n = g.nodes[f.node];
  const std::string name = OpName(g, f.node);
  switch (f.kind) {
    case HwFault::Kind::kStuckOutput:
      if (n.op != hw::ir2::Op::kAdd) return *field = "node", "'" + name + "' is not an adder (it is " + hw::ir2::Info(n.op).name + ")";
      if (f.bit < 0 || f.bit >= OpWidth(g, f.node))
        return *field = "bit", fmt::format("bit {} out of range 0..{} of adder '{}'", f.bit, OpWidth(g, f.node) - 1, name);
      break;
    case HwFault::Kind::kDropOperand:
      if (n.op != hw::ir2::Op::kAdd) return *field = "node", "'" + name + "' is not an adder (it is " + hw::ir2::Info(n.op).name + ")";
      if (f.operand < 0 || f.operand >= static_cast<int>(n.operands.size()))
        return *field = "operand", fmt::format("operand {} out of range 0..{} of adder '{}'", f.operand, n.operands.size() - 1, name);
      break;
    case HwFault::Kind::kStuckRegister:
      if (n.op != hw::ir2::Op::kReg) return *field = "node", "'" + name + "' is not a pipeline register (it is " + hw::ir2::Info(n.op).name + ")";
      if (f.bit < 0 || f.bit >= OpWidth(g, f.node))
        return *field = "bit", fmt::format("bit {} out of range 0..{} of register '{}'", f.bit, OpWidth(g, f.node) - 1, name);
      break;
    case HwFault::Kind::kStuckTable:
      if (n.op != hw::ir2::Op::kLut) return *field = "node", "'" + name + "' is not a lookup table (it is " + hw::ir2::Info(n.op).name + ")";
      if (f.entry < 0 || f.entry >= static_cast<int>(n.table.size()))
        return *field = "entry", fmt::format("entry {} out of range 0..{} of table '{}'", f.entry, n.table.size() - 1, name);
      if (f.bit < 0 || f.bit >= OpWidth(g, f.node))
        return *field = "bit", fmt::format("bit {} out of range 0..{} of table '{}'", f.bit, OpWidth(g, f.node) - 1, name);
      break;
    case HwFault::Kind::kStuckState:
      break;  // checked above (node is a state index)
  }
  return "";
}

std::tuple<int, int, int, int64_t, int> SiteKey(const HwFault& f) {
  switch (f.kind) {
    case HwFault::Kind::kDropOperand: return {static_cast<int>(f.kind), f.layer, f.node, 0, f.operand};
    case HwFault::Kind::kStuckState: return {static_cast<int>(f.kind), f.layer, f.node, int64_t{f.stream} << 32 | f.lane, f.bit};
    case HwFault::Kind::kStuckTable: return {static_cast<int>(f.kind), f.layer, f.node, f.entry, f.bit};
    default: return {static_cast<int>(f.kind), f.layer, f.node, 0, f.bit};
  }
}

}  // namespace

void CheckHwFaults(const std::vector<HwFault>& faults, const Graphs& d, const std::string& source) {
  Diagnostics diag;
  std::set<std::tuple<int, int, int, int64_t, int>> seen;
  for (size_t i = 0; i < faults.size(); ++i) {
    std::string field;
    const std::string problem = HwFaultProblem(faults[i], d, &field);
    if (!problem.empty()) diag.Add(Location{source, "", fmt::format("fault[{}].{}", i, field)}, problem);
    else if (!seen.insert(SiteKey(faults[i])).second)
      diag.Add(Location{source, "", fmt::format("fault[{}]", i)}, "the same site is listed twice");
  }
  diag.ThrowIfAny();
}

namespace {

// The parser of both list forms: `m` null for a language model (its layer is the graph, named by the module;
// weight lines are refused), `names` the layer names in graph order.
FaultSet ParseList(const std::string& text, const std::string& file, const model::Model* mp, const std::vector<std::string>& names,
                   const Graphs& d) {
  Diagnostics diag;
  FaultSet out;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  std::set<std::tuple<int, int, int>> weight_seen;
  std::set<std::tuple<int, int, int, int64_t, int>> hw_seen;
  while (std::getline(in, line)) {
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream ls(line);
    std::vector<std::string> t;
    for (std::string w; ls >> w;) t.push_back(w);
    if (t.empty()) continue;
    const std::string where = fmt::format("{}:{}", file, line_no);
    auto err = [&](const std::string& field, const std::string& msg) { diag.Add(Location{where, "", field}, msg); };
    auto integer = [&](const std::string& s, const std::string& field, long* v) {
      try {
        size_t used = 0;
        *v = std::stol(s, &used);
        if (used == s.size()) return true;
      } catch (...) {
      }
      err(field, "'" + s + "' is not an integer");
      return false;
    };
    const std::string& level = t[0];
    if (level != "weight" && level != "adder" && level != "register" && level != "memory" && level != "table") {
      err("level", "unknown fault level '" + level + "' (weight, adder, register, memory, table)");
      continue;
    }
    if (t.size() < 2) {
      err("layer", "missing layer name");
      continue;
    }
    int li = -1;
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == t[1]) li = static_cast<int>(k);
    if (li < 0) {
      std::string all;
      for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
      err("layer", "no layer '" + t[1] + "' in the model (layers: " + all + ")");
      continue;
    }
    if (level == "weight" && !mp) {
      err("level", "weight faults of a language model are drawn at random (--level weight), not listed");
      continue;
    }
    if (level == "weight") {
      const model::Model& m = *mp;
      if (t.size() < 5) {
        err("kind", "expected: weight LAYER ROW COL zero|flip|digit-remove POS|digit-add POS +|-");
        continue;
      }
      long row = 0, col = 0;
      if (!integer(t[2], "row", &row) || !integer(t[3], "col", &col)) continue;
      bool ok = true;
      WeightFault f{ParseWeightKind(t[4], &ok), li, static_cast<int>(row), static_cast<int>(col)};
      if (!ok) {
        err("kind", "unknown weight fault '" + t[4] + "' (zero, flip, digit-remove, digit-add)");
        continue;
      }
      const size_t want = f.kind == WeightFault::Kind::kDigitRemove ? 6 : f.kind == WeightFault::Kind::kDigitAdd ? 7 : 5;
      if (t.size() != want) {
        err("kind", fmt::format("'{}' takes {} fields, got {}", t[4], want, t.size()));
        continue;
      }
      if (want >= 6) {
        long pos = 0;
        if (!integer(t[5], "position", &pos)) continue;
        f.position = static_cast<int>(pos);
      }
      if (want == 7) {
        if (t[6] != "+" && t[6] != "-") {
          err("sign", "expected + or -, got '" + t[6] + "'");
          continue;
        }
        f.neg = t[6] == "-";
      }
      std::string field;
      const std::string problem = WeightFaultProblem(m, f, &field);
      if (!problem.empty()) {
        err(field, problem);
        continue;
      }
      if (!weight_seen.insert({li, f.row, f.col}).second) {
        err("col", "weight listed twice");
        continue;
      }
      out.weights.push_back(f);
      continue;
    }
    if (li >= static_cast<int>(d.size())) {
      err("layer", "layer has no hardware");
      continue;
    }
    const hw::ir2::Graph& g = d[li];
    if (t.size() < 3) {
      err("node", "missing op name");
      continue;
    }
    if (level == "memory") {  // memory LAYER STATE STREAM LANE BIT 0|1
      HwFault f;
      f.kind = HwFault::Kind::kStuckState;
      f.layer = li;
      f.node = -1;
      for (size_t k = 0; k < g.states.size(); ++k)
        if (g.states[k].name == t[2]) f.node = static_cast<int>(k);
      if (f.node < 0) {
        err("state", "no per-stream state '" + t[2] + "' in '" + g.name + "' (st_<name> in the generated Verilog)");
        continue;
      }
      if (t.size() != 7) {
        err("kind", "expected: memory LAYER STATE STREAM LANE BIT 0|1");
        continue;
      }
      long stream = 0, lane = 0, bit = 0;
      if (!integer(t[3], "stream", &stream) || !integer(t[4], "lane", &lane) || !integer(t[5], "bit", &bit)) continue;
      if (t[6] != "0" && t[6] != "1") {
        err("value", "stuck value must be 0 or 1, got '" + t[6] + "'");
        continue;
      }
      f.stream = static_cast<int>(stream), f.lane = static_cast<int>(lane), f.bit = static_cast<int>(bit), f.one = t[6] == "1";
      std::string field;
      const std::string problem = HwFaultProblem(f, d, &field);
      if (!problem.empty()) {
        err(field, problem);
        continue;
      }
      if (!hw_seen.insert(SiteKey(f)).second) {
        err("state", "the same site is listed twice");
        continue;
      }
      out.hw.push_back(f);
      continue;
    }
    // n<N> (an op) or r<N> (a reg op), as in the generated Verilog.
    long id = -1;
    if (t[2].size() >= 2 && (t[2][0] == 'n' || t[2][0] == 'r') &&
        t[2].find_first_not_of("0123456789", 1) == std::string::npos && t[2].size() < 12)
      id = std::stol(t[2].substr(1));
    if (id < 0 || id >= static_cast<long>(g.nodes.size()) || OpName(g, static_cast<int>(id)) != t[2]) {
      err("node", "no op '" + t[2] + "' in layer '" + t[1] + "' (names as in the generated Verilog: n<N> an op, r<N> a register)");
      continue;
    }
    HwFault f;
    f.layer = li;
    f.node = static_cast<int>(id);
    if (level == "adder") {
      if (t.size() >= 4 && t[3] == "drop" && t.size() == 5) {
        long op = 0;
        if (!integer(t[4], "operand", &op)) continue;
        f.kind = HwFault::Kind::kDropOperand;
        f.operand = static_cast<int>(op);
      } else if (t.size() == 6 && t[3] == "stuck") {
        long bit = 0;
        if (!integer(t[4], "bit", &bit)) continue;
        if (t[5] != "0" && t[5] != "1") {
          err("value", "stuck value must be 0 or 1, got '" + t[5] + "'");
          continue;
        }
        f.kind = HwFault::Kind::kStuckOutput;
        f.bit = static_cast<int>(bit);
        f.one = t[5] == "1";
      } else {
        err("kind", "expected: adder LAYER n<N> stuck BIT 0|1  or  adder LAYER n<N> drop OPERAND");
        continue;
      }
    } else if (level == "table") {  // table LAYER n<N> ENTRY BIT 0|1
      if (t.size() != 6) {
        err("kind", "expected: table LAYER n<N> ENTRY BIT 0|1");
        continue;
      }
      long entry = 0, bit = 0;
      if (!integer(t[3], "entry", &entry) || !integer(t[4], "bit", &bit)) continue;
      if (t[5] != "0" && t[5] != "1") {
        err("value", "stuck value must be 0 or 1, got '" + t[5] + "'");
        continue;
      }
      f.kind = HwFault::Kind::kStuckTable;
      f.entry = static_cast<int>(entry), f.bit = static_cast<int>(bit), f.one = t[5] == "1";
    } else {  // register
      if (t.size() != 5) {
        err("kind", "expected: register LAYER r<N> BIT 0|1");
        continue;
      }
      long bit = 0;
      if (!integer(t[3], "bit", &bit)) continue;
      if (t[4] != "0" && t[4] != "1") {
        err("value", "stuck value must be 0 or 1, got '" + t[4] + "'");
        continue;
      }
      f.kind = HwFault::Kind::kStuckRegister;
      f.bit = static_cast<int>(bit), f.one = t[4] == "1";
    }
    {
      std::string field;
      const std::string problem = HwFaultProblem(f, d, &field);
      if (!problem.empty()) {
        err(field, problem);
        continue;
      }
    }
    if (!hw_seen.insert(SiteKey(f)).second) {
      err("node", "the same site is listed twice");
      continue;
    }
    out.hw.push_back(f);
  }
  diag.ThrowIfAny();
  CheckHwFaults(out.hw, d, file);
  return out;
}

}  // namespace

FaultSet ParseFaultList(const std::string& text, const std::string& file, const model::Model& m, const Graphs& d) {
  std::vector<std::string> names;
  for (const model::Layer& l : m.layers) names.push_back(l.name);
  return ParseList(text, file, &m, names, d);
}

FaultSet ParseLmFaultList(const std::string& text, const std::string& file, const Graphs& d) {
  std::vector<std::string> names;
  for (const hw::ir2::Graph& g : d) names.push_back(g.name);
  return ParseList(text, file, nullptr, names, d);
}

FaultSet ReadFaultList(const std::string& path, const model::Model& m, const Graphs& d) {
  return ParseFaultList(ReadFileOrThrow(path, "fault list"), path, m, d);
}

std::string FormatFaultList(const FaultSet& f, const model::Model& m, const Graphs& d) {
  std::vector<std::string> names;
  for (const model::Layer& l : m.layers) names.push_back(l.name);
  return FormatFaultList(f, m, names, d);
}

std::string FormatLmHwFaults(const std::vector<HwFault>& hw, const Graphs& d) {
  std::vector<std::string> names;
  for (const hw::ir2::Graph& g : d) names.push_back(g.name);
  FaultSet f;
  f.hw = hw;
  return FormatFaultList(f, model::Model{}, names, d);
}

std::string FormatFaultList(const FaultSet& f, const model::Model& m, const std::vector<std::string>& names, const Graphs& d) {
  std::string s;
  for (const WeightFault& w : f.weights) {
    s += fmt::format("weight {} {} {} {}", m.layers[w.layer].name, w.row, w.col, ToString(w.kind));
    if (w.kind == WeightFault::Kind::kDigitRemove) s += fmt::format(" {}", w.position);
    if (w.kind == WeightFault::Kind::kDigitAdd) s += fmt::format(" {} {}", w.position, w.neg ? "-" : "+");
    s += "\n";
  }
  for (const HwFault& h : f.hw) {
    const std::string& layer = names[h.layer];
    const std::string node = h.kind == HwFault::Kind::kStuckState ? d[h.layer].states[h.node].name : OpName(d[h.layer], h.node);
    switch (h.kind) {
      case HwFault::Kind::kStuckOutput: s += fmt::format("adder {} {} stuck {} {}\n", layer, node, h.bit, h.one ? 1 : 0); break;
      case HwFault::Kind::kDropOperand: s += fmt::format("adder {} {} drop {}\n", layer, node, h.operand); break;
      case HwFault::Kind::kStuckRegister:
        s += fmt::format("register {} {} {} {}\n", layer, node, h.bit, h.one ? 1 : 0);
        break;
      case HwFault::Kind::kStuckState:
        s += fmt::format("memory {} {} {} {} {} {}\n", layer, d[h.layer].states[h.node].name, h.stream, h.lane, h.bit, h.one ? 1 : 0);
        break;
      case HwFault::Kind::kStuckTable:
        s += fmt::format("table {} {} {} {} {}\n", layer, node, h.entry, h.bit, h.one ? 1 : 0);
        break;
    }
  }
  return s;
}

}  // namespace hw::faults
