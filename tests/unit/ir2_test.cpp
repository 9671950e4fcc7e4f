// IR v2: text round trip, verifier (negative cases), interpreter semantics, pass manager, Verilog lint.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/diag.h"
#include "common/file_util.h"
#include "cosim/cosim.h"
#include "emit/ir2_verilog.h"
#include "ir2/interpreter.h"
#include "ir2/op_table.h"
#include "ir2/text.h"
#include "ir2/verify.h"
#include "passes/ir2_passes.h"

namespace hw::ir2 {
namespace {

namespace fs = std::filesystem;
const std::vector<std::string> kDesigns = {"lut", "mul", "memory", "accumulator", "residual", "bits", "kvcache", "kvrows", "scaled"};

std::string DesignText(const std::string& name) { return ReadFileOrThrow(std::string(HW_TEST_DATA) + "/ir2/" + name + ".ir", "ir"); }

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& e : v) s += e + "\n";
  return s;
}

Graph Lower(Graph g, int k = 1) {
  passes::ir2::PassManager pm(passes::ir2::DefaultPipeline(), {k});
  pm.Run(g);
  return g;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    std::string s;
    for (const auto& m : e.messages()) s += m + "\n";
    return s;
  }
  return "";
}

TEST(Ir2Text, DesignsRoundTripExactly) {
  for (const std::string& d : kDesigns) {
    const std::string text = DesignText(d);
    const Graph g = Parse(text, d + ".ir");
    EXPECT_EQ(Dump(g), text) << d;
    const Graph lowered = Lower(g);
    // Annotated dumps parse back (annotations are ignored) to the same graph.
    EXPECT_EQ(Dump(Parse(Dump(lowered, true), "annotated")), Dump(lowered)) << d;
  }
}

