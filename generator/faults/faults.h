// Fault models for a hardwired model, at the three levels where silicon (or its netlist) breaks.
//
//   weight   : a constant of the model is wrong. zero (w -> 0), flip (w -> -w), digit-remove (one non-zero
//              canonical-signed-digit of w removed: 6 = +8 -2 -> 8), digit-add (a +-2^k added where the CSD of
//              w has a zero digit: 2 -> 2 + 1 = 3). The faulty model is what would have been printed had the
//              weight been wrong; it is evaluated with the reference forward pass.
//   adder    : a defect in the generated adder graph (the `add` ops of a layer's IR v2 graph: the shared CMVM
//              subexpressions, every neuron's tree and its scale tree; `n<N>` in the RTL). stuck: one output
//              bit of the adder is stuck at 0 or 1 (every reader sees it, so a shared subexpression hits several
//              neurons); drop: one operand is disconnected (reads as 0).
//   register : one flip-flop of a pipeline register (a `reg` op placed by the IR v2 pass pipeline, `r<N>` in
//              the RTL; a delay line is a chain of them, so each rank is its own op) stuck at 0 or 1.
//
// Hardware faults name an op of a layer's scheduled IR v2 graph (driver::Compile's CompiledDesign::graphs,
// one per model layer) by (layer index, op id). Values in the faulty design are bit patterns of each op's
// declared width: a stuck bit can leave an op's proven range, and every reader then wraps or extends it
// exactly as the emitted Verilog does (faults/interpreter.h).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ir2/ir.h"
#include "model/model.h"

