// One radix-2 DIT butterfly with a constant twiddle (wr, wi in (18, 16) fixed point), pipelined for ECP5:
// a' = a + t, b' = a - t, t = (shr_round(wr br - wi bi, 16), shr_round(wr bi + wi br, 16)).
// Latency LAT = 6, free running: 1 pre-add | 2-4 products (mul_pipe) | 5 sum and rounding | 6 butterfly.
// The same integers as fft_dit's combinational butterfly in every case: W = 1 and W = -/+j are exact
// (|w| = 2^16), |wr| = |wi| shares one product per component (integer identities).
module fft_bfly #(
    parameter int W = 24,
    parameter int WR = 65536,
    parameter int WI = 0
) (
    input  logic                clk,
    input  logic signed [W-1:0] ar,
    input  logic signed [W-1:0] ai,
    input  logic signed [W-1:0] br,
    input  logic signed [W-1:0] bi,
    output logic signed [W-1:0] xr,  // a + t
    output logic signed [W-1:0] xi,
    output logic signed [W-1:0] yr,  // a - t
    output logic signed [W-1:0] yi
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (WR > 65536 || WR < -65536 || WI > 65536 || WI < -65536 || W < 2) begin : g_param_check0
    $error("fft_bfly: |WR|, |WI| <= 2^16 and W >= 2 (WR %0d, WI %0d)", WR, WI);
  end
  localparam int KIND = WI == 0 && WR == 65536 ? 0 :  // W = 1
  WR == 0 && (WI == 65536 || WI == -65536) ? 1 :  // W = -/+j
  WR == WI ? 2 : WR == -WI ? 3 : 4;
  localparam int PW = W + 1 + 18;  // product of an 18-bit twiddle and a W + 1-bit operand
  logic signed [W-1:0] ar1, ai1, ar2, ai2, ar3, ai3, ar4, ai4, ar5, ai5;
  logic signed [W:0] u1, v1;  // 1: operands of the products (pre-added when |wr| = |wi|)
  logic signed [W-1:0] tr5, ti5;
  always_ff @(posedge clk) begin
    ar1 <= ar;
    ai1 <= ai;
    ar2 <= ar1;
    ai2 <= ai1;
    ar3 <= ar2;
    ai3 <= ai2;
    ar4 <= ar3;
    ai4 <= ai3;
    ar5 <= ar4;
    ai5 <= ai4;
    case (KIND)
      2: begin  // wr (br - bi), wr (bi + br)
        u1 <= (W + 1)'(br) - (W + 1)'(bi);
        v1 <= (W + 1)'(bi) + (W + 1)'(br);
      end
      3: begin  // wr (br + bi), wr (bi - br)
        u1 <= (W + 1)'(br) + (W + 1)'(bi);
        v1 <= (W + 1)'(bi) - (W + 1)'(br);
      end
      default: begin
        u1 <= (W + 1)'(br);
        v1 <= (W + 1)'(bi);
      end
    endcase
  end
  if (KIND == 0 || KIND == 1) begin : g_exact
    logic signed [W-1:0] u2, v2, u3, v3, u4, v4;
    logic unused_top;
    assign unused_top = u1[W] ^ v1[W];
    always_ff @(posedge clk) begin
      u2 <= W'(u1);
      v2 <= W'(v1);
      u3 <= u2;
      v3 <= v2;
      u4 <= u3;
      v4 <= v3;
      if (KIND == 0) begin
        tr5 <= u4;
        ti5 <= v4;
      end else begin  // -j (WI < 0): (bi, -br); +j: (-bi, br)
        tr5 <= WI < 0 ? v4 : -v4;
        ti5 <= WI < 0 ? -u4 : u4;
      end
    end
  end else if (KIND == 2 || KIND == 3) begin : g_shared
    logic signed [PW-1:0] pu, pv;
    mul_pipe #(.AW(18), .BW(W + 1)) u_mu (.clk, .a(18'(WR)), .b(u1), .y(pu));
    mul_pipe #(.AW(18), .BW(W + 1)) u_mv (.clk, .a(18'(WR)), .b(v1), .y(pv));
    always_ff @(posedge clk) begin
      tr5 <= W'((pu + PW'(1 << 15)) >>> 16);
      ti5 <= W'((pv + PW'(1 << 15)) >>> 16);
    end
  end else begin : g_general
    logic signed [PW-1:0] prr, pii, pri, pir;
    mul_pipe #(.AW(18), .BW(W + 1)) u_rr (.clk, .a(18'(WR)), .b(u1), .y(prr));
    mul_pipe #(.AW(18), .BW(W + 1)) u_ii (.clk, .a(18'(WI)), .b(v1), .y(pii));
    mul_pipe #(.AW(18), .BW(W + 1)) u_ri (.clk, .a(18'(WR)), .b(v1), .y(pri));
    mul_pipe #(.AW(18), .BW(W + 1)) u_ir (.clk, .a(18'(WI)), .b(u1), .y(pir));
    always_ff @(posedge clk) begin
      tr5 <= W'(((PW + 1)'(prr) - (PW + 1)'(pii) + (PW + 1)'(1 << 15)) >>> 16);
      ti5 <= W'(((PW + 1)'(pri) + (PW + 1)'(pir) + (PW + 1)'(1 << 15)) >>> 16);
    end
  end
  always_ff @(posedge clk) begin
    xr <= ar5 + tr5;
    xi <= ai5 + ti5;
    yr <= ar5 - tr5;
    yi <= ai5 - ti5;
  end
endmodule
