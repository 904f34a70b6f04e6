// Read-only memory, synchronous read (one cycle, two with OREG), contents from a .mem file ($readmemh): infers block RAM.
module rom_sync #(
    parameter int W = 32,
    parameter int DEPTH = 256,
    parameter string INIT = "",
    parameter bit OREG = 0,  // 1: registered output (block RAM output register), read latency 2
    localparam int AW = $clog2(DEPTH)
) (
    input  logic          clk,
    input  logic [AW-1:0] raddr,
    output logic [W-1:0]  rdata
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (DEPTH < 2 || W < 1) begin : g_param_check0
    $error("rom_sync: DEPTH >= 2 and W >= 1 (DEPTH %0d)", DEPTH);
  end
  // DEPTH rounded up to a power of two: no depth mux (see ram_1r1w). Block RAM always (rom_style): yosys maps a
  // shallow ROM (the bench cores' 38-word weight memory) to LUT logic, and the read address register then
  // fans out to every bit's LUT tree (LSTM+peepholes and MomentumLSTM bench cores' routed critical path,
  // 9.86 / 9.98 ns); hw/fit.py counts it as block RAM either way.
  (* rom_style = "block" *) logic [W-1:0] mem [2**AW];
  initial begin
    if (INIT != "") $readmemh(INIT, mem);
  end
  if (OREG) begin : g_oreg
    logic [W-1:0] rq;
    always_ff @(posedge clk) begin
      rq <= mem[raddr];
      rdata <= rq;
    end
  end else begin : g_noreg
    always_ff @(posedge clk) rdata <= mem[raddr];
  end
endmodule
