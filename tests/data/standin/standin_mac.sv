// Stand-in design for the synthesis flow tests: N_MAC pipelined multiply-accumulate lanes, weights in a ROM
// initialised by $readmemh, AXI4-Stream-like input and output (TLAST ends a sequence).
// Each input word x is multiplied by the N_MAC weights of the current ROM row; the row address advances per word.
// On TLAST the N_MAC accumulators are streamed out, one word per beat.
module standin_mac #(
    parameter int W = 16,
    parameter int N_MAC = 4,
    parameter int DEPTH = 64,
    parameter MEM_FILE = "standin_weights.mem"
) (
    input  logic         clk,
    input  logic         rst_n,
    input  logic [W-1:0] s_axis_tdata,
    input  logic         s_axis_tvalid,
    output logic         s_axis_tready,
    input  logic         s_axis_tlast,
    output logic [W-1:0] m_axis_tdata,
    output logic         m_axis_tvalid,
    input  logic         m_axis_tready,
    output logic         m_axis_tlast
);
  localparam int AW = $clog2(DEPTH);
  localparam int ACC_W = 2 * W + 8;

  logic [N_MAC*W-1:0] rom [DEPTH];
  initial $readmemh(MEM_FILE, rom);

  logic [AW-1:0] addr;
  logic [N_MAC*W-1:0] wrow;
  logic signed [W-1:0] x_q;
  logic v_q, last_q;
  logic signed [2*W-1:0] prod [N_MAC];
  logic v_p, last_p;
  logic signed [ACC_W-1:0] acc [N_MAC];
  logic draining;
  logic [$clog2(N_MAC+1)-1:0] out_idx;

  assign s_axis_tready = !draining && !v_q && !v_p;

  // stage 1: ROM read + input register
  always_ff @(posedge clk) begin
    wrow <= rom[addr];
    x_q <= s_axis_tdata;
  end
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      addr <= '0;
      v_q <= 1'b0;
      last_q <= 1'b0;
    end else begin
      v_q <= s_axis_tvalid && s_axis_tready;
      last_q <= s_axis_tlast;
      if (s_axis_tvalid && s_axis_tready) addr <= s_axis_tlast ? '0 : addr + 1'b1;
    end
  end

  // stage 2: multiply
  always_ff @(posedge clk) begin
    for (int i = 0; i < N_MAC; i++) prod[i] <= x_q * $signed(wrow[i*W+:W]);
  end
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      v_p <= 1'b0;
      last_p <= 1'b0;
    end else begin
      v_p <= v_q;
      last_p <= last_q;
    end
  end

  // stage 3: accumulate, then drain on TLAST
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      for (int i = 0; i < N_MAC; i++) acc[i] <= '0;
      draining <= 1'b0;
      out_idx <= '0;
    end else if (draining) begin
      if (m_axis_tready) begin
        if (out_idx == N_MAC - 1) begin
          draining <= 1'b0;
          out_idx <= '0;
          for (int i = 0; i < N_MAC; i++) acc[i] <= '0;
        end else out_idx <= out_idx + 1'b1;
      end
    end else if (v_p) begin
      for (int i = 0; i < N_MAC; i++) acc[i] <= acc[i] + ACC_W'(prod[i]);
      draining <= last_p;
    end
  end

  logic signed [ACC_W-1:0] acc_sel;
  always_comb begin
    acc_sel = '0;
    for (int i = 0; i < N_MAC; i++) if (out_idx == i) acc_sel = acc[i];
  end
  assign m_axis_tdata = acc_sel[W+W-2-:W];  // keep the high half (fixed-point rescale)
  assign m_axis_tvalid = draining;
  assign m_axis_tlast = draining && (out_idx == N_MAC - 1);
endmodule
