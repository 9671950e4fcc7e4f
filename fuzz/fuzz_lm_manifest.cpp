// libFuzzer target: the graph-model (version 2) manifest parser and validator. The input is the manifest text;
// the tensors are those of a fixed random language model (model/random_lm.h), whose manifest is the seed.
// Any input must either load or throw hw::Error; a loaded model must satisfy the invariants the reference
// relies on, and one reference step must run.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/diag.h"
#include "model/lm_model_io.h"
#include "model/random_lm.h"
#include "reference/lm_reference.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kTensors = hw::model::SerializeSafetensors(hw::model::RandomLm(hw::model::RandomLmSpec{}, 1).tensors);
  const std::string manifest(reinterpret_cast<const char*>(data), size);
  hw::model::LmModel m;
  try {
    m = hw::model::ParseLmModel(manifest, "model.json", kTensors, "random_lm.safetensors");
  } catch (const hw::Error&) {
    return 0;
  }
  Check(m.vocab_size() >= 1 && m.vocab_size() <= 128 && m.context >= 1 && m.context <= 4096);
  Check(m.output_op == static_cast<int>(m.ops.size()) - 1 && m.sample().kind == hw::model::LmOpKind::kSample);
  for (const auto& op : m.ops) {
    for (int in : op.inputs) Check(in >= 0 && in < static_cast<int>(m.values.size()));
    Check(op.lo <= op.hi);
  }
  hw::reference::LmStream s(m);
  const auto& logits = s.Step(0);
  Check(static_cast<int>(logits.size()) == m.vocab_size());
  uint32_t state = 1;
  const int t = hw::reference::ChooseToken(m.sample(), logits, &state);
  Check(t >= 0 && t < m.vocab_size());
  return 0;
}
