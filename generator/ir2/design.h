// IR v2 designs: scheduled module graphs, instantiated in a top and connected port to port
// (docs/architecture.md, "Designs").
//
// A Graph (ir.h) is one module: ops over scalar ports. A Design puts modules together: each module exposes
// some of its scalar ports as packed ports (bundles, element i in bits [i*W, (i+1)*W)); instances of the modules
// are connected output bundle to input bundle; the design's own input bundle is registered on entry (one clock)
// and its output bundle is driven by one instance output. A dense chain is the simplest design: layer i's `y`
// drives layer i+1's `x`. Connections may skip instances (a residual path); then the verifier requires every
// input of an instance to arrive in the same clock, so a skip must be as long as the path it runs beside.
//
//   design fashion_mlp, streams=1, input in: 196 x u4 (registered on entry), output out: 1 x u4
//   module fashion_mlp_l0_fc1    (x: 196 x u4) -> (y: 64 x u8),  latency 13, instance u_l0_fc1
//   module fashion_mlp_l1_logits (x: 64 x u8)  -> (y: 10 x s26), latency 10, instance u_l1_logits
//   module fashion_mlp_l2_class  (x: 10 x s26) -> (y: 1 x u4),   latency 4,  instance u_l2_class
//   u_l0_fc1.x <- in;  u_l1_logits.x <- u_l0_fc1.y;  u_l2_class.x <- u_l1_logits.y;  out <- u_l2_class.y
//
// Feedback (a generated token read back by the next one) stays inside a module, as per-stream state whose loop
// the graph verifier checks against the stream count; connections between instances form no cycle.
#pragma once

#include <string>
#include <vector>

#include "ir2/interpreter.h"
#include "ir2/ir.h"

namespace hw::ir2 {

// Scalar ports `members` of a graph (in element order) seen as one packed port `name` of `members.size()`
// elements of type `element`.
struct Bundle {
  std::string name;
  std::vector<std::string> members;
  Type element;
  int size() const { return static_cast<int>(members.size()); }
  int width() const { return size() * element.width; }
};

struct Module {
  Graph graph;  // scheduled (Graph::latency is the module's latency)
  std::vector<Bundle> inputs, outputs;
};

struct Instance {
  std::string name;    // Verilog instance name, e.g. u_l0_fc1
  int module = -1;     // index into Design::modules
  std::string label;   // the model op it implements (a layer name), for reports and interface.json
  std::string kind;    // "dense", "argmax", ...
};

// An instance's bundle, or (instance == -1) the design's own input (as a source) or output (as a sink).
struct Endpoint {
  int instance = -1;
  std::string port;
};

struct Connection {
  Endpoint from, to;
};

struct Design {
  std::string name;
  int streams = 1;
  Bundle input, output;  // the top's data ports (names of the top-level signals; members unused)
  std::vector<Module> modules;
  std::vector<Instance> instances;
  std::vector<Connection> connections;

  const Module& ModuleOf(int instance) const { return modules.at(instances.at(instance).module); }
};

// Structural problems of the design, each naming the instance, port or connection: unknown modules or ports,
// bundles naming no port of their graph or of another type, a module whose stream count differs from the
// design's, an instance input or the design output driven not exactly once, connections between bundles of
// different shapes, cycles between instances, and inputs of one instance that arrive in different clocks.
// Empty when valid.
std::vector<std::string> VerifyDesign(const Design& d);

// Clock (counted from the top's in_data port) at which each instance's inputs are valid: 1 for instances fed by
// the input register. Requires a valid design.
std::vector<int> InstanceStart(const Design& d);
// Clocks from in_data to out_data.
int Latency(const Design& d);

// The token-level meaning of a design (a second oracle beside Verilator): one graph interpreter per instance,
// stepped in dependency order, each input bundle filled element by element from the bundle that drives it.
class DesignInterpreter {
 public:
  explicit DesignInterpreter(const Design& d);  // `d` must be valid (VerifyDesign) and its graphs Verify(kRanges)
  void Reset();
  // One token: the design input's elements; returns the design output's elements (empty for a bubble).
  std::vector<int64_t> Step(const std::vector<int64_t>& input, bool valid = true);

 private:
  const Design* d_;
  std::vector<int> order_;                  // instances in dependency order
  std::vector<Interpreter> interpreters_;   // per instance
  // Per instance: for each graph input (in input-node order), the bundle that feeds it and the element.
  struct Feed {
    int from_instance = -1;   // -1: the design input
    int from_output = 0;      // graph output index (in output-node order) of the source instance
    int element = 0;          // design input element, when from_instance == -1
  };
  std::vector<std::vector<Feed>> feeds_;
  std::vector<int> result_;                 // the design output's elements: graph output index of out_instance_
  int out_instance_ = -1;
};

}  // namespace hw::ir2
