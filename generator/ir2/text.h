// The text form of IR v2: Dump prints a graph, Parse reads it back (Dump(Parse(Dump(g))) == Dump(g)).
// Pass tests are written in it. Grammar, one item per line ('//' starts a comment that attaches to the next
// node; ';' starts an annotation that Parse ignores — Dump writes analysis results there):
//
//   graph NAME streams=S
//   state NAME TYPE (init=V | noreset)           TYPE: s8, u12, ...
//   mem NAME TYPE depth=D [per_stream] [init=[v, v, ...]]
//   %N = input NAME TYPE
//   %N = const V
//   %N = add USE, USE, ...                       USE: [-]%N[.R][<<K]   (.R: result R of a two-result node)
//   %N = mul USE, USE
//   %N = requant USE add=V shift=S clamp=[LO, HI]
//   %N = max USE, USE | cmpsel VA, IA, VB, IB | select C, A, B
//   %N = lut USE offset=V table=[v, ...]
//   %N = stream_id
//   %N = state_read NAME, SID
//   %N = state_next NAME, SID, VALUE[, ENABLE]
//   %N = mem_read NAME, [SID,] ADDR
//   %N = mem_write NAME, [SID,] ADDR, DATA[, ENABLE]
//   %N = reg USE
//   %N = output NAME, USE
//
// Node numbers must count 0, 1, 2, ... in order.
#pragma once

#include <string>

#include "ir2/ir.h"

namespace hw::ir2 {

// `annotate`: append "; [lo, hi] s8 L2 S1" (ranges and types once analysed, level and stage once scheduled) to each
// node.
std::string Dump(const Graph& g, bool annotate = false);

// Throws hw::Error naming `source` and the line for any syntax or reference problem. The result is not yet
// verified (call Verify).
Graph Parse(const std::string& text, const std::string& source);

std::string ToString(const Type& t);

}  // namespace hw::ir2
