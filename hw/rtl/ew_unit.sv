// Element-wise unit: B lanes per word, one word per cycle (docs/arithmetic.md sections 4 and 6).
// Reads operand words a, b, c (data RL cycles after the address), computes, writes dst.  A free-running
// pipeline for 100+ MHz on ECP5 in which every word carries its own control fields, so consecutive
// instructions overlap: a new instruction may start (`start`) as soon as the previous one has issued its
// last read (`ready`); the controller (rnn_core) checks that it reads nothing still in flight.  Every op
// writes its word LAT = RL + 13 cycles after its issue (registered read address, RL, 12 stages: one latency
// for all ops, so writes stay in issue order, one per cycle); `done` pulses once per instruction, the cycle
// after its last write.
//   ALU: 1 operands (b negated or zeroed) | 2-4 product (mul_pipe); sum, |a| + b | 5 requant input
//        | 6-7 rounding shift | 8 rounding add | 9-10 saturate | 11 zeroing | 12 delay;  PWL: the 12 stages
//        of pwl_act.
module ew_unit #(
    parameter int B = 8,
    parameter int DW = 20,
    parameter int BA = 16,
    parameter int N = 32,
    parameter int NT = 4,
    parameter int AW = 10,
    parameter int RL = 2,  // data memory read latency (cycles)
    parameter string PWL_INIT = "",
    parameter int NRS = 1  // copies of each read address (ra[i][s]): one per read slice of the data memory
) (
    input  logic                clk,
    input  logic                rst,
    input  logic                start,
    input  rnn_isa_pkg::instr_t ins,
    input  logic [AW-1:0]       a_base,
    input  logic [AW-1:0]       b_base,
    input  logic [AW-1:0]       c_base,
    input  logic [AW-1:0]       d_base,
    output logic                ready,  // no read being issued: a start is accepted
    output logic                done,
    output logic [NRS-1:0][AW-1:0] ra [3],  // NRS equal copies of each
    input  logic [B*DW-1:0]     rd [3],
    output logic                we,
    output logic [AW-1:0]       waddr,
    output logic [B*DW-1:0]     wdata
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (B < 2 || (B & (B - 1)) != 0) begin : g_param_check0
    $error("ew_unit: B (lanes x words per cycle) must be a power of two >= 2 (got %0d)", B);
  end
  if (N != 8 && N != 16 && N != 32 && N != 64) begin : g_param_check1
    $error("ew_unit: N must be 8, 16, 32 or 64 (got %0d)", N);
  end
  if (NT < 1 || BA + 2 > DW || RL < 2) begin : g_param_check2
    $error("ew_unit: NT >= 1, BA + 2 <= DW and RL >= 2 (NT %0d, RL %0d)", NT, RL);
  end
  import rnn_isa_pkg::*;
  localparam int XW = 2 * DW + 2;  // operand of the requant: a * b (2 DW + 1 bits), |a| + b, a + b + c
  localparam int LAT = RL + 13;  // issue -> write, every op (registered read address, RL, 12 stages)
  localparam int S1 = RL;  // ctl index of the word whose read data is on rd

  typedef struct packed {
    logic          v;
    logic          last;
    logic [2:0]    alu;
    logic          zb, zc, nb;
    logic [7:0]    sh;
    logic [5:0]    bits;
    logic [3:0]    tsel;
    logic [4:0]    seg;
    logic [5:0]    rl;
    logic [AW-1:0] waddr;
  } ctl_t;

  // ---------------------------------------------------------------- issue
  logic        busy;
  logic [11:0] cnt;
  /* verilator lint_off UNUSEDSIGNAL */
  instr_t      ir;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [AW-1:0] db;
  assign ready = !busy;
  ctl_t iss;  // the word issued this cycle
  always_comb begin
    iss.v = busy;
    iss.last = cnt + 1 == ir.n;
    iss.alu = ir.alu;
    iss.zb = ir.zb;
    iss.zc = ir.zc;
    iss.nb = ir.nb;
    iss.sh = ir.alu == ALU_ADD ? 8'd0 : ir.sh;  // ADD shifts by 0, which shr_round leaves exact
    iss.bits = ir.bits;
    iss.tsel = ir.tsel;
    iss.seg = ir.seg;
    iss.rl = ir.rl;
    iss.waddr = db + AW'(cnt);
  end
  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
    end else if (start) begin
      busy <= 1'b1;
      cnt <= '0;
      ir <= ins;
      db <= d_base;
    end else if (busy) begin
      cnt <= cnt + 1;
      if (cnt + 1 == ir.n) busy <= 1'b0;
    end
  end
  // registered read addresses (the data memory address is a register), NRS copies of each (keep: one block
  // each, or yosys merges them): one address register drove all 16 block RAMs of a data-memory copy, spread
  // over 50 columns (10.6 ns). The copies load a running address (pa = base + cnt, kept beside the counter),
  // so the route to a copy beside its block RAMs has no adder in front of it.
  logic [AW-1:0] pa [3];
  always_ff @(posedge clk) begin
    if (start) begin
      pa[0] <= a_base;
      pa[1] <= b_base;
      pa[2] <= c_base;
    end else if (busy) begin
      for (int i = 0; i < 3; i++) pa[i] <= pa[i] + 1;
    end
  end
  for (genvar s = 0; s < NRS; s++) begin : g_ra
    (* keep *) always_ff @(posedge clk) begin
      for (int i = 0; i < 3; i++) ra[i][s] <= pa[i];
    end
  end

  // ctl[k]: the word issued k + 1 cycles ago
  ctl_t ctl [LAT];
  always_ff @(posedge clk) begin
    ctl[0] <= iss;
    if (rst) ctl[0].v <= 1'b0;
    for (int i = 1; i < LAT; i++) begin
      ctl[i] <= ctl[i-1];
      if (rst) ctl[i].v <= 1'b0;
    end
  end

  logic [B*DW-1:0] res;
  for (genvar l = 0; l < B; l++) begin : g_lane
    logic signed [DW-1:0] a, b, c, a1, p, q;
    logic signed [DW:0] vb1, vc1;  // -b needs DW + 1 bits
    assign a = rd[0][l*DW+:DW];
    assign b = rd[1][l*DW+:DW];
    assign c = rd[2][l*DW+:DW];
    // The lane's own copy of the control fields it uses, registered from the shared ctl one stage ahead (keep:
    // one copy per lane).  Fed straight from the shared fields, yosys merged the lanes' identical decode and
    // constant logic into one instance driving every lane's registers across the chip: the routed critical
    // path at 84.17 MHz was lane 0's PWL (1 << seg) - 1 -> lane 5's mask, 7.3 ns of route.  From the copies,
    // each lane's logic has its own inputs and stays in the lane; the shared register drives only registers.
    logic [3:0] c_tsel;  // the PWL call of the word whose data arrives next cycle (ctl[S1-1])
    logic [4:0] c_seg;
    logic [5:0] c_rl;
    logic [7:0] c_psh, c_sh;
    logic c_zb, c_nb, c_zc;  // the word on rd (ctl[S1])
    logic [2:0] c_alu4, c_alu10;  // the words in stages 4 (ctl[S1+4]) and 10 (ctl[S1+10])
    logic [5:0] c_bits;  // sh, bits: the requant's fields, one cycle before x5 (ctl[S1+4])
    logic c_wpwl;  // the word written this cycle (ctl[LAT-1]) is a PWL's
    (* keep *) always_ff @(posedge clk) begin
      c_tsel <= ctl[S1-2].tsel;
      c_seg <= ctl[S1-2].seg;
      c_rl <= ctl[S1-2].rl;
      c_psh <= ctl[S1-2].sh;
      c_zb <= ctl[S1-1].zb;
      c_nb <= ctl[S1-1].nb;
      c_zc <= ctl[S1-1].zc;
      c_alu4 <= ctl[S1+3].alu;
      c_sh <= ctl[S1+3].sh;
      c_bits <= ctl[S1+3].bits;
      c_alu10 <= ctl[S1+9].alu;
      c_wpwl <= ctl[LAT-2].alu == ALU_PWL;
    end
    pwl_act #(.DW(DW), .BA(BA), .N(N), .NT(NT), .INIT(PWL_INIT), .PIPE(1)) u_pwl (
        .clk, .z(a), .tsel(c_tsel), .seg(c_seg), .rl(c_rl), .sh(c_psh), .y(p)
    );
    // 1: operands
    always_ff @(posedge clk) begin
      a1 <= a;
      vb1 <= c_zb ? '0 : (c_nb ? -(DW + 1)'(b) : (DW + 1)'(b));
      vc1 <= c_zc ? '0 : (DW + 1)'(c);
    end
    // 2-4: product (mul_pipe), sum, |a| + b with the sign of a; all kept to stage 4
    logic signed [2*DW:0] prod4;
    mul_pipe #(.AW(DW), .BW(DW + 1)) u_mul (.clk, .a(a1), .b(vb1), .y(prod4));
    logic signed [DW-1:0] a2, a3, a4;
    logic signed [DW+1:0] s2, s3, s4, m2, m3, m4;  // a + b + c; |a| + b in [-2^(DW-1), 2^DW]
    logic neg2, neg3, neg4, zero2, zero3, zero4;
    always_ff @(posedge clk) begin
      s2 <= (DW + 2)'(a1) + (DW + 2)'(vb1) + (DW + 2)'(vc1);
      m2 <= (a1 < 0 ? -(DW + 2)'(a1) : (DW + 2)'(a1)) + (DW + 2)'(vb1);
      neg2 <= a1 < 0;
      zero2 <= a1 == 0;
      a2 <= a1;
      a3 <= a2;
      s3 <= s2;
      m3 <= m2 < 0 ? '0 : m2;
      neg3 <= neg2;
      zero3 <= zero2;
      a4 <= a3;
      s4 <= s3;
      m4 <= m3;
      neg4 <= neg3;
      zero4 <= zero3;
    end
    // 5: the requant's input for this word's op (the word in stage 4 is ctl[S1+4])
    logic signed [XW-1:0] x5;
    always_ff @(posedge clk) begin
      case (c_alu4)
        ALU_MUL: x5 <= XW'(prod4);
        ALU_REQ: x5 <= XW'(a4);
        ALU_MODRELU: x5 <= neg4 ? -XW'(m4) : (zero4 ? '0 : XW'(m4));
        default: x5 <= XW'(s4);  // ALU_ADD (ALU_PWL and unused codes take their result below)
      endcase
    end
    // 6-10: fxp_requant PIPE 3, SAT 2: the shift in two stages, the rounding add, the saturation in two
    // stages, each registered (sh, bits one cycle before x5); 11: ops without a requant result zeroed; 12:
    // delay to the PWL's latency (its rounding shift in two stages).
    // (With the saturation in front of a register of this lane's, PIPE 2, the saturation's LUTs and their
    // routes were the GRU bench core's critical path, 9.73 ns.)
    fxp_requant #(.IW(XW), .OW(DW), .SHL(DW), .PIPE(3), .SAT(2)) u_requant (
        .clk, .x(x5), .sh(c_sh), .bits(c_bits), .y(q)
    );
    logic signed [DW-1:0] r11;
    always_ff @(posedge clk) begin
      r11 <= c_alu10 > ALU_MODRELU ? '0 : q;
      res[l*DW+:DW] <= r11;
    end
    assign wdata[l*DW+:DW] = c_wpwl ? p : res[l*DW+:DW];
  end

  /* verilator lint_off UNUSEDSIGNAL */
  ctl_t wc;  // the word written this cycle
  /* verilator lint_on UNUSEDSIGNAL */
  assign wc = ctl[LAT-1];
  assign we = wc.v;
  assign waddr = wc.waddr;
  always_ff @(posedge clk) done <= !rst && wc.v && wc.last;
endmodule
