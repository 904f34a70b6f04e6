// Forward FFT of a real block of B samples (WI bits) -> bins 0..B/2 (WO = WI + log2(B) + 1 bits per component).
// docs/arithmetic.md section 5: imaginary inputs are 0, no per-stage scaling.
module fft_real #(
    parameter int B = 8,
    parameter int WI = 16,
    parameter int PIPE = 1,  // fft_dit's PIPE (0, 1, 2)
    localparam int WO = WI + $clog2(B) + 1,
    localparam int NB = B / 2 + 1
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 in_valid,
    input  logic [B*WI-1:0]      in_x,    // element i at bits [i*WI +: WI]
    output logic                 out_valid,
    output logic [NB*WO-1:0]     out_re,  // bin k at bits [k*WO +: WO]
    output logic [NB*WO-1:0]     out_im
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (B < 1 || (B & (B - 1)) != 0 || B < 2) begin : g_param_check0
    $error("fft_real: B must be a power of two >= 2 (got %0d)", B);
  end
  localparam int WC = WO + 1;  // one spare bit inside the butterflies
  logic signed [WC-1:0] xr [B];
  logic signed [WC-1:0] xi [B];
  logic signed [WC-1:0] yr [B];
  logic signed [WC-1:0] yi [B];

  always_comb begin
    for (int i = 0; i < B; i++) begin
      xr[i] = WC'($signed(in_x[i*WI+:WI]));
      xi[i] = '0;
    end
  end

  fft_dit #(.B(B), .W(WC), .INVERSE(0), .PIPE(PIPE)) u_fft (
      .clk, .rst, .in_valid, .in_re(xr), .in_im(xi), .out_valid, .out_re(yr), .out_im(yi)
  );

  always_comb begin
    for (int k = 0; k < NB; k++) begin
      out_re[k*WO+:WO] = WO'(yr[k]);
      out_im[k*WO+:WO] = WO'(yi[k]);
    end
  end

  // bins above B/2 are the conjugates of the kept ones and are not used
  logic unused;
  always_comb begin
    unused = 1'b0;
    for (int k = NB; k < B; k++) unused ^= ^{yr[k], yi[k]};
    for (int k = 0; k < NB; k++) unused ^= yr[k][WC-1] ^ yi[k][WC-1];
  end
endmodule
