#include "faults/rtl_inject.h"

#include <fmt/format.h>

#include <map>

#include "common/diag.h"
#include "emit/verilog_text.h"
#include "schedule/pipeline.h"

namespace hw::faults {

namespace {

uint64_t Mask(int width) { return width >= 64 ? ~0ull : (1ull << width) - 1; }

std::string Tap(const std::string& base, int delay) {  // emit/verilog.cpp's delay-line naming
  return delay == 0 ? base : fmt::format("{}_d{}", base, delay);
}

struct Masks {
  uint64_t and_mask = ~0ull, or_mask = 0;
  void Add(int bit, bool one) {
    if (one) or_mask |= 1ull << bit;
    else and_mask &= ~(1ull << bit);
  }
  std::string Apply(const std::string& expr, int width) const {
    return fmt::format("(({}) & {}) | {}", expr, emit::Literal(width, static_cast<int64_t>(and_mask & Mask(width))),
                       emit::Literal(width, static_cast<int64_t>(or_mask & Mask(width))));
  }
};

// Replaces the text between `prefix` and the next ';' with f(old text).
template <typename F>
void Rewrite(std::string& text, const std::string& prefix, const std::string& file, F f) {
  const size_t at = text.find(prefix);
  HW_CHECK(at != std::string::npos, "fault injection: '" + prefix + "' not found in " + file);
  HW_CHECK(text.find(prefix, at + 1) == std::string::npos, "fault injection: '" + prefix + "' twice in " + file);
  const size_t begin = at + prefix.size();
  const size_t end = text.find(';', begin);
  text.replace(begin, end - begin, f(text.substr(begin, end - begin)));
}

}  // namespace

void InjectIntoRtl(std::vector<emit::EmittedFile>& files, const ir::Design& d, const std::vector<HwFault>& faults) {
  CheckHwFaults(faults, d, "fault set");
  // Group by layer and node so that several bits of one signal become one mask.
  std::map<std::pair<int, int>, Masks> out_masks;
  std::map<std::pair<int, int>, int> dropped;
  std::map<std::tuple<int, int, int, bool>, Masks> reg_masks;
  for (const HwFault& f : faults) {
    switch (f.kind) {
      case HwFault::Kind::kStuckOutput: out_masks[{f.layer, f.node}].Add(f.bit, f.one); break;
      case HwFault::Kind::kDropOperand: dropped[{f.layer, f.node}] |= 1 << f.operand; break;
      case HwFault::Kind::kStuckRegister: reg_masks[{f.layer, f.node, f.rank, f.index_line}].Add(f.bit, f.one); break;
    }
  }
  auto file_of = [&](int layer) -> std::string& {
    const std::string name = d.layers[layer].name + ".v";
    for (emit::EmittedFile& e : files)
      if (e.name == name) return e.text;
    HW_CHECK(false, "fault injection: no file " + name);
    return files[0].text;
  };
  std::map<std::pair<int, int>, bool> adders;
  for (const auto& [k, m] : out_masks) adders[k] = true;
  for (const auto& [k, m] : dropped) adders[k] = true;
  for (const auto& entry : adders) {
    const std::pair<int, int> key = entry.first;  // a copy: clang 14 cannot capture structured bindings
    const ir::Module& mod = d.layers[key.first];
    const ir::Node& n = mod.nodes[key.second];
    std::string& text = file_of(key.first);
    const std::string prefix = fmt::format("  wire [{}:0] {} = ", n.width - 1, n.name);
    Rewrite(text, prefix, mod.name + ".v", [&](const std::string& old) {
      std::string expr = old;
      auto dit = dropped.find(key);
      if (dit != dropped.end()) {
        // Rebuild the sum from the operands that are still connected, as the emitter prints them.
        emit::UseTracker uses;
        expr.clear();
        for (size_t k = 0; k < n.ops.size(); ++k) {
          if ((dit->second >> k) & 1) continue;
          const ir::Operand& op = n.ops[k];
          const ir::Node& src = mod.nodes[op.node];
          std::string term = src.kind == ir::NodeKind::kConst
                                 ? emit::Literal(n.width, src.value * (int64_t{1} << op.shift))
                                 : emit::Align(Tap(src.name, schedule::DelayFor(mod, op.node, n.stage)), src.width,
                                               src.is_signed, op.shift, n.width, uses);
          if (term.empty()) continue;
          if (expr.empty()) expr = (op.neg ? "-" : "") + term;
          else expr += (op.neg ? " - " : " + ") + term;
        }
        if (expr.empty()) expr = emit::Literal(n.width, 0);
      }
      auto mit = out_masks.find(key);
      return mit == out_masks.end() ? expr : mit->second.Apply(expr, n.width);
    });
  }
  for (const auto& entry : reg_masks) {
    const auto& masks = entry.second;  // not a structured binding: clang 14 cannot capture those in a lambda
    const auto [layer, node, rank, index_line] = entry.first;
    const ir::Module& mod = d.layers[layer];
    const ir::Node& n = mod.nodes[node];
    const std::string base = n.kind == ir::NodeKind::kMaxSel ? n.name + (index_line ? "_i" : "_v") : n.name;
    const int width = index_line ? n.index_width : n.width;
    const std::string prefix = fmt::format("if (ce) {} <= ", Tap(base, rank));
    Rewrite(file_of(layer), prefix, mod.name + ".v",
            [&](const std::string& old) { return masks.Apply(old, width); });
  }
}

}  // namespace hw::faults
