// hw_argmax2: one compare-select step of an argmax tournament (combinational).
// Picks the larger of (a_val, a_idx) and (b_val, b_idx); on a tie it keeps a, which the generator always
// wires to the lower indices, so the whole tree returns the lowest index of the maximum.
`default_nettype none

module hw_argmax2 #(
    parameter integer VAL_W = 8,
    parameter integer VAL_SIGNED = 1,
    parameter integer IDX_W = 4
) (
    input  wire [VAL_W-1:0] a_val,
    input  wire [IDX_W-1:0] a_idx,
    input  wire [VAL_W-1:0] b_val,
    input  wire [IDX_W-1:0] b_idx,
    output wire [VAL_W-1:0] q_val,
    output wire [IDX_W-1:0] q_idx
);
  wire b_wins = (VAL_SIGNED != 0) ? ($signed(b_val) > $signed(a_val)) : (b_val > a_val);
  assign q_val = b_wins ? b_val : a_val;
  assign q_idx = b_wins ? b_idx : a_idx;
endmodule

`default_nettype wire
