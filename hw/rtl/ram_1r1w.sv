// Simple dual-port RAM, synchronous read (one cycle, two with OREG), initialised by $readmemh: infers block RAM.
// NBE write-enable segments of W/NBE bits each (byte-enable style partial writes).
// A read of a word in the cycle it is written is undefined (no_rw_check: yosys adds no collision logic
// between the block RAM output and its register, which used to put two LUTs and a long route on that path);
// the simulation returns such a read inverted in the segments written, so a test that consumes one fails.
// WREG: the write port is registered inside (each instance its own registers, beside its block RAMs): a word
// is written one cycle after it is presented.
module ram_1r1w #(
    parameter int W = 32,
    parameter int NBE = 1,
    parameter int DEPTH = 256,
    parameter string INIT = "",
    parameter bit OREG = 0,  // 1: registered output (block RAM output register), read latency 2
    parameter bit WREG = 0,  // 1: registered write port, write latency 1
    parameter int NS = 1,  // read-address slices: slice s (bits [s*W/NS +: W/NS]) is read at raddr[s*AW +: AW]
    parameter bit WSRC2 = 0,  // 1: a second write source (we2 ..), taken when we is low; with WREG each
                              // slice registers both sources and selects after its registers
    localparam int AW = $clog2(DEPTH)
) (
    input  logic          clk,
    input  logic          we,
    input  logic [NBE-1:0] wbe,
    input  logic [AW-1:0] waddr,
    input  logic [W-1:0]  wdata,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic          we2,  // WSRC2 only
    input  logic [NBE-1:0] wbe2,
    input  logic [AW-1:0] waddr2,
    input  logic [W-1:0]  wdata2,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [NS*AW-1:0] raddr,
    output logic [W-1:0]  rdata
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (DEPTH < 2 || W < 1 || NBE < 1 || W % NBE != 0) begin : g_param_check0
    $error("ram_1r1w: DEPTH >= 2 and W a multiple of NBE (DEPTH %0d, W %0d, NBE %0d)", DEPTH, W, NBE);
  end
  if (NS < 1 || W % NS != 0) begin : g_param_check1
    $error("ram_1r1w: NS >= 1 dividing W (NS %0d, W %0d)", NS, W);
  end
  localparam int SWD = W / NS;  // bits of one slice
  logic          w1;  // the write of this cycle comes from the first source
  /* verilator lint_off UNUSEDSIGNAL */  // (WREG with WSRC2 registers both sources instead: g_wreg2)
  logic          x_we;  // the write of this cycle, either source
  logic [NBE-1:0] x_wbe;
  logic [AW-1:0] x_waddr;
  logic [W-1:0]  x_wdata;
  /* verilator lint_on UNUSEDSIGNAL */
  assign w1 = we || !WSRC2;
  assign x_we = we || (WSRC2 && we2);
  assign x_wbe = w1 ? wbe : wbe2;
  assign x_waddr = w1 ? waddr : waddr2;
  assign x_wdata = w1 ? wdata : wdata2;
  // Slices (NS > 1): the memory is NS memories side by side, each with its own read address and its own write
  // registers, so one address register does not fan out to every block RAM of a wide memory (16 on the
  // default core's data memory, spread over 50 columns of the ECP5: a 10.6 ns route). Each slice is declared
  // full width and loads the whole INIT file (one file for every slice); only its own bits are ever read, and
  // yosys drops the others (opt_mem), so the block RAM count is that of one memory.
  for (genvar s = 0; s < NS; s++) begin : g_slice
    // 2**AW words (DEPTH rounded up to a power of two): yosys then builds the memory from block RAMs of that
    // depth side by side (1480 x 144: 16 of 2048 x 9) instead of stacking shallower ones behind a depth mux
    // (12 of 512 x 36 and a 3:1 mux of 144 bits between the block RAM outputs and the output register); the
    // words above DEPTH are never addressed by the core.
    (* no_rw_check *) logic [W-1:0] mem [2**AW];
    initial begin
      if (INIT != "") $readmemh(INIT, mem);
    end
    logic          m_we;  // the write the memory takes at this edge
    logic [NBE-1:0] m_wbe;
    logic [AW-1:0] m_waddr;
    logic [W-1:0]  m_wdata;
    if (WREG && WSRC2) begin : g_wreg2
      // both sources registered as they come, the select after the registers: a select in front of them
      // was one set of LUTs for every copy (yosys merged the copies' identical selects), and the first
      // source's enable -> that select -> the write-data registers of all copies, 9 ns of route, was the
      // routed critical path of the MomentumLSTM and BiLSTM bench cores (9.89 / 10.01 ns)
      (* keep *) logic q_we1, q_we2;
      (* keep *) logic [NBE-1:0] q_wbe1, q_wbe2;
      (* keep *) logic [AW-1:0] q_waddr1, q_waddr2;
      (* keep *) logic [SWD-1:0] q_wdata1, q_wdata2;
      initial {q_we1, q_we2} = '0;
      (* keep *) always_ff @(posedge clk) begin
        q_we1 <= we;
        q_wbe1 <= wbe;
        q_waddr1 <= waddr;
        q_wdata1 <= wdata[s*SWD+:SWD];
        q_we2 <= we2;
        q_wbe2 <= wbe2;
        q_waddr2 <= waddr2;
        q_wdata2 <= wdata2[s*SWD+:SWD];
      end
      assign m_we = q_we1 || q_we2;
      assign {m_wbe, m_waddr} = q_we1 ? {q_wbe1, q_waddr1} : {q_wbe2, q_waddr2};
      assign m_wdata = W'(q_we1 ? q_wdata1 : q_wdata2) << (s * SWD);
    end else if (WREG) begin : g_wreg
      (* keep *) logic q_we;
      (* keep *) logic [NBE-1:0] q_wbe;
      (* keep *) logic [AW-1:0] q_waddr;
      (* keep *) logic [SWD-1:0] q_wdata;  // the slice's bits (the others are never read)
      initial q_we = 1'b0;
      // keep on the block: the read copies of one memory have identical write inputs, and yosys merged their
      // write registers into one set driving every copy's block RAMs (64 on the default core, 12.7 ns routes)
      (* keep *) always_ff @(posedge clk) begin
        q_we <= x_we;
        q_wbe <= x_wbe;
        q_waddr <= x_waddr;
        q_wdata <= x_wdata[s*SWD+:SWD];
      end
      assign {m_we, m_wbe, m_waddr} = {q_we, q_wbe, q_waddr};
      assign m_wdata = W'(q_wdata) << (s * SWD);
    end else begin : g_wdirect
      assign {m_we, m_wbe, m_waddr, m_wdata} = {x_we, x_wbe, x_waddr, x_wdata};
    end
    always_ff @(posedge clk) begin
      for (int i = 0; i < NBE; i++)
        if (m_we && m_wbe[i]) mem[m_waddr][i*(W/NBE)+:(W/NBE)] <= m_wdata[i*(W/NBE)+:(W/NBE)];
    end
    logic [AW-1:0] ra;
    assign ra = raddr[s*AW+:AW];
    logic [SWD-1:0] rword;  // the slice's bits of the word read at this clock edge
`ifdef SYNTHESIS
    assign rword = SWD'(mem[ra] >> (s * SWD));
`else
    logic [W-1:0] wmask;
    always_comb begin
      for (int i = 0; i < NBE; i++) wmask[i*(W/NBE)+:(W/NBE)] = {(W / NBE){m_we && m_wbe[i] && m_waddr == ra}};
    end
    assign rword = SWD'((mem[ra] ^ wmask) >> (s * SWD));
`endif
    logic [SWD-1:0] rd_s;
    if (OREG) begin : g_oreg
      logic [SWD-1:0] rq;
      always_ff @(posedge clk) begin
        rq <= rword;
        rd_s <= rq;
      end
    end else begin : g_noreg
      always_ff @(posedge clk) rd_s <= rword;
    end
    assign rdata[s*SWD+:SWD] = rd_s;
  end
endmodule
