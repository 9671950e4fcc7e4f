// hw_requant: round, shift and clamp one scaled accumulator (combinational).
//
//   q = clamp((d + ADD) >>> SHIFT, LO, HI)          (docs/semantics.md, steps 3 and 4)
//
// The generator computes every width from the exact value range, so nothing here can overflow:
//   SUM_W / SUM_SIGNED  hold d + ADD exactly;  SUM_W > SHIFT;
//   CMP_W               a signed width that holds the shifted sum, LO and HI;
//   CLAMP_LO / CLAMP_HI are 0 when the range analysis proved that bound can never be crossed,
//                       so no comparator is built for it;
//   OUT_W               holds the clamped result (its range decides it; sign bits above are dropped).
`default_nettype none

module hw_requant #(
    parameter integer IN_W = 8,
    parameter integer IN_SIGNED = 1,
    parameter integer SUM_W = 9,
    parameter integer SUM_SIGNED = 1,
    parameter [SUM_W-1:0] ADD = 0,
    parameter integer SHIFT = 0,
    parameter integer CMP_W = 10,
    parameter integer CLAMP_LO = 0,
    parameter integer CLAMP_HI = 0,
    parameter [CMP_W-1:0] LO = 0,
    parameter [CMP_W-1:0] HI = 0,
    parameter integer OUT_W = 8
) (
    // When the rounding constant narrows the range (SUM_W < IN_W), d's top bits are not needed.
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [IN_W-1:0]  d,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [OUT_W-1:0] q
);
  localparam integer SH_W = SUM_W - SHIFT;

  wire [SUM_W-1:0] d_ext;
  generate
    if (SUM_W > IN_W) begin : g_ext
      assign d_ext = {{(SUM_W - IN_W){IN_SIGNED != 0 ? d[IN_W-1] : 1'b0}}, d};
    end else begin : g_same
      assign d_ext = d[SUM_W-1:0];
    end
  endgenerate

  // Bits below SHIFT are rounded away.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [SUM_W-1:0] sum = d_ext + ADD;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [SH_W-1:0] shifted = sum[SUM_W-1:SHIFT];

  wire [CMP_W-1:0] wide;
  generate
    if (CMP_W > SH_W) begin : g_wide
      assign wide = {{(CMP_W - SH_W){SUM_SIGNED != 0 ? shifted[SH_W-1] : 1'b0}}, shifted};
    end else begin : g_narrow
      assign wide = shifted[CMP_W-1:0];
    end
  endgenerate

  wire below = (CLAMP_LO != 0) && ($signed(wide) < $signed(LO));
  wire above = (CLAMP_HI != 0) && ($signed(wide) > $signed(HI));
  // Only the low OUT_W bits of the clamped value carry information.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [CMP_W-1:0] clamped = below ? LO : (above ? HI : wide);
  /* verilator lint_on UNUSEDSIGNAL */
  assign q = clamped[OUT_W-1:0];
endmodule

`default_nettype wire
