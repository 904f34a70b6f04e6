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
  import fxp_pkg::*;
  import rnn_isa_pkg::*;

  logic        busy;
  logic [11:0] cnt;
  logic        vld;  // read data of word `wcnt` arrives this cycle
  logic [11:0] wcnt;
  /* verilator lint_off UNUSEDSIGNAL */
  instr_t      ir;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [AW-1:0] ab, bb, cb, db;

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      vld <= 1'b0;
      done <= 1'b0;
      cnt <= '0;
      wcnt <= '0;
    end else begin
      done <= 1'b0;
      vld <= 1'b0;
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
        if (vld) begin
          wcnt <= wcnt + 1;
          if (wcnt + 1 == ir.n) begin
            busy <= 1'b0;
            done <= 1'b1;
          end
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
    logic signed [DW-1:0] a, b, c, p;
    /* verilator lint_off UNUSEDSIGNAL */
    s64_t va, vb, vc, v, m;
    /* verilator lint_on UNUSEDSIGNAL */
    assign a = rd[0][l*DW+:DW];
    assign b = rd[1][l*DW+:DW];
    assign c = rd[2][l*DW+:DW];
    pwl_act #(.DW(DW), .BA(BA), .N(N), .NT(NT), .INIT(PWL_INIT)) u_pwl (
        .z(a), .tsel(ir.tsel), .seg(ir.seg), .rl(ir.rl), .sh(ir.sh), .y(p)
    );
    always_comb begin
      va = 64'(a);
      vb = ir.zb ? 64'sd0 : (ir.nb ? -64'(b) : 64'(b));
      vc = ir.zc ? 64'sd0 : 64'(c);
      m = '0;
      case (ir.alu)
        ALU_ADD: v = sat(va + vb + vc, 32'(ir.bits));
        ALU_MUL: v = sat(shr_round(va * vb, 32'(ir.sh)), 32'(ir.bits));
        ALU_REQ: v = sat(shr_round(va, 32'(ir.sh)), 32'(ir.bits));
        ALU_PWL: v = 64'(p);
        ALU_MODRELU: begin
          m = (va < 0 ? -va : va) + vb;
          if (m < 0) m = '0;
          v = sat(shr_round(va < 0 ? -m : (va == 0 ? 64'sd0 : m), 32'(ir.sh)), 32'(ir.bits));
        end
        default: v = '0;
      endcase
      res[l*DW+:DW] = DW'(v);
    end
  end

  assign we = vld;
  assign waddr = db + AW'(wcnt);
  assign wdata = res;
endmodule
