// Microcoded RNN inference core: a program (PROG_INIT) drives the matrix-vector unit, the element-wise unit and
// the AXI4-Stream ports over a data memory of b-lane words (DM_INIT holds biases, peepholes and other constants).
// A sequence arrives on s_axis (ceil(F/b) beats of b x BA-bit elements per time step, TLAST on its last beat); the
// program runs the cells layer by layer (sequence buffers in the data memory) and sends the head's output on
// m_axis (b x BO-bit elements per beat, TLAST on the last beat of the result).  Cell equations, operation order and
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
  import rnn_isa_pkg::*;
  localparam int AW = $clog2(DM_DEPTH);  // block (B-lane word) addresses
  localparam int SAW = $clog2(DM_DEPTH / E);  // super-word (E blocks) addresses of the memories
  localparam int SW = E * B * DW;
  localparam int PCW = $clog2(PROG_DEPTH);
  localparam int RL = 2;  // data memory read latency (registered block RAM outputs)

  // ---------------------------------------------------------------- program
  instr_t prog [PROG_DEPTH];
  initial begin
    if (PROG_INIT != "") $readmemh(PROG_INIT, prog);
  end
  logic [PCW-1:0] pc, lpc;
  instr_t cur;  // the instruction register, loaded in C_FETCH

  // ---------------------------------------------------------------- data memory (3 read copies)
  // the write port is registered in each copy (WREG): a word lands one cycle after a unit presents it; the
  // controller never reads a word that soon (in simulation a read at the write's edge returns inverted data,
  // an earlier one stale data: the bit-exact tests fail either way)
  // words of E blocks; the element-wise unit reads/writes whole words, the matrix-vector unit and the streams
  // one block (partial write with block enables)
  logic           dm_we;
  logic [E-1:0]   dm_wbe;
  logic [SAW-1:0] dm_waddr;
  logic [SW-1:0]  dm_wdata;
  logic [SAW-1:0] dm_ra [3];
  logic [SW-1:0]  dm_rd [3];
  for (genvar i = 0; i < 3; i++) begin : g_dm
    ram_1r1w #(.W(SW), .NBE(E), .DEPTH(DM_DEPTH / E), .INIT(DM_INIT), .OREG(1), .WREG(1)) u_dm (
        .clk, .we(dm_we), .wbe(dm_wbe), .waddr(dm_waddr), .wdata(dm_wdata), .raddr(dm_ra[i]), .rdata(dm_rd[i])
    );
  end
  function automatic logic [SAW-1:0] word_of(input logic [AW-1:0] a);
    return SAW'(a / AW'(E));
  endfunction
  function automatic int blk_of(input logic [AW-1:0] a);
    return 32'(a) % E;
  endfunction
  logic [AW-1:0] in_base, out_addr, in_addr;
  logic [AW-1:0] mv_ra, mv_waddr;
  logic [AW-1:0] mv_ra_q [RL];  // block addresses read by the matrix-vector unit in the last RL cycles
  logic [B*DW-1:0] mv_rd, out_rd;
  always_ff @(posedge clk) begin
    mv_ra_q[0] <= mv_ra;
    for (int i = 1; i < RL; i++) mv_ra_q[i] <= mv_ra_q[i-1];
  end
  assign mv_rd = dm_rd[0][blk_of(mv_ra_q[RL-1])*B*DW+:B*DW];
  assign out_rd = dm_rd[0][blk_of(out_addr)*B*DW+:B*DW];

  // ---------------------------------------------------------------- sequencing state
  // C_FETCH loads the instruction register, C_DEC its effective addresses (registered), then the instruction
  // runs: C_EXEC starts a unit (C_MV waits for the matrix unit; an EW runs on while the next instruction is
  // fetched), stream instructions move to C_IN / C_OUT_*.
  typedef enum logic [3:0] {C_FETCH, C_DEC, C_EXEC, C_MV, C_IN, C_OUT_RD, C_OUT_SEND} cstate_t;
  cstate_t cs;
  logic [15:0] t, L, ti, wi;
  logic [AW-1:0] tst, lst, in_row;  // t*ST, (L-1)*ST, ti*ST (kept by additions, no multiplier)
  logic ldir;
  logic [1:0] owait;

  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [AW-1:0] eff(input logic [15:0] addr, input logic [1:0] mode,
                                        input logic [AW-1:0] ts, input logic [AW-1:0] ls);
    if (mode == AM_T) return AW'(addr) + ts;
    if (mode == AM_LAST) return AW'(addr) + ls;
    return AW'(addr);
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  logic [AW-1:0] a_eff, b_eff, c_eff, d_eff;
  logic [SAW:0] ra_lo, ra_hi, rb_lo, rb_hi, rc_lo, rc_hi;  // operand word ranges [lo, hi), for the hazard check
  always_ff @(posedge clk) begin
    if (cs == C_FETCH) cur <= prog[pc];
    if (cs == C_DEC) begin
      a_eff <= eff(cur.a, cur.amode, tst, lst);
      b_eff <= eff(cur.b, cur.bmode, tst, lst);
      c_eff <= eff(cur.c, cur.cmode, tst, lst);
      d_eff <= eff(cur.dst, cur.dmode, tst, lst);
      ra_lo <= (SAW + 1)'(word_of(eff(cur.a, cur.amode, tst, lst)));
      rb_lo <= (SAW + 1)'(word_of(eff(cur.b, cur.bmode, tst, lst)));
      rc_lo <= (SAW + 1)'(word_of(eff(cur.c, cur.cmode, tst, lst)));
      ra_hi <= (SAW + 1)'(word_of(eff(cur.a, cur.amode, tst, lst))) + (SAW + 1)'(cur.n);
      rb_hi <= (SAW + 1)'(word_of(eff(cur.b, cur.bmode, tst, lst))) + (SAW + 1)'(cur.n);
      rc_hi <= (SAW + 1)'(word_of(eff(cur.c, cur.cmode, tst, lst))) + (SAW + 1)'(cur.n);
    end
  end
  logic final_pass;
  assign final_pass = ldir ? (t == 16'd0) : (t + 16'd1 == L);

  // ---------------------------------------------------------------- units
  logic mv_start, mv_done, mv_we, ew_start, ew_done, ew_we, ew_ready;
  // element-wise instructions in flight (started, done not yet seen) and the destination words of the last
  // one started: a new EW starts when the unit is ready and at most one other is in flight, which it does not
  // read (the hazard check); MV, IN, OUT and HALT wait until none is in flight (docs/rtl.md "Overlap").
  logic [1:0] ew_cnt;
  logic [SAW:0] hz_lo, hz_hi;
  logic ew_idle, ew_hazard, ew_go;
  assign ew_idle = ew_cnt == 0;
  function automatic logic hits(input logic [SAW:0] lo, input logic [SAW:0] hi, input logic [SAW:0] hlo,
                                input logic [SAW:0] hhi);
    return lo < hhi && hlo < hi;
  endfunction
  assign ew_hazard = hits(ra_lo, ra_hi, hz_lo, hz_hi) ||
                     (!cur.zb && cur.alu inside {ALU_ADD, ALU_MUL, ALU_MODRELU} && hits(rb_lo, rb_hi, hz_lo, hz_hi)) ||
                     (!cur.zc && cur.alu == ALU_ADD && hits(rc_lo, rc_hi, hz_lo, hz_hi));
