// Element-wise unit: b lanes per word, one word per cycle (docs/arithmetic.md sections 4 and 6).
// Reads operand words a, b, c (data one cycle after the address), computes, writes dst.
module ew_unit #(
    parameter int B = 8,
    parameter int DW = 20,
    parameter int BA = 16,
    parameter int N = 32,
    parameter int NT = 4,
    parameter int AW = 10,
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
  if (NT < 1 || BA + 2 > DW) begin : g_param_check2
    $error("ew_unit: NT >= 1 and BA + 2 <= DW (NT %0d)", NT);
  end
  import rnn_isa_pkg::*;
  localparam int XW = 2 * DW + 2;  // operand of the requant: a * b (2 DW bits), |a| + b, a + b + c (DW + 2 bits)

  // Two stages per word: (1) read data arrives: operands, product / sum, PWL segment lookup, registered;
  // (2) rounding shift, saturation, PWL interpolation, write.
  logic        busy;
  logic [11:0] cnt;
  logic        vld;  // stage 1: read data of word `wcnt` arrives this cycle
  logic [11:0] wcnt;
  logic        wv;  // stage 2: the result of word `wptr` is written this cycle
  logic [11:0] wptr;
  /* verilator lint_off UNUSEDSIGNAL */
  instr_t      ir;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [AW-1:0] ab, bb, cb, db;

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      vld <= 1'b0;
      wv <= 1'b0;
      done <= 1'b0;
      cnt <= '0;
      wcnt <= '0;
    end else begin
      done <= 1'b0;
      vld <= 1'b0;
      wv <= vld;
      if (vld) begin
        wcnt <= wcnt + 1;
        wptr <= wcnt;
      end
      if (start) begin
        busy <= 1'b1;
        cnt <= '0;
        wcnt <= '0;
        ir <= ins;
        ab <= a_base;
        bb <= b_base;
        cb <= c_base;
        db <= d_base;
      end else if (busy) begin
        if (cnt < ir.n) begin
          cnt <= cnt + 1;
          vld <= 1'b1;
        end
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

  logic [B*DW-1:0] res;
  for (genvar l = 0; l < B; l++) begin : g_lane
    logic signed [DW-1:0] a, b, c, p, q;
    logic signed [XW-1:0] x, xr;
    logic signed [7:0] s;
    logic signed [DW:0] vb, vc;  // -b needs DW + 1 bits
    logic signed [DW+1:0] m;  // |a| + b in [-2^(DW-1), 2^DW]
    assign a = rd[0][l*DW+:DW];
    assign b = rd[1][l*DW+:DW];
    assign c = rd[2][l*DW+:DW];
    pwl_act #(.DW(DW), .BA(BA), .N(N), .NT(NT), .INIT(PWL_INIT), .PIPE(1)) u_pwl (
        .clk, .en(vld), .z(a), .tsel(ir.tsel), .seg(ir.seg), .rl(ir.rl), .sh(ir.sh), .y(p)
    );
    // One multiplier and one requant (rounding shift + saturation) serve every op: the same integers as
    // sat(shr_round(., sh), bits) per op; ADD shifts by 0, which shr_round leaves exact.  Widths are exact.
    always_comb begin
      vb = ir.zb ? '0 : (ir.nb ? -(DW + 1)'(b) : (DW + 1)'(b));
      vc = ir.zc ? '0 : (DW + 1)'(c);
      m = (a < 0 ? -(DW + 2)'(a) : (DW + 2)'(a)) + (DW + 2)'(vb);
      if (m < 0) m = '0;
      s = ir.sh;
      case (ir.alu)
        ALU_MUL: x = XW'(a) * XW'(vb);
        ALU_REQ: x = XW'(a);
        ALU_MODRELU: x = a < 0 ? -XW'(m) : (a == 0 ? '0 : XW'(m));
        default: begin  // ALU_ADD (ALU_PWL and unused codes take their result below)
          x = XW'(a) + XW'(vb) + XW'(vc);
          s = '0;
        end
      endcase
    end
    always_ff @(posedge clk) if (vld) xr <= x;
    fxp_requant #(.IW(XW), .OW(DW), .SHL(DW)) u_requant (.x(xr), .sh(s), .bits(ir.bits), .y(q));
    always_comb begin
      if (ir.alu == ALU_PWL) res[l*DW+:DW] = p;
      else if (ir.alu > ALU_MODRELU) res[l*DW+:DW] = '0;
      else res[l*DW+:DW] = q;
    end
  end

  assign we = wv;
  assign waddr = db + AW'(wptr);
  assign wdata = res;
endmodule