namespace hw::faults {

enum class Level { kWeight, kAdder, kRegister, kMemory, kTable };  // memory, table: the language model
const char* ToString(Level l);
Level ParseLevel(const std::string& s);  // throws hw::Error naming the field --level

struct WeightFault {
  enum class Kind { kZero, kFlip, kDigitRemove, kDigitAdd };
  Kind kind = Kind::kZero;
  int layer = 0;  // model layer index (a dense layer)
  int row = 0;    // output channel
  int col = 0;    // input element
  int position = 0;  // digit-remove / digit-add: the digit 2^position
  bool neg = false;  // digit-add: the added digit is -2^position
};

// The layer graphs of a compiled dense chain (driver::CompiledDesign::graphs): graph i is model layer i.
using Graphs = std::vector<hw::ir2::Graph>;

struct HwFault {
  // kStuckState: a stuck bit of a per-stream state word (a K/V cache row of the language model: `st_<name>` in
  // the RTL), seen by every read of that stream's word; kStuckTable: a stuck bit of one entry of a lookup
  // table (a `lut` op: embedding columns, rsqrt / exp2 / reciprocal / GELU tables), a ROM.
  enum class Kind { kStuckOutput, kDropOperand, kStuckRegister, kStuckState, kStuckTable };
  Kind kind = Kind::kStuckOutput;
  int layer = 0;  // index into the layer graphs
  int node = 0;   // op id in that graph: an add (stuck output, drop), a reg (stuck register), a lut (table);
                  // kStuckState: the index of the state in Graph::states
  int bit = 0;         // stuck-output / stuck-register / state / table
  bool one = false;    // stuck at 1 (else 0)
  int operand = 0;     // drop: which operand
  int stream = 0;      // state: the stream slot whose word is faulty
  int lane = 0;        // state: the lane of the word
  int entry = 0;       // table: the entry (index into the lut's table)
};

// The RTL name of op `id` of `g` (n<N>, r<N> for a reg), as emit/ir2_verilog.cpp prints it.
std::string OpName(const hw::ir2::Graph& g, int id);
// The declared width of result `r` of op `id` (what the emitter declares: the type of its proven range).
int OpWidth(const hw::ir2::Graph& g, int id, int r = 0);

struct FaultSet {
  std::vector<WeightFault> weights;
  std::vector<HwFault> hw;
  size_t size() const { return weights.size() + hw.size(); }
};

// Where faults can be: the sites of each level in a compiled design, in a fixed order (layer, node, bit),
// so that a seeded draw is reproducible.
struct Sites {
  struct Weight { int layer, row, col; };
  struct AdderBit { int layer, node, bit; };
  struct Adder { int layer, node; };
  struct RegisterBit { int layer, node, bit; };
  std::vector<Weight> weights;          // every weight of every dense layer (zeros included: a zero is a
                                        // constant too, and digit-add can make it non-zero)
  std::vector<AdderBit> adder_bits;     // every output bit of every add op
  std::vector<Adder> adders;            // every add op (drop-operand sites)
  std::vector<RegisterBit> register_bits;  // every flip-flop of every reg op
};
Sites EnumerateSites(const model::Model& m, const Graphs& d);

// How the random process picks faults. Each site is faulty independently with probability `rate`
// (a Bernoulli draw per weight / per adder output bit / per register bit), or, with `count` >= 0, exactly
// `count` distinct sites are drawn uniformly. Restricting to one layer (`layer` = name, "" = all) gives the
// per-layer sensitivity.
struct SampleSpec {
  Level level = Level::kAdder;
  double rate = 0;
  long count = -1;
  std::string layer;
  // weight faults: the kind of every faulty weight; "mix" draws zero / flip / digit-remove / digit-add uniformly.
  std::string weight_kind = "mix";
  // adder faults: "stuck" (per output bit, stuck-at-0 or 1 with equal probability) or "drop" (per adder,
  // operand 0 or 1 with equal probability).
  std::string adder_kind = "stuck";
};
// Validates `spec` (rate in [0, 1], known kinds and layer) and throws hw::Error naming the field.
void CheckSpec(const SampleSpec& spec, const model::Model& m);
FaultSet Sample(const SampleSpec& spec, const Sites& sites, const model::Model& m, const Graphs& d,
                uint64_t seed);

// A random fault of `kind` ("mix" draws one of the four uniformly) on weight `w` (of `weight_bits` bits) at
// (layer, row, col): digit-remove removes one of w's CSD digits, digit-add adds +-2^k where w has none (k <
// weight_bits); when there is none to remove / add, the fault is a zero. Uses `rng` the same way every time.
WeightFault DrawWeightFault(int layer, int row, int col, int64_t w, int weight_bits, const std::string& kind, std::mt19937_64& rng);
// Uniform double in [0, 1) and integer in [0, n) from the engine's raw bits (the same on every standard library).
double Uniform(std::mt19937_64& rng);
uint64_t Below(std::mt19937_64& rng, uint64_t n);

// Applies weight faults to a copy of the model (the faulty constants). Throws hw::Error for a fault naming
// a layer / weight that does not exist.
model::Model ApplyWeightFaults(const model::Model& m, const std::vector<WeightFault>& faults);

// The fault list file: one fault per line, '#' starts a comment. Layers by model layer name, nodes by their
// RTL name (as in the generated Verilog):
//   weight   LAYER ROW COL zero|flip|digit-remove POS|digit-add POS +|-
//   adder    LAYER n<N> stuck BIT 0|1
//   adder    LAYER n<N> drop OPERAND
//   register LAYER r<N> BIT 0|1
// Every line is checked against the model and the design; all problems are reported together as
// "FILE:LINE: field 'F': ...".
FaultSet ParseFaultList(const std::string& text, const std::string& file, const model::Model& m,
                        const Graphs& d);
FaultSet ReadFaultList(const std::string& path, const model::Model& m, const Graphs& d);
std::string FormatFaultList(const FaultSet& f, const model::Model& m, const Graphs& d);
// The same with the layers named by `names` (weight faults still read `m`).
std::string FormatFaultList(const FaultSet& f, const model::Model& m, const std::vector<std::string>& names, const Graphs& d);

// A language model's list (one graph; LAYER is its module name): hardware lines only, plus
//   memory   LAYER STATE STREAM LANE BIT 0|1      a stuck bit of stream STREAM's word of per-stream state STATE
//   table    LAYER n<N> ENTRY BIT 0|1             a stuck bit of entry ENTRY of lookup table n<N>
FaultSet ParseLmFaultList(const std::string& text, const std::string& file, const Graphs& d);
std::string FormatLmHwFaults(const std::vector<HwFault>& hw, const Graphs& d);

// Checks hardware faults against the design (op exists and is of the right kind, bit / operand in range, no
// site twice); throws hw::Error naming `source`.
void CheckHwFaults(const std::vector<HwFault>& faults, const Graphs& d, const std::string& source);

}  // namespace hw::faults
