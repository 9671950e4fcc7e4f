// hw_pipe_reg: a WIDTH-bit pipeline register with clock enable. No reset: data registers need none,
// because the valid bit that travels beside them (hw_valid_pipe) is reset.
`default_nettype none

module hw_pipe_reg #(
    parameter integer WIDTH = 8
) (
    input  wire             clk,
    input  wire             ce,
    input  wire [WIDTH-1:0] d,
    output reg  [WIDTH-1:0] q
);
  always @(posedge clk) begin
    if (ce) q <= d;
  end
endmodule

`default_nettype wire
