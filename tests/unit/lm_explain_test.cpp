// `hardwire explain` on a language model: the explained op's adders are the whole model's (same lowering, same
// count), the explained graph computes the reference's integer dense op, and bad requests name the field.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>

#include "common/diag.h"
#include "explain/lm_explain.h"
#include "model/lm_model_io.h"
#include "model/random_lm.h"
#include "passes/lower_lm.h"
#include "reference/lm_reference.h"

namespace hw::explain {
namespace {

model::LmModel Model() {
  const model::RandomLmFiles f = model::RandomLm(model::RandomLmSpec{}, 5);
  return model::ParseLmModel(f.manifest, "lm.json", model::SerializeSafetensors(f.tensors), "lm.safetensors");
}

TEST(LmExplain, ShowsTheWholeModelsAddersForEveryNeuron) {
  const model::LmModel m = Model();
  passes::lm::LmLowerOptions o;
  o.adders_per_stage = 2;
  const hw::ir2::Graph whole = passes::lm::LowerLmModel(m, o);
  int checked = 0;
  for (const model::LmOp& op : m.ops) {
    if (op.kind != model::LmOpKind::kDense) continue;
    // Adders of the op in the whole model (its group) vs the union of the explained cones.
    int in_model = 0;
    for (const hw::ir2::Node& n : whole.nodes)
      if (n.op == hw::ir2::Op::kAdd && n.group >= 0 && whole.groups[n.group] == op.name) ++in_model;
    int own = 0;
    for (int r = 0; r < op.length; ++r) {
      const NeuronExplanation e = ExplainLmNeuron(m, op.name, r, 2);
      EXPECT_EQ(e.op_adders, in_model) << op.name;
      own += e.adders - e.shared_adders;
      EXPECT_NE(e.text.find(fmt::format("op '{}'", op.name)), std::string::npos);
      EXPECT_NE(e.dot.find("digraph"), std::string::npos);
    }
    // Own adders belong to one neuron each, so together they cannot exceed the op's.
    EXPECT_LE(own, in_model) << op.name;
    EXPECT_GT(in_model, 0) << op.name;
    ++checked;
  }
  EXPECT_GT(checked, 2);
}

TEST(LmExplain, RefusesOtherOpsAndNeuronsOutOfRange) {
  const model::LmModel m = Model();
  auto error = [&](const std::string& op, int neuron) {
    try {
      ExplainLmNeuron(m, op, neuron, 1);
    } catch (const Error& e) {
      return e.messages().front();
    }
    return std::string();
  };
  EXPECT_NE(error("nope", 0).find("field '--layer': no op 'nope' (dense ops:"), std::string::npos);
  std::string attention;
  for (const model::LmOp& op : m.ops)
    if (op.kind == model::LmOpKind::kAttention) attention = op.name;
  EXPECT_NE(error(attention, 0).find("explain needs a dense op"), std::string::npos);
  std::string dense;
  for (const model::LmOp& op : m.ops)
    if (op.kind == model::LmOpKind::kDense) dense = op.name;
  EXPECT_NE(error(dense, 100000).find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace hw::explain
