// UART receiver, 8N1, LSB first. CLKS_PER_BIT = clock frequency / baud rate.
// The input is synchronised by two flip-flops; each bit is sampled in its middle.
module uart_rx #(
    parameter int CLKS_PER_BIT = 868
) (
    input  logic       clk,
    input  logic       rst_n,
    input  logic       rx,
    output logic [7:0] data,
    output logic       valid  // one-cycle pulse per received byte (stop bit seen high)
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (CLKS_PER_BIT < 4) begin : g_param_check0
    $error("uart_rx: CLKS_PER_BIT must be at least 4 (got %0d)", CLKS_PER_BIT);
  end
  localparam int CW = $clog2(CLKS_PER_BIT + 1);
  typedef enum logic [1:0] {IDLE, START, BITS, STOP} state_t;
  state_t state;
  logic rx_s1, rx_s2;
  logic [CW-1:0] cnt;
  logic [2:0] bit_idx;
  logic [7:0] shreg;

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      rx_s1 <= 1'b1;
      rx_s2 <= 1'b1;
    end else begin
      rx_s1 <= rx;
      rx_s2 <= rx_s1;
    end
  end

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      state <= IDLE;
      cnt <= '0;
      bit_idx <= '0;
      shreg <= '0;
      data <= '0;
      valid <= 1'b0;
    end else begin
      valid <= 1'b0;
      case (state)
        IDLE: begin
          cnt <= '0;
          bit_idx <= '0;
          if (!rx_s2) state <= START;
        end
        START: begin  // wait half a bit, check the start bit is still low
          if (cnt == CW'((CLKS_PER_BIT - 1) / 2)) begin
            cnt <= '0;
            state <= rx_s2 ? IDLE : BITS;
          end else cnt <= cnt + 1'b1;
        end
        BITS: begin
          if (cnt == CW'(CLKS_PER_BIT - 1)) begin
            cnt <= '0;
            shreg <= {rx_s2, shreg[7:1]};
            bit_idx <= bit_idx + 1'b1;
            if (bit_idx == 3'd7) state <= STOP;
          end else cnt <= cnt + 1'b1;
        end
        STOP: begin
          if (cnt == CW'(CLKS_PER_BIT - 1)) begin
            cnt <= '0;
            state <= IDLE;
            if (rx_s2) begin
              data <= shreg;
              valid <= 1'b1;
            end
          end else cnt <= cnt + 1'b1;
        end
        default: state <= IDLE;
      endcase
    end
  end
endmodule
