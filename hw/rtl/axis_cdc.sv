// AXI4-Stream clock-domain crossing by a toggle handshake (one word in flight): for streams far slower than
// either clock, such as the UART bridge (board clock) <-> the core (PLL clock).  The source side registers a
// word {tlast, tdata} and toggles req; the destination sees req through two flip-flops, takes the word into
// its output register (the source holds it unchanged until then) and toggles ack back, also through two
// flip-flops; the source then accepts the next word.  Every signal that crosses is a register that is stable
// while it is sampled (data) or a single toggle bit behind a two-flip-flop synchroniser (req, ack): the
// crossing paths need no timing relation between the clocks.  A word costs about 3 destination cycles + 3
// source cycles.  Each side has its own reset (active high, synchronous to its clock); reset both sides
// together (the releases may differ): req and ack both reset to 0, so a reset of one side alone after an odd
// number of words makes the destination emit the last word again (tests/test_rtl_axis_cdc.py, xfail).
module axis_cdc #(
    parameter int W = 8
) (
    input  logic         s_clk,
    input  logic         s_rst,
    input  logic [W-1:0] s_axis_tdata,
    input  logic         s_axis_tvalid,
    output logic         s_axis_tready,
    input  logic         s_axis_tlast,
    input  logic         m_clk,
    input  logic         m_rst,
    output logic [W-1:0] m_axis_tdata,
    output logic         m_axis_tvalid,
    input  logic         m_axis_tready,
    output logic         m_axis_tlast
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (W < 1) begin : g_param_check0
    $error("axis_cdc: W must be at least 1 (got %0d)", W);
  end

  // ---------------------------------------------------------------- source domain
  // hold takes the input on every cycle without a word in flight (its enable is a flip-flop, idle, not a
  // function of tvalid: the enable of the W + 1 flip-flops was once the core clock's critical path, tvalid
  // through two LUTs and 6.3 ns of fan-out route); the word accepted is the one of the cycle req toggles,
  // after which hold stays unchanged until ack.  idle is copied per 32 bits of hold (keep) to cut the fan-out.
  localparam int NC = (W + 32) / 32;  // copies of idle
  logic [W:0] hold;  // {tlast, tdata}, stable while a word is in flight
  logic req, busy;
  (* keep *) logic [NC-1:0] idle;  // !busy, one copy per 32 bits of hold
  (* keep *) logic ack_s1, ack_s2;  // ack synchronised to s_clk
  logic ack;  // destination domain
  assign s_axis_tready = !busy;
  always_ff @(posedge s_clk) begin
    ack_s1 <= ack;
    ack_s2 <= ack_s1;
    if (s_rst) begin
      req <= 1'b0;
      busy <= 1'b0;
    end else if (!busy) begin
      if (s_axis_tvalid) begin
        req <= !req;
        busy <= 1'b1;
      end
    end else if (ack_s2 == req) busy <= 1'b0;
  end
  for (genvar c = 0; c < NC; c++) begin : g_idle  // one always block per copy: yosys merged a vector's bits
    (* keep *) always_ff @(posedge s_clk) idle[c] <= s_rst || (busy ? ack_s2 == req : !s_axis_tvalid);
  end  // (idle: next cycle's !busy)
  always_ff @(posedge s_clk) begin
    for (int i = 0; i <= W; i++) if (idle[i/32]) hold[i] <= i == W ? s_axis_tlast : s_axis_tdata[i];
  end

  // ---------------------------------------------------------------- destination domain
  // A word is taken into an empty output register only (not in the cycle the last one leaves), and out follows
  // hold on every cycle the register is empty: its enable is a flip-flop (empty, copied per 32 bits), not
  // tready through logic (tready is the consumer's, combinational in the core).
  (* keep *) logic req_m1, req_m2;  // req synchronised to m_clk
  logic [W:0] out;
  logic tvalid_next;
  (* keep *) logic [NC-1:0] empty;  // !m_axis_tvalid, one copy per 32 bits of out
  always_comb begin
    tvalid_next = m_axis_tvalid && !m_axis_tready;
    if (req_m2 != ack && !m_axis_tvalid) tvalid_next = 1'b1;
    if (m_rst) tvalid_next = 1'b0;
  end
  always_ff @(posedge m_clk) begin
    req_m1 <= req;
    req_m2 <= req_m1;
    m_axis_tvalid <= tvalid_next;
    if (m_rst) ack <= 1'b0;
    else if (req_m2 != ack && !m_axis_tvalid) ack <= req_m2;
  end
  for (genvar c = 0; c < NC; c++) begin : g_empty
    (* keep *) always_ff @(posedge m_clk) empty[c] <= !tvalid_next;
  end
  always_ff @(posedge m_clk) begin
    for (int i = 0; i <= W; i++) if (empty[i/32]) out[i] <= hold[i];
  end
  assign m_axis_tdata = out[W-1:0];
  assign m_axis_tlast = out[W];
endmodule