`ifdef INJECT_NO_EW_HAZARD  // tests/test_rtl_model.py: the check is what keeps overlapped EWs exact
  assign ew_go = ew_ready && ew_cnt <= 1;
`else
  assign ew_go = ew_ready && (ew_cnt == 0 || (ew_cnt == 1 && !ew_hazard));
`endif
  always_ff @(posedge clk) begin
    if (rst) ew_cnt <= '0;
    else ew_cnt <= ew_cnt + (ew_start ? 2'd1 : 2'd0) - (ew_done ? 2'd1 : 2'd0);
    if (ew_start) begin
      hz_lo <= (SAW + 1)'(word_of(d_eff));
      hz_hi <= (SAW + 1)'(word_of(d_eff)) + (SAW + 1)'(cur.n);
    end
  end
  logic [SAW-1:0] ew_ra [3];
  logic [SAW-1:0] ew_waddr;
  logic [B*DW-1:0] mv_wdata;
  logic [SW-1:0] ew_wdata;
  assign mv_start = (cs == C_EXEC) && (cur.op == OP_MV) && ew_idle;
  assign ew_start = (cs == C_EXEC) && (cur.op == OP_EW) && ew_go;

  mv_unit #(
      .B(B), .P(P), .FFT(FFT), .DIRECT(DIRECT), .DENSE(DENSE), .DW(DW), .BA(BA), .BW(BW), .BZMAX(BZMAX), .G(G), .AW(AW), .WDEPTH(WDEPTH),
      .QMAX(QMAX), .RL(RL), .W_INIT(W_INIT)
  ) u_mv (
      .clk, .rst, .start(mv_start), .ins(cur), .src_base(a_eff), .dst_base(d_eff), .done(mv_done),
      .ra(mv_ra), .rd(mv_rd), .we(mv_we), .waddr(mv_waddr), .wdata(mv_wdata)
  );

  ew_unit #(.B(E * B), .DW(DW), .BA(BA), .N(N), .NT(NT), .AW(SAW), .RL(RL), .PWL_INIT(PWL_INIT)) u_ew (
      .clk, .rst, .start(ew_start), .ins(cur), .a_base(word_of(a_eff)), .b_base(word_of(b_eff)),
      .c_base(word_of(c_eff)), .d_base(word_of(d_eff)),
      .ready(ew_ready), .done(ew_done), .ra(ew_ra), .rd(dm_rd), .we(ew_we), .waddr(ew_waddr), .wdata(ew_wdata)
  );

  // ---------------------------------------------------------------- AXI4-Stream in
  logic in_we;
  logic [11:0] out_n;
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
  assign m_axis_tlast = (cs == C_OUT_SEND) && (wi + 16'd1 == 16'(out_n)) &&
                        (cur.last == 2'd1 || (cur.last == 2'd2 && final_pass));

  // ---------------------------------------------------------------- memory port muxes
  always_comb begin
    dm_ra[0] = (cs == C_MV) ? word_of(mv_ra) :
               (cs == C_OUT_RD || cs == C_OUT_SEND) ? word_of(out_addr) : ew_ra[0];
    dm_ra[1] = ew_ra[1];
    dm_ra[2] = ew_ra[2];
    in_addr = in_base + in_row + AW'(wi);
    if (mv_we) begin
      dm_we = 1'b1;
      dm_wbe = E'(1) << blk_of(mv_waddr);
      dm_waddr = word_of(mv_waddr);
      dm_wdata = {E{mv_wdata}};
    end else if (ew_we) begin
      dm_we = 1'b1;
      dm_wbe = '1;
      dm_waddr = ew_waddr;
      dm_wdata = ew_wdata;
    end else begin
      dm_we = in_we;
      dm_wbe = E'(1) << blk_of(in_addr);
      dm_waddr = word_of(in_addr);
      dm_wdata = {E{in_word}};
    end
  end

  // ---------------------------------------------------------------- controller
  always_ff @(posedge clk) begin
    if (rst) begin
      cs <= C_FETCH;
      pc <= '0;
      t <= '0;
      L <= 16'd1;
      tst <= '0;
      lst <= '0;
      ldir <= 1'b0;
      wi <= '0;
      ti <= '0;
    end else begin
      case (cs)
        C_FETCH: cs <= C_DEC;
        C_DEC:
        if ((cur.op == OP_IN || cur.op == OP_OUT || cur.op == OP_HALT) && !ew_idle) cs <= C_DEC;
        else begin
          cs <= C_FETCH;
          case (cur.op)
            OP_HALT: pc <= '0;
            OP_IN: begin
              cs <= C_IN;
              in_base <= eff(cur.dst, cur.dmode, tst, lst);
              in_row <= '0;
              wi <= '0;
              ti <= '0;
            end
            OP_OUT: begin
              cs <= C_OUT_RD;
              owait <= 2'(RL - 1);
              out_addr <= eff(cur.a, cur.amode, tst, lst);
              out_n <= cur.n;
              wi <= '0;
            end
            OP_MV, OP_EW: cs <= C_EXEC;
            OP_LOOP: begin
              ldir <= cur.last[0];
              t <= cur.last[0] ? L - 16'd1 : 16'd0;
              tst <= cur.last[0] ? lst : '0;
              lpc <= pc + 1;
              pc <= pc + 1;
            end
            OP_ENDLOOP: begin
              if (final_pass) pc <= pc + 1;
              else begin
                t <= ldir ? t - 16'd1 : t + 16'd1;
                tst <= ldir ? tst - AW'(ST) : tst + AW'(ST);
                pc <= lpc;
              end
            end
            default: pc <= pc + 1;
          endcase
        end
        C_EXEC:
        if (mv_start) cs <= C_MV;
        else if (ew_start) begin  // the unit runs on: fetch the next instruction
          cs <= C_FETCH;
          pc <= pc + 1;
        end
        C_MV:
        if (mv_done) begin
          cs <= C_FETCH;
          pc <= pc + 1;
        end
        C_IN:
        if (in_we) begin
          if (wi + 16'd1 == 16'(cur.n)) begin
            wi <= '0;
            ti <= ti + 1;
            in_row <= in_row + AW'(ST);
          end else wi <= wi + 1;
          if (s_axis_tlast) begin
            L <= ti + 16'd1;
            lst <= in_row;
            cs <= C_FETCH;
            pc <= pc + 1;
          end
        end
        C_OUT_RD:
        if (owait == 0) cs <= C_OUT_SEND;
        else owait <= owait - 1;
        C_OUT_SEND:
        if (m_axis_tready) begin
          wi <= wi + 1;
          out_addr <= out_addr + 1;
          owait <= 2'(RL - 1);
          if (wi + 16'd1 == 16'(out_n)) begin
            cs <= C_FETCH;
            pc <= pc + 1;
          end else cs <= C_OUT_RD;
        end
        default: cs <= C_FETCH;
      endcase
    end
  end
endmodule
