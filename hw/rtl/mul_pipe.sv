// Pipelined signed multiplier y = a * b (exact, AW + BW bits), latency 3, free running (no enable).
// Built for the ECP5 MULT18X18D: the operands are registered next to the multipliers (stage 1: the
// source may fan out to many of them), b is cut into 17-bit unsigned chunks and a signed top chunk, and
// a into the same when it is wider than 18 bits; each chunk product is registered (stage 2) and the
// shifted chunk products are summed into a register (stage 3).  Chunk pairs where one chunk has at most
// SMALL bits are shift-and-add in LUTs rather than a multiplier block.  a * b = sum_ij a_i b_j 2^(17(i+j)):
// an integer identity, so the result equals the contract's product for every input.
module mul_pipe #(
    parameter int AW = 18,
    parameter int BW = 18,
    parameter int SMALL = 4,
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

  function automatic int chunk_w(input int w, input int n, input int i);
    return i < n - 1 ? C + 1 : w - C * (n - 1);  // low chunks: C bits + a 0 sign bit
  endfunction

  logic signed [AW-1:0] aq;
  logic signed [BW-1:0] bq;
  always_ff @(posedge clk) begin
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
      end else begin : g_mult
        assign prod = ca * cb;
      end
      always_ff @(posedge clk) pp[i][j] <= YW'(prod) <<< (C * (i + j));
    end
  end

  always_ff @(posedge clk) begin
    logic signed [YW-1:0] s;
    s = '0;
    for (int i = 0; i < NA; i++) for (int j = 0; j < NBC; j++) s += pp[i][j];
    y <= s;
  end
endmodule
