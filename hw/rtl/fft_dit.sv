// Radix-2 decimation-in-time FFT of size B on complex W-bit samples (docs/arithmetic.md section 5).
// Input in natural order (bit reversal is done here); each stage rounds the twiddle product with
// shr_round(., 16) and adds/subtracts without scaling.  INVERSE=1 uses conjugate twiddles.
// One block per cycle; PIPE=1 puts a register after every stage (latency log2(B)), PIPE=0 is combinational,
// PIPE=2 builds every stage from pipelined butterflies (fft_bfly, latency 6 per stage) for ECP5 timing.
module fft_dit #(
    parameter int B = 8,
    parameter int W = 24,
    parameter bit INVERSE = 0,
    parameter int PIPE = 1
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 in_valid,
    input  logic signed [W-1:0]  in_re [B],
    input  logic signed [W-1:0]  in_im [B],
    output logic                 out_valid,
    output logic signed [W-1:0]  out_re [B],
    output logic signed [W-1:0]  out_im [B]
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (B < 1 || (B & (B - 1)) != 0 || B < 2) begin : g_param_check0
    $error("fft_dit: B must be a power of two >= 2 (got %0d)", B);
  end
  if (PIPE < 0 || PIPE > 2) begin : g_param_check1
    $error("fft_dit: PIPE must be 0, 1 or 2 (got %0d)", PIPE);
  end
  import fxp_pkg::*;
  localparam int M = $clog2(B);

  // FFT twiddles W_k = exp(-2 pi i k / 16), k = 0..7, as (18, 16) fixed point, floor(x * 2^16 + 0.5).
  // A size-b FFT uses entry k * (16 / b).  Checked against compress.fixedpoint by tests/test_rtl_fft.py.
  localparam int TW_FRAC = 16;
  localparam int TW_N = 16;
  localparam int TW_RE[TW_N/2] = '{65536, 60547, 46341, 25080, 0, -25080, -46341, -60547};
  localparam int TW_IM[TW_N/2] = '{0, -25080, -46341, -60547, -65536, -60547, -46341, -25080};

  function automatic int bitrev(input int v, input int m);
    int r;
    r = 0;
    for (int i = 0; i < m; i++) if (v[i]) r |= 1 << (m - 1 - i);
    return r;
  endfunction

  logic signed [W-1:0] rev_re [B];
  logic signed [W-1:0] rev_im [B];
  always_comb begin
    for (int i = 0; i < B; i++) begin
      rev_re[i] = in_re[bitrev(i, M)];
      rev_im[i] = in_im[bitrev(i, M)];
    end
  end

  for (genvar s = 1; s <= M; s++) begin : g_stage
    localparam int HALF = 1 << (s - 1);
    logic signed [W-1:0] pre [B];  // stage input
    logic signed [W-1:0] pim [B];
    logic                pv;
    logic signed [W-1:0] qre [B];  // stage output (registered when PIPE)
    logic signed [W-1:0] qim [B];
    logic                qv;
    if (s == 1) begin : g_first
      assign pre = rev_re;
      assign pim = rev_im;
      assign pv = in_valid;
    end else begin : g_next
      assign pre = g_stage[s-1].qre;
      assign pim = g_stage[s-1].qim;
      assign pv = g_stage[s-1].qv;
    end
    if (PIPE == 2) begin : g_deep
      for (genvar g = 0; g < B; g += 2 * HALF) begin : g_grp
        for (genvar k = 0; k < HALF; k++) begin : g_bf
          localparam int TI = k * (TW_N / (2 * HALF));
          fft_bfly #(.W(W), .WR(TW_RE[TI]), .WI(INVERSE ? -TW_IM[TI] : TW_IM[TI])) u_bf (
              .clk, .ar(pre[g+k]), .ai(pim[g+k]), .br(pre[g+k+HALF]), .bi(pim[g+k+HALF]),
              .xr(qre[g+k]), .xi(qim[g+k]), .yr(qre[g+k+HALF]), .yi(qim[g+k+HALF])
          );
        end
      end
      logic [5:0] vs;
      always_ff @(posedge clk) begin
        if (rst) vs <= '0;
        else vs <= {vs[4:0], pv};
      end
      assign qv = vs[5];
    end else begin : g_flat
      logic signed [W-1:0] nre [B];  // butterfly outputs
      logic signed [W-1:0] nim [B];
      always_comb begin
        for (int g = 0; g < B; g += 2 * HALF) begin
          for (int k = 0; k < HALF; k++) begin
            s64_t ar, ai, br, bi, wr, wi, tr, ti;
            ar = 64'(pre[g+k]);
            ai = 64'(pim[g+k]);
            br = 64'(pre[g+k+HALF]);
            bi = 64'(pim[g+k+HALF]);
            wr = 64'(TW_RE[k * (TW_N / (2 * HALF))]);
            wi = 64'(TW_IM[k * (TW_N / (2 * HALF))]);
            if (INVERSE) wi = -wi;
            // Same integers as shr_round(wr*br - wi*bi, 16) and shr_round(wr*bi + wi*br, 16) in every case,
            // with fewer multipliers: W = 1 and W = -/+j are exact (|w| = 2^16), and |wr| = |wi| shares one
            // product per component (integer identities, so bit-exact; the twiddle index is an elaboration-time
            // constant, so each butterfly keeps only its own branch).
            if (k == 0) begin
              tr = br;
              ti = bi;
            end else if (2 * k == HALF) begin  // W = -j (forward) or +j (inverse): wr = 0, wi = -/+2^16
              tr = INVERSE ? -bi : bi;
              ti = INVERSE ? br : -br;
            end else if (wr == wi) begin
              tr = shr_round(wr * (br - bi), TW_FRAC);
              ti = shr_round(wr * (bi + br), TW_FRAC);
            end else if (wr == -wi) begin
              tr = shr_round(wr * (br + bi), TW_FRAC);
              ti = shr_round(wr * (bi - br), TW_FRAC);
            end else begin
              tr = shr_round(wr * br - wi * bi, TW_FRAC);
              ti = shr_round(wr * bi + wi * br, TW_FRAC);
            end
            nre[g+k] = W'(ar + tr);
            nim[g+k] = W'(ai + ti);
            nre[g+k+HALF] = W'(ar - tr);
            nim[g+k+HALF] = W'(ai - ti);
          end
        end
      end
      if (PIPE == 1) begin : g_reg
        always_ff @(posedge clk) begin
          if (rst) qv <= 1'b0;
          else qv <= pv;
          qre <= nre;
          qim <= nim;
        end
      end else begin : g_comb
        assign qv = pv;
        assign qre = nre;
        assign qim = nim;
      end
    end
  end

  assign out_valid = g_stage[M].qv;
  assign out_re = g_stage[M].qre;
  assign out_im = g_stage[M].qim;
endmodule
