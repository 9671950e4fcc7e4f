#include "ir2/design.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "common/diag.h"
#include "ir2/op_table.h"
#include "ir2/text.h"

namespace hw::ir2 {

namespace {

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

const Bundle* FindBundle(const std::vector<Bundle>& bs, const std::string& name) {
  for (const Bundle& b : bs)
    if (b.name == name) return &b;
  return nullptr;
}

std::string Shape(const Bundle& b) { return fmt::format("{} x {}", b.size(), ToString(b.element)); }

std::string Name(const Design& d, const Endpoint& e) {
  if (e.instance < 0) return e.port;
  if (e.instance >= static_cast<int>(d.instances.size())) return fmt::format("instance #{}.{}", e.instance, e.port);
  return d.instances[e.instance].name + "." + e.port;
}

// The bundle an endpoint names: a source (an instance output or the design input) or a sink (an instance input or
// the design output); nullptr if there is none.
const Bundle* EndpointBundle(const Design& d, const Endpoint& e, bool source) {
  if (e.instance < 0) {
    const Bundle& port = source ? d.input : d.output;
    return e.port == port.name ? &port : nullptr;
  }
  if (e.instance >= static_cast<int>(d.instances.size())) return nullptr;
  const int m = d.instances[e.instance].module;
  if (m < 0 || m >= static_cast<int>(d.modules.size())) return nullptr;
  return FindBundle(source ? d.modules[m].outputs : d.modules[m].inputs, e.port);
}
const Bundle* Source(const Design& d, const Endpoint& e) { return EndpointBundle(d, e, true); }
const Bundle* Sink(const Design& d, const Endpoint& e) { return EndpointBundle(d, e, false); }

void CheckModule(const Design& d, int index, std::vector<std::string>& errs) {
  const Module& mod = d.modules[index];
  const Graph& g = mod.graph;
  const std::string where = fmt::format("module '{}'", g.name);
  if (g.streams != d.streams)
    errs.push_back(fmt::format("{}: {} stream(s), the design has {}", where, g.streams, d.streams));
  std::map<std::string, const Node*> in, out;
  for (int i : g.Inputs()) in[g.nodes[i].symbol] = &g.nodes[i];
  for (int o : g.Outputs()) out[g.nodes[o].symbol] = &g.nodes[o];
  std::set<std::string> names;
  auto check = [&](const std::vector<Bundle>& bs, bool inputs) {
    for (const Bundle& b : bs) {
      if (!IsIdentifier(b.name) || !names.insert(b.name).second)
        errs.push_back(fmt::format("{}: port name '{}' is not a Verilog identifier or is used twice", where, b.name));
      std::set<std::string> seen;
      for (const std::string& member : b.members) {
        if (!seen.insert(member).second) {
          errs.push_back(fmt::format("{}: port '{}' lists '{}' twice", where, b.name, member));
          continue;
        }
        const auto& ports = inputs ? in : out;
        const auto it = ports.find(member);
        if (it == ports.end()) {
          errs.push_back(fmt::format("{}: port '{}' names '{}', which is no {} of the graph", where, b.name, member,
                                     inputs ? "input" : "output"));
          continue;
        }
        // An input element is the graph input's type; an output element must hold the value the graph computes.
        if (inputs && !(it->second->type == b.element))
          errs.push_back(fmt::format("{}: port '{}' carries {} but input '{}' is {}", where, b.name, ToString(b.element),
                                     member, ToString(it->second->type)));
        if (!inputs && !it->second->operands.empty()) {
          const Use& u = it->second->operands[0];
          if (static_cast<int>(g.nodes[u.node].range.size()) > u.result) {
            const Range r = OperandRange(g, u);  // with its shift (trailing-zeros)
            if (r.lo < b.element.min() || r.hi > b.element.max())
              errs.push_back(fmt::format("{}: port '{}' carries {} but output '{}' reaches [{}, {}]", where, b.name,
                                         ToString(b.element), member, r.lo, r.hi));
          }
        }
      }
    }
  };
  check(mod.inputs, true);
  check(mod.outputs, false);
  for (const auto& [name, node] : in) {
    bool bundled = false;
    for (const Bundle& b : mod.inputs) bundled |= std::find(b.members.begin(), b.members.end(), name) != b.members.end();
    if (!bundled) errs.push_back(fmt::format("{}: input '{}' is in no port (nothing would drive it)", where, name));
  }
}

}  // namespace

std::vector<std::string> VerifyDesign(const Design& d) {
  std::vector<std::string> errs;
  if (!IsIdentifier(d.name)) errs.push_back(fmt::format("design name '{}' is not a Verilog identifier", d.name));
  if (d.streams < 1) errs.push_back(fmt::format("design '{}': stream count {} is below 1", d.name, d.streams));
  for (size_t m = 0; m < d.modules.size(); ++m) CheckModule(d, static_cast<int>(m), errs);
  std::set<std::string> names;
  for (const Instance& inst : d.instances) {
    if (!IsIdentifier(inst.name) || !names.insert(inst.name).second)
      errs.push_back(fmt::format("instance name '{}' is not a Verilog identifier or is used twice", inst.name));
    if (inst.module < 0 || inst.module >= static_cast<int>(d.modules.size()))
      errs.push_back(fmt::format("instance '{}': no module #{}", inst.name, inst.module));
  }
  if (!errs.empty()) return errs;

  // Every sink driven exactly once, by a source of the same shape.
  std::map<std::pair<int, std::string>, int> drivers;
  for (const Connection& c : d.connections) {
    const Bundle* from = Source(d, c.from);
    const Bundle* to = Sink(d, c.to);
    if (!from) errs.push_back(fmt::format("connection {} -> {}: '{}' is no output", Name(d, c.from), Name(d, c.to), Name(d, c.from)));
    if (!to) errs.push_back(fmt::format("connection {} -> {}: '{}' is no input", Name(d, c.from), Name(d, c.to), Name(d, c.to)));
    if (!from || !to) continue;
    if (from->size() != to->size() || !(from->element == to->element))
      errs.push_back(fmt::format("connection {} -> {}: {} does not fit {}", Name(d, c.from), Name(d, c.to), Shape(*from), Shape(*to)));
    if (c.from.instance >= 0 && c.from.instance == c.to.instance)
      errs.push_back(fmt::format("connection {} -> {}: an instance feeds itself (feedback stays inside a module, as state)",
                                 Name(d, c.from), Name(d, c.to)));
    ++drivers[{c.to.instance, c.to.port}];
  }
  auto driven = [&](int instance, const std::string& port) {
    const auto it = drivers.find({instance, port});
    const int n = it == drivers.end() ? 0 : it->second;
    if (n != 1) errs.push_back(fmt::format("'{}' is driven {} times (must be once)", Name(d, {instance, port}), n));
  };
  for (size_t i = 0; i < d.instances.size(); ++i)
    for (const Bundle& b : d.ModuleOf(static_cast<int>(i)).inputs) driven(static_cast<int>(i), b.name);
  driven(-1, d.output.name);
  if (!errs.empty()) return errs;

  // Clocks: an instance starts when all its inputs are there; they must all arrive in the same clock. Walk the
  // instances in dependency order (a cycle leaves some never ready).
  const int n = static_cast<int>(d.instances.size());
  std::vector<int> start(n, -1), pending(n, 0);
  for (const Connection& c : d.connections)
    if (c.to.instance >= 0) ++pending[c.to.instance];
  std::vector<int> ready;
  auto arrive = [&](int instance, int clock, const Connection& c) {
    if (start[instance] >= 0 && start[instance] != clock)
      errs.push_back(fmt::format("instance '{}': input '{}' arrives in clock {}, another input in clock {} (a skip needs {} clock(s) of delay)",
                                 d.instances[instance].name, c.to.port, clock, start[instance], std::abs(clock - start[instance])));
    start[instance] = std::max(start[instance], clock);
    if (--pending[instance] == 0) ready.push_back(instance);
  };
  for (const Connection& c : d.connections)
    if (c.from.instance < 0 && c.to.instance >= 0) arrive(c.to.instance, 1, c);
  for (size_t at = 0; at < ready.size(); ++at) {
    const int i = ready[at];
    const int done = start[i] + d.ModuleOf(i).graph.latency;
    for (const Connection& c : d.connections)
      if (c.from.instance == i && c.to.instance >= 0) arrive(c.to.instance, done, c);
  }
  for (int i = 0; i < n; ++i)
    if (pending[i] > 0) errs.push_back(fmt::format("instance '{}' is on a cycle of connections", d.instances[i].name));
  return errs;
}

std::vector<int> InstanceStart(const Design& d) {
  const int n = static_cast<int>(d.instances.size());
  std::vector<int> start(n, -1);
  // Instances are few: relax until nothing changes (a valid design is acyclic, so n rounds suffice).
  for (int round = 0; round <= n; ++round) {
    bool changed = false;
    for (const Connection& c : d.connections) {
      if (c.to.instance < 0) continue;
      const int clock = c.from.instance < 0 ? 1
                        : start[c.from.instance] < 0 ? -1
                                                     : start[c.from.instance] + d.ModuleOf(c.from.instance).graph.latency;
      if (clock > start[c.to.instance]) start[c.to.instance] = clock, changed = true;
    }
    if (!changed) break;
  }
  return start;
}

int Latency(const Design& d) {
  const std::vector<int> start = InstanceStart(d);
  for (const Connection& c : d.connections)
    if (c.to.instance < 0) return c.from.instance < 0 ? 1 : start[c.from.instance] + d.ModuleOf(c.from.instance).graph.latency;
  throw InternalError(fmt::format("design '{}': nothing drives its output", d.name));
}

namespace {

// Position of scalar port `symbol` among the graph's inputs (or outputs), in node order.
int PortIndex(const Graph& g, const std::string& symbol, bool output) {
  const std::vector<int> ports = output ? g.Outputs() : g.Inputs();
  for (size_t i = 0; i < ports.size(); ++i)
    if (g.nodes[ports[i]].symbol == symbol) return static_cast<int>(i);
  throw InternalError(fmt::format("graph '{}' has no {} '{}'", g.name, output ? "output" : "input", symbol));
}

}  // namespace

DesignInterpreter::DesignInterpreter(const Design& d) : d_(&d) {
  const int n = static_cast<int>(d.instances.size());
  const std::vector<int> start = InstanceStart(d);
  for (int i = 0; i < n; ++i) order_.push_back(i);
  std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) { return start[a] < start[b]; });
  for (int i = 0; i < n; ++i) interpreters_.emplace_back(d.ModuleOf(i).graph);
  feeds_.resize(n);
  // Where element k of a source bundle comes from: (instance, graph output index) or the design input's k.
  auto source = [&](const Endpoint& from, int k) {
    Feed f;
    f.from_instance = from.instance;
    if (from.instance < 0) {
      f.element = k;
    } else {
      const Module& m = d.ModuleOf(from.instance);
      for (const Bundle& b : m.outputs)
        if (b.name == from.port) f.from_output = PortIndex(m.graph, b.members[k], true);
    }
    return f;
  };
  for (int i = 0; i < n; ++i) {
    const Module& m = d.ModuleOf(i);
    feeds_[i].resize(m.graph.Inputs().size());
    for (const Connection& c : d.connections) {
      if (c.to.instance != i) continue;
      for (const Bundle& b : m.inputs)
        if (b.name == c.to.port)
          for (int k = 0; k < b.size(); ++k) feeds_[i][PortIndex(m.graph, b.members[k], false)] = source(c.from, k);
    }
  }
  for (const Connection& c : d.connections)
    if (c.to.instance < 0) {
      out_instance_ = c.from.instance;
      for (int k = 0; k < d.output.size(); ++k) result_.push_back(out_instance_ < 0 ? k : source(c.from, k).from_output);
    }
}

void DesignInterpreter::Reset() {
  for (Interpreter& it : interpreters_) it.Reset();
}

std::vector<int64_t> DesignInterpreter::Step(const std::vector<int64_t>& input, bool valid) {
  HW_CHECK(!valid || static_cast<int>(input.size()) == d_->input.size(),
           fmt::format("design '{}': {} input element(s), expected {}", d_->name, input.size(), d_->input.size()));
  std::vector<std::vector<int64_t>> outs(interpreters_.size());
  for (int i : order_) {
    std::vector<int64_t> in;
    if (valid)
      for (const Feed& f : feeds_[i]) in.push_back(f.from_instance < 0 ? input[f.element] : outs[f.from_instance][f.from_output]);
    outs[i] = interpreters_[i].Step(in, valid);
  }
  if (!valid) return {};
  std::vector<int64_t> y;
  for (int k : result_) y.push_back(out_instance_ < 0 ? input[k] : outs[out_instance_][k]);
  return y;
}

}  // namespace hw::ir2
