#include "model/model.h"

namespace hw::model {

const char* ToString(WeightEncoding e) {
  switch (e) {
    case WeightEncoding::kSigned: return "signed";
    case WeightEncoding::kUnsigned: return "unsigned";
    case WeightEncoding::kBinary: return "binary";
    case WeightEncoding::kTernary: return "ternary";
  }
  return "?";
}

const char* Layer::kind() const { return std::holds_alternative<DenseLayer>(op) ? "dense" : "argmax"; }

int ArgmaxIndexBits(int n) {
  int b = 1;
  while ((int64_t{1} << b) < n) ++b;
  return b;
}

IntType Model::OutputType(int i) const {
  if (i < 0) return input;
  if (const auto* d = std::get_if<DenseLayer>(&layers[i].op)) return d->output;
  return IntType{false, ArgmaxIndexBits(OutputLength(i - 1))};
}

int Model::OutputLength(int i) const {
  if (i < 0) return input_length;
  if (const auto* d = std::get_if<DenseLayer>(&layers[i].op)) return d->out;
  return 1;
}

}  // namespace hw::model
