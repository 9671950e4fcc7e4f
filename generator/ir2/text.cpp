#include "ir2/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/diag.h"
#include "ir2/op_table.h"

namespace hw::ir2 {

std::string ToString(const Type& t) { return fmt::format("{}{}", t.is_signed ? 's' : 'u', t.width); }

namespace {

std::string UseText(const Graph& g, const Use& u) {
  std::string s = u.neg ? "-" : "";
  s += fmt::format("%{}", u.node);
  if (u.result != 0 || (u.node >= 0 && u.node < static_cast<int>(g.nodes.size()) && Results(g, g.nodes[u.node]) > 1))
    s += fmt::format(".{}", u.result);
  if (u.shift) s += fmt::format("<<{}", u.shift);
  return s;
}

std::string List(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

std::string Dump(const Graph& g, bool annotate) {
  std::string out = fmt::format("graph {} streams={}{}\n", g.name, g.streams, g.inputs_registered ? " inputs=registered" : "");
  for (const StateDecl& s : g.states)
    out += fmt::format("state {} {}{}{}\n", s.name, ToString(s.type), s.lanes > 1 ? fmt::format(" lanes={}", s.lanes) : "",
                       s.reset ? fmt::format(" init={}", s.init) : " noreset");
  for (const MemDecl& m : g.memories) {
    out += fmt::format("mem {} {} depth={}{}", m.name, ToString(m.type), m.depth, m.per_stream ? " per_stream" : "");
    if (!m.init.empty()) out += " init=" + List(m.init);
    out += '\n';
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const OpInfo& info = Info(n.op);
    if (!n.comment.empty()) {
      std::istringstream lines(n.comment);
      for (std::string l; std::getline(lines, l);) out += "// " + l + "\n";
    }
    std::string line = fmt::format("%{} = {}", i, info.name);
    std::vector<std::string> parts;
    if (info.symbol != SymbolKind::kNone) parts.push_back(n.symbol);
    for (const Use& u : n.operands) parts.push_back(UseText(g, u));
    for (size_t k = 0; k < parts.size(); ++k) line += (k ? ", " : " ") + parts[k];
    switch (n.op) {
      case Op::kInput: line += fmt::format(" {}", ToString(n.type)); break;
      case Op::kConst: line += fmt::format(" {}", n.value); break;
      case Op::kRequant: line += fmt::format(" add={} shift={} clamp=[{}, {}]", n.add, n.shift, n.lo, n.hi); break;
      case Op::kLut: line += fmt::format(" offset={} table={}", n.offset, List(n.table)); break;
      case Op::kCmp: line += fmt::format(" pred={}", kPredicates[n.pred]); break;
      default: break;
    }
    if (annotate && (!n.range.empty() || g.scheduled())) {
      line += " ;";
      for (const Range& r : n.range) line += fmt::format(" [{}, {}] {}", r.lo, r.hi, ToString(TypeOf(r)));
      if (g.scheduled()) line += fmt::format(" L{} S{}", g.schedule[i].level, g.schedule[i].stage);
    }
    out += line + "\n";
  }
  return out;
}

namespace {

// A small cursor over one line with precise error messages.
class Line {
 public:
  Line(const std::string& text, const std::string& source, int number) : s_(text), src_(source), no_(number) {}
  [[noreturn]] void Fail(const std::string& msg) const {
    throw Error(Location{fmt::format("{}:{}", src_, no_), "", ""}, msg + fmt::format(" (at column {})", pos_ + 1));
  }
  void Skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool AtEnd() {
    Skip();
    return pos_ >= s_.size() || s_[pos_] == ';';
  }
  bool Accept(const std::string& tok) {
    Skip();
    if (s_.compare(pos_, tok.size(), tok) == 0) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  void Expect(const std::string& tok) {
    if (!Accept(tok)) Fail("expected '" + tok + "'");
  }
  std::string Word() {
    Skip();
    const size_t b = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    if (b == pos_) Fail("expected a name");
    return s_.substr(b, pos_ - b);
  }
  int64_t Int() {
    Skip();
    size_t b = pos_;
    if (pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ == b || (pos_ == b + 1 && !std::isdigit(static_cast<unsigned char>(s_[b])))) Fail("expected an integer");
    try {
      return std::stoll(s_.substr(b, pos_ - b));
    } catch (const std::exception&) {
      pos_ = b;
      Fail("integer out of range");
    }
  }
  std::vector<int64_t> IntList() {
    Expect("[");
    std::vector<int64_t> v;
    if (Accept("]")) return v;
    do v.push_back(Int());
    while (Accept(","));
    Expect("]");
    return v;
  }
  Type ParseType() {
    Skip();
    if (pos_ >= s_.size() || (s_[pos_] != 's' && s_[pos_] != 'u')) Fail("expected a type such as s8 or u12");
    Type t;
    t.is_signed = s_[pos_++] == 's';
    const int64_t w = Int();
    if (w < 1 || w > 64) Fail(fmt::format("type width {} outside 1 .. 64", w));
    t.width = static_cast<int>(w);
    return t;
  }
  bool PeekUse() {
    Skip();
    return pos_ < s_.size() && (s_[pos_] == '%' || (s_[pos_] == '-' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '%'));
  }
  Use ParseUse() {
    Use u;
    u.neg = Accept("-");
    Expect("%");
    u.node = static_cast<int>(Int());
    if (Accept(".")) u.result = static_cast<int>(Int());
    if (Accept("<<")) {
      const int64_t k = Int();
      if (k < 0 || k > 62) Fail("shift outside 0 .. 62");
      u.shift = static_cast<int>(k);
    }
    return u;
  }
  // key=INT
  int64_t Attr(const std::string& key) {
    Expect(key + "=");
    return Int();
  }

 private:
  const std::string& s_;
  std::string src_;
  int no_;
  size_t pos_ = 0;
};

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

Graph Parse(const std::string& text, const std::string& source) {
  Graph g;
  std::istringstream in(text);
  std::string raw, comment;
  int no = 0;
  bool have_header = false;
  while (std::getline(in, raw)) {
    ++no;
    const std::string l = Trim(raw);
    if (l.empty()) continue;
    if (l.rfind("//", 0) == 0) {
      if (!comment.empty()) comment += '\n';
      comment += Trim(l.substr(2));
      continue;
    }
    Line c(l, source, no);
    if (!have_header) {
      c.Expect("graph");
      g.name = c.Word();
      g.streams = static_cast<int>(c.Attr("streams"));
      if (g.streams < 1 || g.streams > 65536) c.Fail("streams must be 1 .. 65536");
      if (c.Accept("inputs=")) {
        if (c.Word() != "registered") c.Fail("inputs= takes 'registered'");
        g.inputs_registered = true;
      }
      if (!c.AtEnd()) c.Fail("unexpected text after the graph header");
      have_header = true;
      continue;
    }
    if (c.Accept("state ")) {
      StateDecl s;
      s.name = c.Word();
      s.type = c.ParseType();
      if (c.Accept("lanes=")) {
        const int64_t l = c.Int();
        if (l < 1 || l > 4096) c.Fail("lanes must be 1 .. 4096");
        s.lanes = static_cast<int>(l);
      }
      if (c.Accept("noreset")) s.reset = false;
      else s.init = c.Attr("init");
      if (!c.AtEnd()) c.Fail("unexpected text");
      g.states.push_back(s);
      continue;
    }
    if (c.Accept("mem ")) {
      MemDecl m;
      m.name = c.Word();
      m.type = c.ParseType();
      const int64_t d = c.Attr("depth");
      if (d < 1 || d > (int64_t{1} << 24)) c.Fail("depth must be 1 .. 2^24");
      m.depth = static_cast<int>(d);
      if (c.Accept("per_stream")) m.per_stream = true;
      if (c.Accept("init=")) m.init = c.IntList();
      if (!c.AtEnd()) c.Fail("unexpected text");
      g.memories.push_back(m);
      continue;
    }
    c.Expect("%");
    const int64_t id = c.Int();
    if (id != static_cast<int64_t>(g.nodes.size())) c.Fail(fmt::format("expected node %{} (nodes are numbered in order)", g.nodes.size()));
    c.Expect("=");
    const std::string opname = c.Word();
    const OpInfo* info = FindOp(opname);
    if (!info) c.Fail("unknown op '" + opname + "'");
    Node n;
    n.op = info->op;
    n.comment = comment;
    comment.clear();
    bool operands = false;
    if (info->symbol != SymbolKind::kNone) {
      n.symbol = c.Word();
      operands = c.Accept(",");
    } else {
      operands = c.PeekUse();
    }
    if (operands) {
      do n.operands.push_back(c.ParseUse());
      while (c.Accept(","));
    }
    switch (n.op) {
      case Op::kInput: n.type = c.ParseType(); break;
      case Op::kConst: n.value = c.Int(); break;
      case Op::kRequant:
        n.add = c.Attr("add");
        n.shift = static_cast<int>(c.Attr("shift"));
        if (n.shift < 0 || n.shift > 62) c.Fail("shift outside 0 .. 62");
        c.Expect("clamp=[");
        n.lo = c.Int();
        c.Expect(",");
        n.hi = c.Int();
        c.Expect("]");
        break;
      case Op::kCmp: {
        c.Expect("pred=");
        const std::string p = c.Word();
        const auto* it = std::find(std::begin(kPredicates), std::end(kPredicates), p);
        if (it == std::end(kPredicates)) c.Fail("unknown predicate '" + p + "' (lt le eq ne gt ge)");
        n.pred = static_cast<int>(it - std::begin(kPredicates));
        break;
      }
      case Op::kLut:
        n.offset = c.Attr("offset");
        c.Expect("table=");
        n.table = c.IntList();
        break;
      default: break;
    }
    if (!c.AtEnd()) c.Fail("unexpected text");
    g.nodes.push_back(std::move(n));
  }
  if (!have_header) throw Error(Location{source, "", ""}, "empty IR text (expected 'graph NAME streams=S')");
  return g;
}

}  // namespace hw::ir2
