// UART <-> AXI4-Stream bridge with a tagged byte framing (host side: scripts/uart_protocol.py).
//   host -> FPGA: per input word one tag byte, 0xA5 (word) or 0xA6 (word with TLAST), then IN_BYTES data bytes,
//                 least significant first (two's complement, sign-extended to whole bytes). Other tags are ignored.
//   FPGA -> host: per output word one tag byte, 0x5A (word) or 0x5B (word with TLAST), then OUT_BYTES data bytes.
// Received words wait in a FIFO of FIFO_DEPTH words (the UART cannot be back-pressured); output words are sent
// as they come, the design is stalled through m_axis_tready while the UART is busy.
module uart_axis_bridge #(
    parameter int IN_W = 16,
    parameter int OUT_W = 16,
    parameter int CLKS_PER_BIT = 868,
    parameter int FIFO_DEPTH = 1024
) (
    input  logic             clk,
    input  logic             rst_n,
    input  logic             uart_rx_i,
    output logic             uart_tx_o,
    // to the design's input stream
    output logic [IN_W-1:0]  m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready,
    output logic             m_axis_tlast,
    // from the design's output stream
    input  logic [OUT_W-1:0] s_axis_tdata,
    input  logic             s_axis_tvalid,
    output logic             s_axis_tready,
    input  logic             s_axis_tlast,
    output logic             overflow  // sticky: a word arrived while the FIFO was full
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (FIFO_DEPTH < 1 || (FIFO_DEPTH & (FIFO_DEPTH - 1)) != 0 || FIFO_DEPTH < 2) begin : g_param_check0
    $error("uart_axis_bridge: FIFO_DEPTH must be a power of two >= 2 (got %0d)", FIFO_DEPTH);
  end
  localparam int IN_BYTES = (IN_W + 7) / 8;
  localparam int OUT_BYTES = (OUT_W + 7) / 8;
  localparam int AW = $clog2(FIFO_DEPTH);

  // ---------------------------------------------------------------- receive and assemble words
  logic [7:0] rx_data;
  logic rx_valid;
  uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_rx (.clk, .rst_n, .rx(uart_rx_i), .data(rx_data), .valid(rx_valid));

  logic in_word;  // inside a word (tag seen)
  logic in_last;
  logic [$clog2(IN_BYTES + 1)-1:0] in_cnt;
  logic [IN_BYTES*8-1:0] in_shreg;
  logic push;
  logic [IN_W:0] push_word;  // {last, data}
  /* verilator lint_off UNUSEDSIGNAL */
  wire [(IN_BYTES+1)*8-1:0] rx_cat = {rx_data, in_shreg};
  /* verilator lint_on UNUSEDSIGNAL */
  wire [IN_BYTES*8-1:0] assembled = rx_cat[(IN_BYTES+1)*8-1:8];  // bytes arrive LSB first

  // control under reset; the data registers (in_shreg, push_word) are not reset: a word is fully assembled
  // before it is pushed (fewer loads on the reset net)
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      in_word <= 1'b0;
      in_last <= 1'b0;
      in_cnt <= '0;
      push <= 1'b0;
    end else begin
      push <= 1'b0;
      if (rx_valid) begin
        if (!in_word) begin
          if (rx_data == 8'hA5 || rx_data == 8'hA6) begin
            in_word <= 1'b1;
            in_last <= (rx_data == 8'hA6);
            in_cnt <= '0;
          end
        end else begin
          if (in_cnt == ($clog2(IN_BYTES + 1))'(IN_BYTES - 1)) begin
            in_word <= 1'b0;
            push <= 1'b1;
          end else in_cnt <= in_cnt + 1'b1;
        end
      end
    end
  end
  always_ff @(posedge clk) begin
    if (rx_valid && in_word) begin
      in_shreg <= assembled;
      if (in_cnt == ($clog2(IN_BYTES + 1))'(IN_BYTES - 1)) push_word <= {in_last, assembled[IN_W-1:0]};
    end
  end

  // ---------------------------------------------------------------- input FIFO (inferred RAM)
  logic [IN_W:0] fifo_mem[FIFO_DEPTH];
  logic [AW:0] wr_ptr, rd_ptr;
  logic [IN_W:0] head, ob;  // FIFO read register (block RAM), then the output register (fabric: timing)
  logic head_valid, ob_valid;
  wire fifo_empty = (wr_ptr == rd_ptr);
  wire fifo_full = (wr_ptr[AW] != rd_ptr[AW]) && (wr_ptr[AW-1:0] == rd_ptr[AW-1:0]);
  wire take = m_axis_tvalid && m_axis_tready;
  wire advance = head_valid && (!ob_valid || take);  // head moves to the output register
  wire pop = !fifo_empty && (!head_valid || advance);

  always_ff @(posedge clk) begin
    if (push && !fifo_full) fifo_mem[wr_ptr[AW-1:0]] <= push_word;
    if (pop) head <= fifo_mem[rd_ptr[AW-1:0]];
    if (advance) ob <= head;
  end
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      wr_ptr <= '0;
      rd_ptr <= '0;
      head_valid <= 1'b0;
      ob_valid <= 1'b0;
      overflow <= 1'b0;
    end else begin
      if (push) begin
        if (fifo_full) overflow <= 1'b1;
        else wr_ptr <= wr_ptr + 1'b1;
      end
      if (pop) begin
        rd_ptr <= rd_ptr + 1'b1;
        head_valid <= 1'b1;
      end else if (advance) head_valid <= 1'b0;
      if (advance) ob_valid <= 1'b1;
      else if (take) ob_valid <= 1'b0;
    end
  end
  assign m_axis_tvalid = ob_valid;
  assign m_axis_tdata = ob[IN_W-1:0];
  assign m_axis_tlast = ob[IN_W];

  logic [7:0] tx_data;
  logic tx_valid, tx_ready;
  uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_tx (
      .clk, .rst_n, .data(tx_data), .valid(tx_valid), .ready(tx_ready), .tx(uart_tx_o)
  );

  logic out_busy;
  logic [$clog2(OUT_BYTES + 2)-1:0] out_cnt;  // bytes left including the tag
  logic [OUT_BYTES*8+7:0] out_shreg;  // {data bytes, tag}
  assign s_axis_tready = !out_busy;
  assign tx_valid = out_busy;
  assign tx_data = out_shreg[7:0];

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      out_busy <= 1'b0;
      out_cnt <= '0;
    end else if (!out_busy) begin
      if (s_axis_tvalid) begin
        out_busy <= 1'b1;
        out_cnt <= ($clog2(OUT_BYTES + 2))'(OUT_BYTES + 1);
      end
    end else if (tx_ready) begin  // uart_tx takes the byte this cycle
      out_cnt <= out_cnt - 1'b1;
      if (out_cnt == 1) out_busy <= 1'b0;
    end
  end
  always_ff @(posedge clk) begin  // data, not reset: loaded before it is sent
    if (!out_busy && s_axis_tvalid)
      out_shreg <= {(OUT_BYTES * 8)'($signed(s_axis_tdata)), (s_axis_tlast ? 8'h5B : 8'h5A)};
    else if (out_busy && tx_ready) out_shreg <= out_shreg >> 8;
  end
endmodule
