// Pipelined signed multiplier y = a * b (exact, AW + BW bits), latency 3, free running (no enable).
// Built for the ECP5 MULT18X18D: the operands are registered next to the multipliers (stage 1: the
// source may fan out to many of them), b is cut into 17-bit unsigned chunks and a signed top chunk, and
// a into the same when it is wider than 18 bits; each chunk product is registered (stage 2) and the
// shifted chunk products are summed into a register (stage 3).  Chunk pairs where one chunk has at most
// SMALL bits are shift-and-add in LUTs rather than a multiplier block.  a * b = sum_ij a_i b_j 2^(17(i+j)):
// an integer identity, so the result equals the contract's product for every input.
// OUTREG 0 (one chunk each, AW and BW <= 18 only): no stage 3, y is the chunk product register, latency 2;
// the instance's user registers its own sum of several products there instead (mv_unit's row sums).
module mul_pipe #(
    parameter int AW = 18,
    parameter int BW = 18,
    parameter int SMALL = 4,
    parameter bit OUTREG = 1,
    localparam int YW = AW + BW
) (
    input  logic                 clk,
    input  logic signed [AW-1:0] a,
    input  logic signed [BW-1:0] b,
    output logic signed [YW-1:0] y
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (AW < 2 || BW < 2 || AW > 72 || BW > 72 || SMALL > 4) begin : g_param_check0
    $error("mul_pipe: widths 2..72, SMALL <= 4 (AW %0d, BW %0d)", AW, BW);
  end
  localparam int C = 17;  // unsigned chunk bits (an 18-bit signed multiplier input with a 0 sign bit)
  localparam int NA = AW <= C + 1 ? 1 : (AW - 2) / C + 1;  // chunks of a (the top one signed)
  localparam int NBC = BW <= C + 1 ? 1 : (BW - 2) / C + 1;
  if (!OUTREG && (NA != 1 || NBC != 1)) begin : g_param_check1
    $error("mul_pipe: OUTREG 0 needs one chunk per operand (AW, BW <= %0d; AW %0d, BW %0d)", C + 1, AW, BW);
  end

  function automatic int chunk_w(input int w, input int n, input int i);
    return i < n - 1 ? C + 1 : w - C * (n - 1);  // low chunks: C bits + a 0 sign bit
  endfunction

  logic signed [AW-1:0] aq;
  logic signed [BW-1:0] bq;
  (* keep *) always_ff @(posedge clk) begin  // keep: the operand copy next to this multiplier (not merged)
    aq <= a;
    bq <= b;
  end
  logic signed [YW-1:0] pp [NA][NBC];
  for (genvar i = 0; i < NA; i++) begin : g_a
    localparam int WA = chunk_w(AW, NA, i);
    logic signed [WA-1:0] ca;
    if (i < NA - 1) begin : g_lo
      assign ca = $signed({1'b0, aq[i*C+:C]});
    end else begin : g_hi
      assign ca = aq[AW-1:i*C];
    end
    for (genvar j = 0; j < NBC; j++) begin : g_b
      localparam int WB = chunk_w(BW, NBC, j);
      logic signed [WB-1:0] cb;
      logic signed [WA+WB-1:0] prod;
      if (j < NBC - 1) begin : g_lo
        assign cb = $signed({1'b0, bq[j*C+:C]});
      end else begin : g_hi
        assign cb = bq[BW-1:j*C];
      end
      if (WB <= SMALL || WA <= SMALL) begin : g_shift_add
        // the narrow operand's bits select shifted copies of the wide one (its sign bit weighs -2^(w-1)),
        // summed as a two-level tree (at most SMALL <= 4 terms)
        localparam int NW = WB <= WA ? WB : WA;
        logic signed [WA+WB-1:0] term [4];
        always_comb begin
          for (int k = 0; k < 4; k++) begin
            term[k] = '0;
            if (k < NW) begin
              if (WB <= WA) term[k] = cb[k] ? (WA + WB)'(ca) <<< k : '0;
              else term[k] = ca[k] ? (WA + WB)'(cb) <<< k : '0;
              if (k == NW - 1) term[k] = -term[k];
            end
          end
          prod = (term[0] + term[1]) + (term[2] + term[3]);
        end
        always_ff @(posedge clk) pp[i][j] <= YW'(prod) <<< (C * (i + j));
      end else begin : g_mult
`ifdef ECP5_MULT18
        // ECP5 synthesis: one MULT18X18D with its input and output registers (the same two cycles as the
        // operand and chunk-product registers of the generic code below), timed as registered by nextpnr
        logic signed [17:0] da, db;
        logic [35:0] dp;
        if (i < NA - 1) begin : g_da_lo
          assign da = $signed({1'b0, a[i*C+:C]});
        end else begin : g_da_hi
          assign da = 18'(a[AW-1:i*C]);
        end
        if (j < NBC - 1) begin : g_db_lo
          assign db = $signed({1'b0, b[j*C+:C]});
        end else begin : g_db_hi
          assign db = 18'(b[BW-1:j*C]);
        end
        MULT18X18D #(.REG_INPUTA_CLK("CLK0"), .REG_INPUTB_CLK("CLK0"), .REG_OUTPUT_CLK("CLK0")) u_dsp (
            .A0(da[0]), .A1(da[1]), .A2(da[2]), .A3(da[3]), .A4(da[4]), .A5(da[5]), .A6(da[6]), .A7(da[7]),
            .A8(da[8]), .A9(da[9]), .A10(da[10]), .A11(da[11]), .A12(da[12]), .A13(da[13]), .A14(da[14]),
            .A15(da[15]), .A16(da[16]), .A17(da[17]),
            .B0(db[0]), .B1(db[1]), .B2(db[2]), .B3(db[3]), .B4(db[4]), .B5(db[5]), .B6(db[6]), .B7(db[7]),
            .B8(db[8]), .B9(db[9]), .B10(db[10]), .B11(db[11]), .B12(db[12]), .B13(db[13]), .B14(db[14]),
            .B15(db[15]), .B16(db[16]), .B17(db[17]),
            .SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0), .CLK0(clk), .CE0(1'b1), .RST0(1'b0),
            .P0(dp[0]), .P1(dp[1]), .P2(dp[2]), .P3(dp[3]), .P4(dp[4]), .P5(dp[5]), .P6(dp[6]), .P7(dp[7]),
            .P8(dp[8]), .P9(dp[9]), .P10(dp[10]), .P11(dp[11]), .P12(dp[12]), .P13(dp[13]), .P14(dp[14]),
            .P15(dp[15]), .P16(dp[16]), .P17(dp[17]), .P18(dp[18]), .P19(dp[19]), .P20(dp[20]), .P21(dp[21]),
            .P22(dp[22]), .P23(dp[23]), .P24(dp[24]), .P25(dp[25]), .P26(dp[26]), .P27(dp[27]), .P28(dp[28]),
            .P29(dp[29]), .P30(dp[30]), .P31(dp[31]), .P32(dp[32]), .P33(dp[33]), .P34(dp[34]), .P35(dp[35])
        );
        assign prod = (WA + WB)'($signed(dp));
        assign pp[i][j] = YW'(prod) <<< (C * (i + j));
`else
        assign prod = ca * cb;
        always_ff @(posedge clk) pp[i][j] <= YW'(prod) <<< (C * (i + j));
`endif
      end
    end
  end

  if (OUTREG) begin : g_out
    always_ff @(posedge clk) begin
      logic signed [YW-1:0] s;
      s = '0;
      for (int i = 0; i < NA; i++) for (int j = 0; j < NBC; j++) s += pp[i][j];
      y <= s;
    end
  end else begin : g_noout
    assign y = pp[0][0];
  end
endmodule
