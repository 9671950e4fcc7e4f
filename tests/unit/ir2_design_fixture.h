// A small IR v2 design shared by the design tests (unit and co-simulation): two modules in parallel joined
// by a third.
#pragma once

#include <string>

#include "ir2/design.h"
#include "ir2/text.h"
#include "passes/ir2_passes.h"

namespace hw::ir2 {

inline Graph Lowered(const std::string& text, int k = 1) {
  Graph g = Parse(text, "test.ir");
  passes::ir2::PassOptions po;
  po.adders_per_stage = k;
  passes::ir2::PassManager(passes::ir2::DefaultPipeline(), po).Run(g);
  return g;
}

// inc: y0 = x0 + 1; twice: y0 = 2 x0 - 5 (one adder each, so the same latency); add: y0 = a0 + b0.
inline Module Inc(const std::string& name) {
  return {Lowered("graph " + name + " streams=1\n%0 = input x0 s8\n%1 = const 1\n%2 = add %0, %1\n%3 = output y0, %2\n"),
          {{"x", {"x0"}, {8, true}}},
          {{"y", {"y0"}, {9, true}}}};
}
inline Module Twice() {
  return {Lowered("graph twice streams=1\n%0 = input x0 s8\n%1 = const -5\n%2 = add %0<<1, %1\n%3 = output y0, %2\n"),
          {{"x", {"x0"}, {8, true}}},
          {{"y", {"y0"}, {10, true}}}};
}
inline Module Add() {
  return {Lowered("graph add streams=1\n%0 = input a0 s9\n%1 = input b0 s10\n%2 = add %0, %1\n%3 = output y0, %2\n"),
          {{"a", {"a0"}, {9, true}}, {"b", {"b0"}, {10, true}}},
          {{"y", {"y0"}, {11, true}}}};
}

// in -> inc -> add.a, in -> twice -> add.b, add.y -> out (3 x - 4): a fork and a join of equal latency.
inline Design Fork() {
  Design d;
  d.name = "fork";
  d.input = {"in", {""}, {8, true}};
  d.output = {"out", {""}, {11, true}};
  d.modules = {Inc("inc_a"), Twice(), Add()};
  d.instances = {{"u_a", 0, "a", "inc"}, {"u_b", 1, "b", "twice"}, {"u_add", 2, "add", "add"}};
  d.connections = {{{-1, "in"}, {0, "x"}}, {{-1, "in"}, {1, "x"}}, {{0, "y"}, {2, "a"}}, {{1, "y"}, {2, "b"}},
                   {{2, "y"}, {-1, "out"}}};
  return d;
}

}  // namespace hw::ir2
