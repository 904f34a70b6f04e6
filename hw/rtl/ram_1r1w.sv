// Simple dual-port RAM, synchronous read (one cycle, two with OREG), initialised by $readmemh: infers block RAM.
// NBE write-enable segments of W/NBE bits each (byte-enable style partial writes).
// A read of a word in the cycle it is written is undefined (no_rw_check: yosys adds no collision logic
// between the block RAM output and its register, which used to put two LUTs and a long route on that path);
// the simulation returns such a read inverted in the segments written, so a test that consumes one fails.
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
  (* no_rw_check *) logic [W-1:0] mem [DEPTH];
  initial begin
    if (INIT != "") $readmemh(INIT, mem);
  end
  always_ff @(posedge clk) begin
    for (int i = 0; i < NBE; i++)
      if (we && wbe[i]) mem[waddr][i*(W/NBE)+:(W/NBE)] <= wdata[i*(W/NBE)+:(W/NBE)];
  end
  logic [W-1:0] rword;  // the word read at this clock edge
`ifdef SYNTHESIS
  assign rword = mem[raddr];
`else
  logic [W-1:0] wmask;
  always_comb begin
    for (int i = 0; i < NBE; i++) wmask[i*(W/NBE)+:(W/NBE)] = {(W / NBE){we && wbe[i] && waddr == raddr}};
  end
  assign rword = mem[raddr] ^ wmask;
`endif
  if (OREG) begin : g_oreg
    logic [W-1:0] rq;
    always_ff @(posedge clk) begin
      rq <= rword;
      rdata <= rq;
    end
  end else begin : g_noreg
    always_ff @(posedge clk) rdata <= rword;
  end
endmodule
