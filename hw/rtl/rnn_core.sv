// Microcoded RNN inference core: a program (PROG_INIT) drives the matrix-vector unit, the element-wise unit and
// the AXI4-Stream ports over a data memory of b-lane words (DM_INIT holds biases, peepholes and other constants).
// A sequence arrives on s_axis (ceil(F/b) beats of b x BA-bit elements per time step, TLAST on its last beat); the
// program runs the cells layer by layer (sequence buffers in the data memory) and sends the head's output on
// m_axis (b x BO-bit elements per beat, TLAST on the last beat of the result).  A batch program (NSEQ > 1) takes
// NSEQ sequences one after the other and returns their results in the same order; their steps interleave so
// that one sequence's element-wise work runs while the matrix unit works for another (docs/rtl.md "Overlap").  Cell equations, operation order and
// rounding are those of docs/arithmetic.md; hw/rtl/program.py writes the programs.
module rnn_core #(
    parameter int B = 8,
    parameter int P = 2,
    parameter int E = 1,  // element-wise unit: data words (of B lanes) per cycle, a power of two
    parameter bit FFT = 1,  // matrix-vector paths present (see mv_unit)
    parameter bit DIRECT = 1,
    parameter bit DENSE = 1,
    parameter int DW = 20,
    parameter int BA = 16,
    parameter int BW = 16,
    parameter int BO = 16,
    parameter int BZMAX = 16,
    parameter int G = 4,
    parameter int N = 32,
    parameter int NT = 4,
    parameter int DM_DEPTH = 1024,
    parameter int PROG_DEPTH = 64,
    parameter int WDEPTH = 1024,
    parameter int QMAX = 16,
    parameter int ST = 16,
    parameter int NSEQ = 1,  // sequences per batch (interleaved programs, hw/rtl/program.py)
    parameter int ZB_DEPTH = 64,  // blocks of the matrix-output bank (addresses with bit 15 set)
    parameter string DM_INIT = "",
    parameter string PROG_INIT = "",
    parameter string W_INIT = "",
    parameter string PWL_INIT = ""
) (
    input  logic              clk,
    input  logic              rst,
    input  logic [B*BA-1:0]   s_axis_tdata,
    input  logic              s_axis_tvalid,
    output logic              s_axis_tready,
    input  logic              s_axis_tlast,
    output logic [B*BO-1:0]   m_axis_tdata,
    output logic              m_axis_tvalid,
    input  logic              m_axis_tready,
    output logic              m_axis_tlast
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (B != 2 && B != 4 && B != 8 && B != 16) begin : g_param_check0
    $error("rnn_core: B (lanes) must be 2, 4, 8 or 16 (got %0d)", B);
  end
  if (P < 1) begin : g_param_check1
    $error("rnn_core: P (matrix-vector lanes) must be at least 1 (got %0d)", P);
  end
  if (E < 1 || (E & (E - 1)) != 0) begin : g_param_check2
    $error("rnn_core: E (element-wise words per cycle) must be a power of two (got %0d)", E);
  end
  if (!FFT && !DIRECT && !DENSE) begin : g_param_check3
    $error("rnn_core: at least one matrix-vector path (FFT, DIRECT, DENSE) (got %0d)", FFT);
  end
  if (DW > 30 || BA + 2 > DW || BW + 2 > DW || BO > DW) begin : g_param_check4
    $error("rnn_core: data width DW=%0d must hold BA, BW + 2 and BO (at most 30)", DW);
  end
  if (N != 8 && N != 16 && N != 32 && N != 64) begin : g_param_check5
    $error("rnn_core: N (PWL segments) must be 8, 16, 32 or 64 (got %0d)", N);
  end
  if (DM_DEPTH < 2 || PROG_DEPTH < 2 || WDEPTH < 2 || QMAX < 2 || ST < 1) begin : g_param_check6
    $error("rnn_core: memory depths must be at least 2 (DM_DEPTH %0d)", DM_DEPTH);
  end
  if (NSEQ < 1 || NSEQ > 4 || ZB_DEPTH < 2 * E || ZB_DEPTH % E != 0 || DM_DEPTH % E != 0) begin : g_param_check7
    $error("rnn_core: NSEQ in 1..4, ZB_DEPTH and DM_DEPTH multiples of E (ZB_DEPTH >= 2E) (NSEQ %0d)", NSEQ);
  end
  import rnn_isa_pkg::*;
  localparam int LE = $clog2(E);
  localparam int LAW = $clog2(DM_DEPTH > ZB_DEPTH ? DM_DEPTH : ZB_DEPTH);  // block address bits in a bank
  localparam int AW = LAW + 1;  // block addresses: bank bit (1: matrix-output bank) on top
  localparam int SAW = AW - LE;  // super-word (E blocks) addresses, bank bit on top
  localparam int DWA = $clog2(DM_DEPTH / E);  // word index bits of the data memory
  localparam int ZWA = $clog2(ZB_DEPTH / E);  // ... of the matrix-output bank
  localparam int SW = E * B * DW;
  localparam int PCW = $clog2(PROG_DEPTH);
  localparam int RL = 2;  // memory read latency (registered block RAM outputs)
  localparam int NS = NSEQ;
  localparam int SQW = NS > 1 ? $clog2(NS) : 1;

  // ---------------------------------------------------------------- program
  // A ROM in logic (ram_style "logic": LUTs, no block RAM): the instruction register loads from it through a
  // few gates and starts every decode path at a flip-flop (as a block RAM's read register it started them
  // 5.7 ns into the cycle, the RAM's clock-to-data: the GRU core's decode adders, ../shared/REFERENCE.md "ECP5
  // timing").  LUT RAM is not an option: it needs a write port (yosys: "no valid mapping").
  (* ram_style = "logic" *) instr_t prog [PROG_DEPTH];
  initial begin
    if (PROG_INIT != "") $readmemh(PROG_INIT, prog);
  end
  logic [PCW-1:0] pc, lpc;
  instr_t cur;  // the instruction register, loaded in C_FETCH

  // ---------------------------------------------------------------- memories: two banks of 4 read copies
  // bank 0 (data memory): sequences, states, temporaries, constants; written by the element-wise unit and IN.
  // bank 1 (matrix outputs, address bit 15): written by the matrix-vector unit, and by the element-wise unit
  // only while the matrix unit is idle (the controller's rule), so each bank has one writer at a time.
  // Read copies 0-2 serve the element-wise operands a, b, c; copy 3 the matrix unit's input and OUT.
  // Write ports registered in each copy (WREG): a word lands one cycle after a unit presents it; the controller
  // never reads a word that soon (the simulation model returns such a read inverted: the bit-exact tests fail).
  logic           dm_we, zb_we;
  logic [E-1:0]   dm_wbe, zb_wbe;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [SAW-1:0] dm_waddr, zb_waddr;  // (each bank takes the index bits it has)
  /* verilator lint_on UNUSEDSIGNAL */
  logic [SW-1:0]  dm_wdata, zb_wdata;
  logic           ezb_we;  // bank 1's second source: the element-wise unit (address, data: ew_waddr, ew_wdata)
  logic [SAW-1:0] ew_waddr;
  logic [SW-1:0]  ew_wdata;
  logic [E-1:0]   in_wbe;  // bank 0's second source: IN
  /* verilator lint_off UNUSEDSIGNAL */
  logic [SAW-1:0] in_waddr;  // (bank 0's index bits)
  /* verilator lint_on UNUSEDSIGNAL */
  logic [SW-1:0]  in_wdata;
  logic in_we;
  // NRS read slices per memory copy, each with its own copy of the read address (ram_1r1w NS)
  localparam int NRS = SW % 4 == 0 ? 4 : SW % 2 == 0 ? 2 : 1;
  logic [NRS-1:0][SAW-1:0] rd_a [4];  // read word addresses (bank bit on top), one copy per slice
  logic [SW-1:0]  dm_rd [4], zb_rd [4], rd_d [4];
  logic [RL-1:0]  bank_q [4];  // bank bit of each port's address, RL cycles
  for (genvar i = 0; i < 4; i++) begin : g_mem
    logic [NRS*DWA-1:0] dm_ra;
    logic [NRS*ZWA-1:0] zb_ra;
    for (genvar s = 0; s < NRS; s++) begin : g_ra
      assign dm_ra[s*DWA+:DWA] = rd_a[i][s][DWA-1:0];
      assign zb_ra[s*ZWA+:ZWA] = rd_a[i][s][ZWA-1:0];
    end
    ram_1r1w #(.W(SW), .NBE(E), .DEPTH(DM_DEPTH / E), .INIT(DM_INIT), .OREG(1), .WREG(1), .NS(NRS), .WSRC2(1)) u_dm (
        .clk, .we(dm_we), .wbe(dm_wbe), .waddr(dm_waddr[DWA-1:0]), .wdata(dm_wdata),
        .we2(in_we), .wbe2(in_wbe), .waddr2(in_waddr[DWA-1:0]), .wdata2(in_wdata),
        .raddr(dm_ra), .rdata(dm_rd[i])
    );
    ram_1r1w #(.W(SW), .NBE(E), .DEPTH(ZB_DEPTH / E), .OREG(1), .WREG(1), .NS(NRS), .WSRC2(1)) u_zb (
        .clk, .we(zb_we), .wbe(zb_wbe), .waddr(zb_waddr[ZWA-1:0]), .wdata(zb_wdata),
        .we2(ezb_we), .wbe2('1), .waddr2(ew_waddr[ZWA-1:0]), .wdata2(ew_wdata),
        .raddr(zb_ra), .rdata(zb_rd[i])
    );
    always_ff @(posedge clk) bank_q[i] <= {bank_q[i][RL-2:0], rd_a[i][0][SAW-1]};
    assign rd_d[i] = bank_q[i][RL-1] ? zb_rd[i] : dm_rd[i];
  end
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [SAW-1:0] word_of(input logic [AW-1:0] a);
    return {a[AW-1], (SAW - 1)'(a[LAW-1:0] >> LE)};
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  function automatic int blk_of(input logic [AW-1:0] a);
    return 32'(a) % E;
  endfunction
  logic [AW-1:0] in_rowp, out_addr, in_addr;  // IN: the step's first word, the next word (running pointers)
  logic [AW-1:0] mv_ra, mv_waddr;  // mv_ra: the first copy of the matrix unit's read address (mv_ras)
  logic [NRS-1:0][AW-1:0] mv_ras;
  assign mv_ra = mv_ras[0];
  logic [AW-1:0] mv_ra_q [RL];  // block addresses read by the matrix-vector unit in the last RL cycles
  logic [B*DW-1:0] mv_rd, out_rd;
  always_ff @(posedge clk) begin
    mv_ra_q[0] <= mv_ra;
    for (int i = 1; i < RL; i++) mv_ra_q[i] <= mv_ra_q[i-1];
  end
  assign mv_rd = rd_d[3][blk_of(mv_ra_q[RL-1])*B*DW+:B*DW];
  assign out_rd = rd_d[3][blk_of(out_addr)*B*DW+:B*DW];

  // ---------------------------------------------------------------- sequencing state
  // C_FETCH loads the instruction register, C_DEC its effective addresses (registered) or skips it (a batch
  // instruction whose step is outside its sequence), then the instruction runs: an MV or EW registers its
  // hazard comparisons in C_HZ and starts its unit in C_EXEC (MV and EW run on while the next instruction is
  // fetched), stream instructions move to C_IN / C_OUT_*.  Every input of the next-state logic is a register
  // or a few gates from one: the comparisons with L, it_end and the hazard ranges are registered.
  typedef enum logic [3:0] {C_FETCH, C_DEC, C_HZ, C_EXEC, C_IN, C_OUT_RD, C_OUT_SEND} cstate_t;
  cstate_t cs;
  // per sequence: L, (L-1)*ST and t*ST for the current pass (t = pass or L-1-pass; kept by additions)
  logic [15:0] L [NS];
  logic [LAW-1:0] tst [NS], lst [NS];
  logic [15:0] it, it_end, ti;  // loop pass, its last pass; IN: steps received + 1
  logic [11:0] wl, n1;  // IN / OUT: words left after this one (a down counter: its end is a zero test), n - 1
  logic [LAW-1:0] in_row;
  logic ldir, inloop;
  logic [1:0] owait;
  logic [SQW-1:0] sq;  // the instruction's sequence
  assign sq = NS > 1 ? SQW'(cur.seq) : '0;

  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [AW-1:0] eff(input logic [15:0] addr, input logic [1:0] mode,
                                        input logic [LAW-1:0] ts, input logic [LAW-1:0] ls);
    logic [LAW-1:0] lo;
    lo = LAW'(addr);
    if (mode == AM_T) lo = lo + ts;
    else if (mode == AM_LAST) lo = lo + ls;
    return {addr[15], lo};
  endfunction
  function automatic logic [SAW:0] wend(input logic [AW-1:0] a, input logic [11:0] blocks);
    // one past the last word of `blocks` blocks from block a (same bank)
    return (SAW + 1)'(word_of(a + AW'(blocks) - AW'(1))) + (SAW + 1)'(1);
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  logic [AW-1:0] a_eff, b_eff, c_eff, d_eff;
  // operand and destination word ranges [lo, hi) of the decoded instruction, for the hazard checks
  logic [SAW:0] ra_lo, ra_hi, rb_lo, rb_hi, rc_lo, rc_hi, rd_lo, rd_hi, mvd_hi;
  logic skip;  // the decoded instruction is outside its sequence's steps (batch loops)
  // E = 1: the range ends [.., hi) are a three-term sum (address field + words or blocks + the step offset),
  // added carry-save: one LUT level and one carry chain (eff's add, then + n, then wend's - 1 and + 1 were
  // three chains in C_DEC and set the core's clock). Equal to the general form below for every range inside
  // its bank.
  localparam int RW = SAW + 1;
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [RW-1:0] range_end(input logic [15:0] addr, input logic [11:0] n,
                                              input logic [1:0] mode, input logic [LAW-1:0] ts,
                                              input logic [LAW-1:0] ls);
    logic [RW-1:0] x, y, z;
    x = RW'({addr[15], LAW'(addr)});  // (the bank bit and the bank's address bits)
    y = RW'(n);
    z = mode == AM_T ? RW'(ts) : mode == AM_LAST ? RW'(ls) : '0;
    return (x ^ y ^ z) + (((x & y) | (x & z) | (y & z)) << 1);
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  always_ff @(posedge clk) begin
    if (cs == C_FETCH) cur <= prog[pc];
    if (cs == C_DEC) begin
      a_eff <= eff(cur.a, cur.amode, tst[sq], lst[sq]);
      b_eff <= eff(cur.b, cur.bmode, tst[sq], lst[sq]);
      c_eff <= eff(cur.c, cur.cmode, tst[sq], lst[sq]);
      d_eff <= eff(cur.dst, cur.dmode, tst[sq], lst[sq]);
    end
  end
  // The hazard ranges in a block of their own (keep): at E = 1 ra_lo.. equal a_eff.., and yosys merged them
  // into the registers that also feed the units' bases (the comparators sat 4.3 ns of route away from them)
  (* keep *) always_ff @(posedge clk) begin
    if (cs == C_DEC) begin
      ra_lo <= (SAW + 1)'(word_of(eff(cur.a, cur.amode, tst[sq], lst[sq])));
      rb_lo <= (SAW + 1)'(word_of(eff(cur.b, cur.bmode, tst[sq], lst[sq])));
      rc_lo <= (SAW + 1)'(word_of(eff(cur.c, cur.cmode, tst[sq], lst[sq])));
      rd_lo <= (SAW + 1)'(word_of(eff(cur.dst, cur.dmode, tst[sq], lst[sq])));
      // EW: n words; MV: n input blocks, pb output blocks
      if (LE == 0) begin  // blocks are words: MV's wend(eff(a), n) = eff(a) + n as for EW
        ra_hi <= range_end(cur.a, cur.n, cur.amode, tst[sq], lst[sq]);
        rb_hi <= range_end(cur.b, cur.n, cur.bmode, tst[sq], lst[sq]);
        rc_hi <= range_end(cur.c, cur.n, cur.cmode, tst[sq], lst[sq]);
        rd_hi <= range_end(cur.dst, cur.n, cur.dmode, tst[sq], lst[sq]);
        mvd_hi <= range_end(cur.dst, cur.pb, cur.dmode, tst[sq], lst[sq]);
      end else begin
        ra_hi <= cur.op == OP_MV ? wend(eff(cur.a, cur.amode, tst[sq], lst[sq]), cur.n)
                                 : (SAW + 1)'(word_of(eff(cur.a, cur.amode, tst[sq], lst[sq]))) + (SAW + 1)'(cur.n);
        rb_hi <= (SAW + 1)'(word_of(eff(cur.b, cur.bmode, tst[sq], lst[sq]))) + (SAW + 1)'(cur.n);
        rc_hi <= (SAW + 1)'(word_of(eff(cur.c, cur.cmode, tst[sq], lst[sq]))) + (SAW + 1)'(cur.n);
        rd_hi <= (SAW + 1)'(word_of(eff(cur.dst, cur.dmode, tst[sq], lst[sq]))) + (SAW + 1)'(cur.n);
        mvd_hi <= wend(eff(cur.dst, cur.dmode, tst[sq], lst[sq]), cur.pb);
      end
    end
  end
  // run_q[s][l]: pass `it` is a step of sequence s for an instruction of lag l; final_pass: the last pass.
  // Registered every cycle from it, it_end and L, which change only at the end of C_DEC or C_IN, and read
  // only in C_DEC / C_OUT_SEND, at least one C_FETCH later: always current where they are read.
  logic [1:0] run_q [NS];
  logic final_pass;
  always_ff @(posedge clk) begin
    for (int s = 0; s < NS; s++) begin
      run_q[s][0] <= it < L[s];
      run_q[s][1] <= it != 16'd0 && it - 16'd1 < L[s];
    end
    final_pass <= it + 16'd1 == it_end;
  end
  assign skip = inloop && (cur.op == OP_MV || cur.op == OP_EW || cur.op == OP_OUT) && !run_q[sq][cur.lag];

  // ---------------------------------------------------------------- units
  logic mv_start, mv_done, mv_we, mv_accept, ew_start, ew_done, ew_we, ew_ready;
  // element-wise instructions in flight (started, done not yet seen) and the destination words of the last two
  // started (in flight: the last ew_cnt of them).  A new EW starts when the unit is ready and at most one other
  // is in flight, which it does not read (the hazard check).  The matrix unit runs beside them (docs/rtl.md
  // "Overlap"): an MV starts when the matrix unit is idle, the element-wise unit issues no reads and no EW in
  // flight writes its input or the matrix-output bank; while it runs, an EW waits if it reads the MV's output,
  // writes its input or writes the matrix-output bank.  IN, OUT and HALT wait until both units are idle.
  // Two MVs may be in flight (mv_cnt): the next one starts while the last one drains when the unit accepts
  // it (mv_accept) and it does not read that one's output; slot 0 holds the ranges of the last MV started,
  // slot 1 those of the one before (in flight while mv_cnt = 2: MVs finish in order).
  logic [1:0] ew_cnt;
  logic [SAW:0] hz_lo [2], hz_hi [2];
  logic mv_busy;
  logic [1:0] mv_cnt, mv_cnt_nx;
  assign mv_cnt_nx = mv_cnt + (mv_start ? 2'd1 : 2'd0) - (mv_done ? 2'd1 : 2'd0);
  logic [SAW:0] ms_lo, ms_hi, md_lo, md_hi;  // the last started MV's input and output word ranges
  logic [SAW:0] ms1_lo, ms1_hi, md1_lo, md1_hi;  // the MV started before it
  logic ew_idle, ew_hazard, ew_go, ew_mv_hazard, mv_go;
  assign ew_idle = ew_cnt == 0;
  function automatic logic hits(input logic [SAW:0] lo, input logic [SAW:0] hi, input logic [SAW:0] hlo,
                                input logic [SAW:0] hhi);
    return lo < hhi && hlo < hi;
  endfunction
  function automatic logic reads_hit(input logic [SAW:0] hlo, input logic [SAW:0] hhi);
    return hits(ra_lo, ra_hi, hlo, hhi) ||
           (!cur.zb && cur.alu inside {ALU_ADD, ALU_MUL, ALU_MODRELU} && hits(rb_lo, rb_hi, hlo, hhi)) ||
           (!cur.zc && cur.alu == ALU_ADD && hits(rc_lo, rc_hi, hlo, hhi));
  endfunction
  // The range comparisons, registered in C_HZ: their operands (the decoded ranges, the last two EW
  // destinations, the running MV's ranges) change only when this controller starts a unit, in C_EXEC.
  //   hz_rd0: the EW reads what the last started EW writes; hz_mv[k]: the EW in flight in slot k writes the
  //   MV's input or the matrix-output bank; hz_ewmv: the EW reads the MV's output, writes its input or bank 1.
  //   hz_ewmv1: the same against the MV before it; hz_mvmv: the MV reads the last started MV's output.
  logic hz_rd0, hz_ewmv, hz_ewmv1, hz_mvmv;
  logic [1:0] hz_mv;
  always_ff @(posedge clk) begin
    if (cs == C_HZ) begin
      hz_rd0 <= reads_hit(hz_lo[0], hz_hi[0]);
      for (int k = 0; k < 2; k++) hz_mv[k] <= hits(ra_lo, ra_hi, hz_lo[k], hz_hi[k]) || hz_lo[k][SAW-1];
      hz_ewmv <= reads_hit(md_lo, md_hi) || hits(rd_lo, rd_hi, ms_lo, ms_hi) || rd_lo[SAW-1];
      hz_ewmv1 <= reads_hit(md1_lo, md1_hi) || hits(rd_lo, rd_hi, ms1_lo, ms1_hi) || rd_lo[SAW-1];
      hz_mvmv <= hits(ra_lo, ra_hi, md_lo, md_hi);
    end
  end
  // an EW in flight (slot k) that an MV must wait for
  function automatic logic mv_waits_for(input int k);
    return (k < 32'(ew_cnt)) && hz_mv[k];
  endfunction
  assign ew_hazard = hz_rd0;
  assign ew_mv_hazard = (mv_busy && hz_ewmv) || (mv_cnt[1] && hz_ewmv1);
`ifdef INJECT_NO_EW_HAZARD  // tests/test_rtl_model.py: the check is what keeps overlapped EWs exact
  assign ew_go = ew_ready && ew_cnt <= 1 && !ew_mv_hazard;
`elsif INJECT_NO_MV_HAZARD  // tests/test_rtl_model.py: the MV/EW checks are what keep the overlap exact
  assign ew_go = ew_ready && (ew_cnt == 0 || (ew_cnt == 1 && !ew_hazard));
`else
  assign ew_go = ew_ready && (ew_cnt == 0 || (ew_cnt == 1 && !ew_hazard)) && !ew_mv_hazard;
`endif
`ifdef INJECT_NO_MV_HAZARD
  assign mv_go = !mv_busy && ew_ready;
`else
  assign mv_go = (!mv_busy || (!mv_cnt[1] && mv_accept && !hz_mvmv)) && ew_ready && !mv_waits_for(0) &&
      !mv_waits_for(1);
`endif
  always_ff @(posedge clk) begin
    if (rst) ew_cnt <= '0;
    else ew_cnt <= ew_cnt + (ew_start ? 2'd1 : 2'd0) - (ew_done ? 2'd1 : 2'd0);
    if (ew_start) begin
      hz_lo[0] <= rd_lo;
      hz_hi[0] <= rd_hi;
      hz_lo[1] <= hz_lo[0];
      hz_hi[1] <= hz_hi[0];
    end
    if (rst) begin
      mv_cnt <= '0;
      mv_busy <= 1'b0;
    end else begin
      mv_cnt <= mv_cnt_nx;
      mv_busy <= mv_cnt_nx != 2'd0;  // mv_cnt != 0, kept as its own flip-flop (it fans out)
    end
    if (mv_start) begin
      ms_lo <= ra_lo;
      ms_hi <= ra_hi;
      md_lo <= rd_lo;
      md_hi <= mvd_hi;
      ms1_lo <= ms_lo;
      ms1_hi <= ms_hi;
      md1_lo <= md_lo;
      md1_hi <= md_hi;
    end
  end
  logic [NRS-1:0][SAW-1:0] ew_ra [3];
  logic [B*DW-1:0] mv_wdata;
  logic [SW-1:0] ew_rd [3];
  assign mv_start = (cs == C_EXEC) && (cur.op == OP_MV) && mv_go;
  assign ew_start = (cs == C_EXEC) && (cur.op == OP_EW) && ew_go;
  // the element-wise operands are registered after the bank select (its select fans out to every lane's
  // first stage): the unit sees a read latency of RL + 1
  for (genvar i = 0; i < 3; i++) begin : g_ew_rd
    always_ff @(posedge clk) ew_rd[i] <= rd_d[i];
  end

  mv_unit #(
      .B(B), .P(P), .FFT(FFT), .DIRECT(DIRECT), .DENSE(DENSE), .DW(DW), .BA(BA), .BW(BW), .BZMAX(BZMAX), .G(G), .AW(AW), .WDEPTH(WDEPTH),
      .QMAX(QMAX), .RL(RL), .W_INIT(W_INIT), .NRS(NRS)
  ) u_mv (
      .clk, .rst, .start(mv_start), .ins(cur), .src_base(a_eff), .dst_base(d_eff), .done(mv_done),
      .accept(mv_accept), .idle_ra(out_addr),
      .ra(mv_ras), .rd(mv_rd), .we(mv_we), .waddr(mv_waddr), .wdata(mv_wdata)
  );

  ew_unit #(.B(E * B), .DW(DW), .BA(BA), .N(N), .NT(NT), .AW(SAW), .RL(RL + 1), .PWL_INIT(PWL_INIT), .NRS(NRS)) u_ew (
      .clk, .rst, .start(ew_start), .ins(cur), .a_base(word_of(a_eff)), .b_base(word_of(b_eff)),
      .c_base(word_of(c_eff)), .d_base(word_of(d_eff)),
      .ready(ew_ready), .done(ew_done), .ra(ew_ra), .rd(ew_rd), .we(ew_we), .waddr(ew_waddr), .wdata(ew_wdata)
  );

  // ---------------------------------------------------------------- AXI4-Stream in
  assign s_axis_tready = (cs == C_IN);
  assign in_we = s_axis_tvalid && s_axis_tready;
  logic [B*DW-1:0] in_word;
  always_comb begin
    for (int l = 0; l < B; l++) in_word[l*DW+:DW] = DW'($signed(s_axis_tdata[l*BA+:BA]));
  end

  // ---------------------------------------------------------------- AXI4-Stream out
  assign m_axis_tvalid = (cs == C_OUT_SEND);
  always_comb begin
    for (int l = 0; l < B; l++) m_axis_tdata[l*BO+:BO] = out_rd[l*DW+:BO];
  end
  assign m_axis_tlast = (cs == C_OUT_SEND) && (wl == 0) &&
                        (cur.last == 2'd1 || (cur.last == 2'd2 && final_pass));

  // ---------------------------------------------------------------- memory port muxes
  always_comb begin
    for (int i = 0; i < 3; i++) rd_a[i] = ew_ra[i];
    // OUT's address too (through the matrix unit's idle_ra: one cycle more)
    for (int s = 0; s < NRS; s++) rd_a[3][s] = word_of(mv_ras[s]);
    // bank 0: the element-wise unit (destination bank 0) or IN (never at the same time: IN waits for idle units)
    // bank 1: the matrix unit (its outputs always go here), or the element-wise unit while the matrix unit is
    // idle. Each bank's two sources go to the memory (WSRC2): the select is in every slice's write register,
    // so no shared mux output fans out over the copies (mv_we -> mux -> 16 write registers: 12.3 ns)
    dm_we = ew_we && !ew_waddr[SAW-1];
    dm_wbe = '1;
    dm_waddr = ew_waddr;
    dm_wdata = ew_wdata;
    in_wbe = E'(1) << blk_of(in_addr);
    in_waddr = word_of(in_addr);
    in_wdata = {E{in_word}};
    zb_we = mv_we;
    zb_wbe = E'(1) << blk_of(mv_waddr);
    zb_waddr = word_of(mv_waddr);
    zb_wdata = {E{mv_wdata}};
    ezb_we = ew_we && ew_waddr[SAW-1];
  end

  // ---------------------------------------------------------------- controller
  logic [15:0] lmax;  // longest sequence of the batch
  always_comb begin
    lmax = L[0];
    for (int s = 1; s < NS; s++) if (L[s] > lmax) lmax = L[s];
  end
  always_ff @(posedge clk) begin
    if (rst) begin
      cs <= C_FETCH;
      pc <= '0;
      it <= '0;
      it_end <= 16'd1;
      inloop <= 1'b0;
      for (int s = 0; s < NS; s++) begin
        L[s] <= 16'd1;
        tst[s] <= '0;
        lst[s] <= '0;
      end
      ldir <= 1'b0;
      wl <= '0;
      ti <= 16'd1;
    end else begin
      case (cs)
        C_FETCH: cs <= C_DEC;
        C_DEC: begin
          // OUT's first address is loaded in every decode cycle of an OUT, also while it waits for the units
          // or is skipped (nothing reads it before OUT runs): its enable does not wait for the stall and skip
          // logic (sq -> skip -> the units' state -> out_addr was a routed critical path, 10.01 ns)
          if (cur.op == OP_OUT) out_addr <= eff(cur.a, cur.amode, tst[sq], lst[sq]);
          // so are IN's pointers and both stream instructions' counters (only C_IN / C_OUT_* read them; the
          // GRU core's routed critical path was the stall logic into in_row's enable, 11.8 ns)
          if (cur.op == OP_IN) begin
            in_rowp <= eff(cur.dst, cur.dmode, tst[sq], lst[sq]);
            in_addr <= eff(cur.dst, cur.dmode, tst[sq], lst[sq]);
            in_row <= '0;
            n1 <= cur.n - 12'd1;
            ti <= 16'd1;
          end
          if (cur.op == OP_IN || cur.op == OP_OUT) wl <= cur.n - 12'd1;
          if (cur.op == OP_OUT) owait <= 2'(RL);
          if ((cur.op == OP_IN || cur.op == OP_OUT || cur.op == OP_HALT) && !skip && (!ew_idle || mv_busy))
            cs <= C_DEC;
          else begin
            cs <= C_FETCH;
            if (skip) pc <= pc + 1;
            else
              case (cur.op)
                OP_HALT: pc <= '0;
                OP_IN: cs <= C_IN;
                OP_OUT: cs <= C_OUT_RD;
                OP_MV, OP_EW: cs <= C_HZ;
                OP_LOOP: begin
                  ldir <= cur.last[0];
                  it <= '0;
                  it_end <= lmax + 16'(cur.lag);
                  inloop <= 1'b1;
                  for (int s = 0; s < NS; s++) tst[s] <= cur.last[0] ? lst[s] : '0;
                  lpc <= pc + 1;
                  pc <= pc + 1;
                end
                OP_ENDLOOP: begin
                  if (final_pass) begin
                    inloop <= 1'b0;
                    pc <= pc + 1;
                  end else begin
                    it <= it + 16'd1;
                    for (int s = 0; s < NS; s++) tst[s] <= ldir ? tst[s] - LAW'(ST) : tst[s] + LAW'(ST);
                    pc <= lpc;
                  end
                end
                default: pc <= pc + 1;
              endcase
          end
        end
        C_HZ: cs <= C_EXEC;
        C_EXEC:
        if (mv_start || ew_start) begin  // the unit runs on: fetch the next instruction
          cs <= C_FETCH;
          pc <= pc + 1;
        end
        C_IN:
        if (in_we) begin
          if (wl == 0) begin  // the step's last word: the next step's row
            wl <= n1;
            ti <= ti + 16'd1;
            in_row <= in_row + LAW'(ST);
            in_rowp <= in_rowp + AW'(ST);
            in_addr <= in_rowp + AW'(ST);
          end else begin
            wl <= wl - 12'd1;
            in_addr <= in_addr + AW'(1);
          end
          if (s_axis_tlast) begin
            L[sq] <= ti;
            lst[sq] <= in_row;
            cs <= C_FETCH;
            pc <= pc + 1;
          end
        end
        C_OUT_RD:
        if (owait == 0) cs <= C_OUT_SEND;
        else owait <= owait - 1;
        C_OUT_SEND:
        if (m_axis_tready) begin
          wl <= wl - 12'd1;
          out_addr <= out_addr + 1;
          owait <= 2'(RL);
          if (wl == 0) begin
            cs <= C_FETCH;
            pc <= pc + 1;
          end else cs <= C_OUT_RD;
        end
        default: cs <= C_FETCH;
      endcase
    end
  end
endmodule
