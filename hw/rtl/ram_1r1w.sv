// Simple dual-port RAM, synchronous read (one cycle, two with OREG), initialised by $readmemh: infers block RAM.
// NBE write-enable segments of W/NBE bits each (byte-enable style partial writes).
module ram_1r1w #(
    parameter int W = 32,
    parameter int NBE = 1,
    parameter int DEPTH = 256,
    parameter string INIT = "",
    parameter bit OREG = 0,  // 1: registered output (block RAM output register), read latency 2
    localparam int AW = $clog2(DEPTH)
) (
    input  logic          clk,
    input  logic          we,
    input  logic [NBE-1:0] wbe,
    input  logic [AW-1:0] waddr,
    input  logic [W-1:0]  wdata,
    input  logic [AW-1:0] raddr,
    output logic [W-1:0]  rdata
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (DEPTH < 2 || W < 1 || NBE < 1 || W % NBE != 0) begin : g_param_check0
    $error("ram_1r1w: DEPTH >= 2 and W a multiple of NBE (DEPTH %0d)", DEPTH);
  end
  logic [W-1:0] mem [DEPTH];
  initial begin
    if (INIT != "") $readmemh(INIT, mem);
  end
  always_ff @(posedge clk) begin
    for (int i = 0; i < NBE; i++)
      if (we && wbe[i]) mem[waddr][i*(W/NBE)+:(W/NBE)] <= wdata[i*(W/NBE)+:(W/NBE)];
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
