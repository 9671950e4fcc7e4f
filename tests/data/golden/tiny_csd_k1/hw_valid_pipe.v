// hw_valid_pipe: the valid bit that travels LATENCY clocks beside the data. Synchronous active-high
// reset clears it; ce low freezes it together with the datapath.
`default_nettype none

module hw_valid_pipe #(
    parameter integer LATENCY = 1
) (
    input  wire clk,
    input  wire rst,
    input  wire ce,
    input  wire in_valid,
    output wire out_valid
);
  reg [LATENCY-1:0] v;
  generate
    if (LATENCY == 1) begin : g_one
      always @(posedge clk) begin
        if (rst) v <= 1'b0;
        else if (ce) v <= in_valid;
      end
    end else begin : g_many
      always @(posedge clk) begin
        if (rst) v <= {LATENCY{1'b0}};
        else if (ce) v <= {v[LATENCY-2:0], in_valid};
      end
    end
  endgenerate
  assign out_valid = v[LATENCY-1];
endmodule

`default_nettype wire
