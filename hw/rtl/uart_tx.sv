// UART transmitter, 8N1, LSB first, with a valid/ready byte input. CLKS_PER_BIT = clock frequency / baud rate.
module uart_tx #(
    parameter int CLKS_PER_BIT = 868
) (
    input  logic       clk,
    input  logic       rst_n,
    input  logic [7:0] data,
    input  logic       valid,
    output logic       ready,
    output logic       tx
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (CLKS_PER_BIT < 2) begin : g_param_check0
    $error("uart_tx: CLKS_PER_BIT must be at least 2 (got %0d)", CLKS_PER_BIT);
  end
  localparam int CW = $clog2(CLKS_PER_BIT + 1);
  logic [9:0] shreg;  // {stop, data, start}
  logic [3:0] nbits;
  logic [CW-1:0] cnt;

  assign ready = (nbits == 4'd0);

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      shreg <= '1;
      nbits <= '0;
      cnt <= '0;
      tx <= 1'b1;
    end else if (nbits == 4'd0) begin
      tx <= 1'b1;
      if (valid) begin
        shreg <= {1'b1, data, 1'b0};
        nbits <= 4'd10;
        cnt <= '0;
      end
    end else begin
      tx <= shreg[0];
      if (cnt == CW'(CLKS_PER_BIT - 1)) begin
        cnt <= '0;
        shreg <= {1'b1, shreg[9:1]};
        nbits <= nbits - 1'b1;
      end else cnt <= cnt + 1'b1;
    end
  end
endmodule
