// Element-wise unit: B lanes per word, one word per cycle (docs/arithmetic.md sections 4 and 6).
// Reads operand words a, b, c (data RL cycles after the address), computes, writes dst.  A free-running
// pipeline for 100+ MHz on ECP5: a word's result is written LAT_ALU (ADD/MUL/REQ/modReLU) or LAT_PWL cycles
// after its operands arrive; hw/cycles.py counts the same cycles.
//   ALU: 1 operands (b negated or zeroed) | 2 sum, |a| + b, chunk products | 3 product | 4 requant input
//        | 5 rounding shift | 6 rounding add | 7 saturate;  PWL: the 10 stages of pwl_act.
module ew_unit #(
    parameter int B = 8,
    parameter int DW = 20,
    parameter int BA = 16,
    parameter int N = 32,
    parameter int NT = 4,
    parameter int AW = 10,
    parameter int RL = 2,  // data memory read latency (cycles)
    parameter string PWL_INIT = ""
) (
    input  logic                clk,
    input  logic                rst,
    input  logic                start,
    input  rnn_isa_pkg::instr_t ins,
    input  logic [AW-1:0]       a_base,
    input  logic [AW-1:0]       b_base,
    input  logic [AW-1:0]       c_base,
    input  logic [AW-1:0]       d_base,
    output logic                done,
    output logic [AW-1:0]       ra [3],
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
  if (NT < 1 || BA + 2 > DW || RL < 1) begin : g_param_check2
    $error("ew_unit: NT >= 1, BA + 2 <= DW and RL >= 1 (NT %0d, RL %0d)", NT, RL);
  end
  import rnn_isa_pkg::*;
  localparam int XW = 2 * DW + 2;  // operand of the requant: a * b (2 DW + 1 bits), |a| + b, a + b + c
  localparam int LAT_ALU = 7;
  localparam int LAT_PWL = 10;
  localparam int DMAX = RL + LAT_PWL - 1;

  logic        busy;
  logic [11:0] cnt;
  logic [DMAX:0] vsh;  // vsh[k]: the word whose address was issued k cycles ago
  logic        wv;
  logic [11:0] wptr;
  /* verilator lint_off UNUSEDSIGNAL */
  instr_t      ir;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [AW-1:0] ab, bb, cb, db;
  logic is_pwl;
  assign is_pwl = ir.alu == ALU_PWL;
  assign wv = is_pwl ? vsh[RL+LAT_PWL-1] : vsh[RL+LAT_ALU-1];  // vsh[k] is high k + 1 cycles after

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      done <= 1'b0;
      cnt <= '0;
      vsh <= '0;
    end else begin
      done <= 1'b0;
      vsh <= {vsh[DMAX-1:0], busy && cnt < ir.n};
      if (wv) wptr <= wptr + 1;
      if (start) begin
        busy <= 1'b1;
        cnt <= '0;
        wptr <= '0;
        ir <= ins;
        ab <= a_base;
        bb <= b_base;
        cb <= c_base;
        db <= d_base;
      end else if (busy) begin
        if (cnt < ir.n) cnt <= cnt + 1;
        if (wv && wptr + 1 == ir.n) begin
          busy <= 1'b0;
          done <= 1'b1;
        end
      end
    end
  end

  always_comb begin
    ra[0] = ab + AW'(cnt);
    ra[1] = bb + AW'(cnt);
    ra[2] = cb + AW'(cnt);
  end

  logic [7:0] req_sh;  // ADD shifts by 0, which shr_round leaves exact
  assign req_sh = ir.alu == ALU_ADD ? 8'd0 : ir.sh;
  logic [B*DW-1:0] res, pwl_y;
  for (genvar l = 0; l < B; l++) begin : g_lane
    logic signed [DW-1:0] a, b, c, a1, p, q;
    logic signed [DW:0] vb1, vc1;  // -b needs DW + 1 bits
    assign a = rd[0][l*DW+:DW];
    assign b = rd[1][l*DW+:DW];
    assign c = rd[2][l*DW+:DW];
    pwl_act #(.DW(DW), .BA(BA), .N(N), .NT(NT), .INIT(PWL_INIT), .PIPE(1)) u_pwl (
        .clk, .z(a), .tsel(ir.tsel), .seg(ir.seg), .rl(ir.rl), .sh(ir.sh), .y(p)
    );
    // 1: operands
    always_ff @(posedge clk) begin
      a1 <= a;
      vb1 <= ir.zb ? '0 : (ir.nb ? -(DW + 1)'(b) : (DW + 1)'(b));
      vc1 <= ir.zc ? '0 : (DW + 1)'(c);
    end
    // 2-3: product (mul_pipe), sum, |a| + b with the sign of a; all three kept to stage 3
    logic signed [2*DW:0] prod3;
    mul_pipe #(.AW(DW), .BW(DW + 1)) u_mul (.clk, .a(a1), .b(vb1), .y(prod3));
    logic signed [DW-1:0] a2, a3;
    logic signed [DW+1:0] s2, s3, m2, m3;  // a + b + c; |a| + b in [-2^(DW-1), 2^DW]
    logic neg2, neg3, zero2, zero3;
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
    end
    // 4: the requant's input for this op
    logic signed [XW-1:0] x4;
    always_ff @(posedge clk) begin
      case (ir.alu)
        ALU_MUL: x4 <= XW'(prod3);
        ALU_REQ: x4 <= XW'(a3);
        ALU_MODRELU: x4 <= neg3 ? -XW'(m3) : (zero3 ? '0 : XW'(m3));
        default: x4 <= XW'(s3);  // ALU_ADD (ALU_PWL and unused codes take their result below)
      endcase
    end
    // 5-6: rounding shift, rounding add (registered in fxp_requant); 7: saturation, registered here
    fxp_requant #(.IW(XW), .OW(DW), .SHL(DW), .PIPE(2)) u_requant (
        .clk, .x(x4), .sh(req_sh), .bits(ir.bits), .y(q)
    );
    always_ff @(posedge clk) res[l*DW+:DW] <= ir.alu > ALU_MODRELU ? '0 : q;
    assign pwl_y[l*DW+:DW] = p;
  end

  always_ff @(posedge clk) waddr <= db + AW'(wv ? wptr + 12'd1 : wptr);
  assign we = wv;
  assign wdata = is_pwl ? pwl_y : res;
endmodule