TEST(Ir2Text, ParseErrorsNameTheLine) {
  EXPECT_NE(ErrorOf([] { Parse("graph g streams=1\n%0 = input x s8\n%1 = frobnicate %0\n", "t.ir"); })
                .find("t.ir:3: unknown op 'frobnicate'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { Parse("graph g streams=1\n%0 = input x s8\n%2 = reg %0\n", "t.ir"); }).find("expected node %1"), std::string::npos);
  EXPECT_NE(ErrorOf([] { Parse("graph g streams=1\n%0 = input x s99\n", "t.ir"); }).find("type width 99 outside 1 .. 64"), std::string::npos);
  EXPECT_NE(ErrorOf([] { Parse("", "t.ir"); }).find("empty IR text"), std::string::npos);
}

TEST(Ir2Verify, RejectsBrokenGraphs) {
  auto errors = [](const std::string& text, VerifyLevel level = VerifyLevel::kStructure) {
    std::string all;
    for (const auto& e : Verify(Parse(text, "t.ir"), level)) all += e + "\n";
    return all;
  };
  EXPECT_NE(errors("graph g streams=1\n%0 = add %1\n%1 = input x s8\n").find("operand 0 refers to %1, which does not come earlier"),
            std::string::npos);
  EXPECT_NE(errors("graph g streams=1\n%0 = input x s8\n%1 = mul %0\n").find("has 1 operands; expects 2"), std::string::npos);
  EXPECT_NE(errors("graph g streams=2\n%0 = stream_id\n%1 = state_read nope, %0\n").find("no state named 'nope'"), std::string::npos);
  EXPECT_NE(errors("graph g streams=2\nstate s u4 init=0\n%0 = input x u1\n%1 = state_read s, %0\n").find("operand 0 must be the stream id"),
            std::string::npos);
  EXPECT_NE(errors("graph g streams=1\nmem m s8 depth=4\n%0 = input a u2\n%1 = mem_write m, %0, %0\n").find("must be per_stream"),
            std::string::npos);
  EXPECT_NE(errors("graph g streams=1\n%0 = input clk u1\n%1 = output y, %0\n").find("port name 'clk'"), std::string::npos);
  EXPECT_NE(errors("graph g streams=1\n%0 = input x u1\n%1 = output x, %0\n").find("repeats another port"), std::string::npos);
  EXPECT_NE(errors("graph g streams=1\n%0 = input x s8\n%1 = mul %0, %0<<1\n").find("shifts and negation are for add and requant only"), std::string::npos);
  // Range level: a table indexed beyond its end, a state write that does not fit.
  Graph lut = Parse("graph g streams=1\n%0 = input x u3\n%1 = lut %0 offset=0 table=[1, 2, 3]\n%2 = output y, %1\n", "t.ir");
  EXPECT_NE(ErrorOf([&] { Lower(lut); }).find("index range [0, 7] minus offset 0 leaves the table of 3 entries"), std::string::npos);
  Graph st = Parse("graph g streams=4\nstate s s4 init=0\n%0 = input x s8\n%1 = stream_id\n%2 = state_next s, %1, %0\n%3 = output y, %0\n", "t.ir");
  EXPECT_NE(ErrorOf([&] { Lower(st); }).find("does not fit state 's'"), std::string::npos);
  // Scheduled level: the schedule is a side table with a slot per node, and every operand arrives in its
  // reader's stage.
  Graph sched = Lower(Parse("graph g streams=1\n%0 = input x s8\n%1 = add %0, %0<<1\n%2 = output y, %1\n", "t.ir"));
  ASSERT_EQ(sched.schedule.size(), sched.nodes.size());
  EXPECT_TRUE(Verify(sched, VerifyLevel::kScheduled).empty());
  Graph short_table = sched;
  short_table.schedule.pop_back();
  EXPECT_NE(Join(Verify(short_table, VerifyLevel::kScheduled)).find("the schedule has " + std::to_string(sched.nodes.size() - 1) +
                                                                   " slot(s) for " + std::to_string(sched.nodes.size()) + " node(s)"),
            std::string::npos);
  Graph early = sched;
  early.schedule[early.nodes.size() - 1].stage += 1;  // the output now reads its operand one stage late: no register
  EXPECT_NE(Join(Verify(early, VerifyLevel::kScheduled)).find("registers must make every operand arrive"), std::string::npos)
      << Join(Verify(early, VerifyLevel::kScheduled));
}

TEST(Ir2Verify, FeedbackLoopMustFitTheStreamCount) {
  // The accumulator's loop (read in stage 1, clamped and written in stage 3 at K = 1) needs 3 streams.
  std::string text = DesignText("accumulator");
  text.replace(text.find("streams=3"), 9, "streams=1");
  const std::string e = ErrorOf([&] { Lower(Parse(text, "acc.ir"), 1); });
  EXPECT_NE(e.find("[E-IR-VERIFY] graph 'accumulator': the loop through 'total' takes 3 clocks (read in stage 1, written in stage 3) "
                   "but there are only 1 streams"),
            std::string::npos)
      << e;
  // With three adder levels per stage (read, add, clamp) the loop closes in one clock: one stream suffices.
  EXPECT_EQ(ErrorOf([&] { Lower(Parse(text, "acc.ir"), 3); }), "");
  const Graph two = Lower(Parse(text, "acc.ir"), 3);
  ASSERT_EQ(FeedbackLoops(two).size(), 1u);
  EXPECT_EQ(FeedbackLoops(two)[0].clocks(), 1);
}

TEST(Ir2Interpreter, AccumulatorKeepsOneSumPerStream) {
  const Graph g = Lower(Parse(DesignText("accumulator"), "acc.ir"));
  Interpreter in(g);
  std::vector<int64_t> sums(3, 0);
  for (int t = 0; t < 30; ++t) {
    const bool valid = t % 7 != 3;  // some bubbles
    const int stream = in.next_stream();
    const std::vector<int64_t> y = in.Step({t - 10}, valid);
    if (!valid) {
      EXPECT_TRUE(y.empty());
      continue;
    }
    sums[stream] += t - 10;
    EXPECT_EQ(y, (std::vector<int64_t>{sums[stream], stream})) << "token " << t;
  }
  for (int s = 0; s < 3; ++s) EXPECT_EQ(in.state("total", s), sums[s]);
}

TEST(Ir2Interpreter, MemoryReadsSeeEarlierWritesOnly) {
  const Graph g = Lower(Parse(DesignText("memory"), "m.ir"));
  Interpreter in(g);
  EXPECT_EQ(in.Step({3, 42, 1, 3}), (std::vector<int64_t>{0}));  // its own write is not visible yet
  EXPECT_EQ(in.Step({5, -7, 0, 3}), (std::vector<int64_t>{42}));  // we = 0: no write
  EXPECT_EQ(in.Step({0, 0, 0, 5}), (std::vector<int64_t>{0}));
  EXPECT_EQ(in.memory("m", 3), 42);
}

TEST(Ir2Passes, RegistersAreSharedDelayLines) {
  const Graph g = Lower(Parse(DesignText("residual"), "r.ir"));
  EXPECT_TRUE(Verify(g, VerifyLevel::kScheduled).empty());
  // x0 (node 0) is read in stages 1 and 5: one chain of registers, tapped twice, not two chains.
  int regs_of_x0 = 0;
  for (const Node& n : g.nodes)
    if (n.op == Op::kReg && n.operands[0].node == 0) ++regs_of_x0;
  EXPECT_EQ(regs_of_x0, 1);
  EXPECT_GT(g.latency, 4);
}

TEST(Ir2Passes, PassManagerRejectsUnknownNamesAndAuditsClaims) {
  EXPECT_NE(ErrorOf([] { passes::ir2::PassManager({"range-analysis", "retiming"}, {}); }).find("[E-IR-PASS] unknown pass 'retiming'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { passes::ir2::PassManager(passes::ir2::DefaultPipeline(), {}, "/tmp", {"nope"}); }).find("unknown pass 'nope'"),
            std::string::npos);
  class Liar : public passes::ir2::Pass {
   public:
    std::string name() const override { return "liar"; }
    VerifyLevel level() const override { return VerifyLevel::kStructure; }
    bool Run(Graph& g) override {
      g.nodes[0].comment = "changed";
      return false;
    }
  };
  Graph g = Parse(DesignText("mul"), "mul.ir");
  passes::ir2::PassManager pm({}, {});
  pm.AddPass(std::make_unique<Liar>());
  EXPECT_THROW(pm.Run(g), InternalError);
  // Dumps: numbered files per pass.
  const fs::path dir = fs::path(HW_BINARY_DIR) / "test_out" / "ir2_dumps";
  fs::remove_all(dir);
  Graph h = Parse(DesignText("mul"), "mul.ir");
  passes::ir2::PassManager dumping(passes::ir2::DefaultPipeline(), {}, dir.string());
  dumping.Run(h);
  EXPECT_TRUE(fs::exists(dir / "00-input.ir"));
  // split-requant (no clock target) and retime (a multiplier deeper than K = 1) do not apply: skipped, numbered
  // all the same (offset-encode, clamp-early and trailing-zeros apply to this stateless graph and leave it as it
  // is: its add is read by an output and has no constant to take an offset out, and there is no requant)
  EXPECT_TRUE(fs::exists(dir / "02-offset-encode.ir"));
  EXPECT_TRUE(fs::exists(dir / "03-clamp-early.ir"));
  EXPECT_TRUE(fs::exists(dir / "04-trailing-zeros.ir"));
  EXPECT_FALSE(dumping.records()[1].changed);
  EXPECT_FALSE(dumping.records()[2].changed);
  EXPECT_FALSE(dumping.records()[3].changed);
  EXPECT_FALSE(fs::exists(dir / "05-split-requant.ir"));
  EXPECT_FALSE(fs::exists(dir / "07-retime.ir"));
  EXPECT_TRUE(fs::exists(dir / "08-sink.ir"));
  EXPECT_TRUE(fs::exists(dir / "09-materialize-registers.ir"));
  EXPECT_EQ(dumping.records().size(), 9u);
  EXPECT_TRUE(dumping.records()[8].changed);
  fs::remove_all(dir);
}

TEST(Ir2Emit, CoversEveryOpAndIsLintClean) {
  EXPECT_TRUE(emit::Ir2EmitterCoversAllOps());
  const fs::path dir = fs::path(HW_BINARY_DIR) / "test_out" / "ir2_lint";
  fs::create_directories(dir);
  for (const std::string& d : kDesigns)
    for (int k : {1, 2}) {
      std::string text = DesignText(d);
      const Graph g = Lower(Parse(text, d + ".ir"), k);
      const std::string v = emit::EmitIr2Verilog(g);
      EXPECT_EQ(v, emit::EmitIr2Verilog(Lower(Parse(text, d + ".ir"), k))) << "deterministic";
      const fs::path file = dir / (g.name + ".v");
      WriteFileOrThrow(file.string(), v);
      std::string out;
      const int rc = cosim::RunCommand("verilator --lint-only -Wall " + file.string(), &out, false);
      EXPECT_EQ(rc, 0) << d << " K=" << k << ":\n" << out;
      EXPECT_EQ(out, "") << d << " K=" << k;
      const int ry = cosim::RunCommand("yosys -q -p 'read_verilog " + file.string() + "; hierarchy -check -top " + g.name + "; proc; memory -nomap; stat' 2>&1 | grep -i -E 'warning|error' ; true", &out, false);
      (void)ry;
      EXPECT_EQ(out, "") << d << " yosys";
    }
}

}  // namespace
}  // namespace hw::ir2
