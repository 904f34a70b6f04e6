// Inverse FFT of a conjugate-symmetric spectrum given by bins 0..B/2 (WP bits per component) -> B real outputs
// y = requant(Re, log2(B) + G, out_bits) (docs/arithmetic.md section 5; G guard bits, the log2(B) is the 1/B).
module ifft_real #(
    parameter int B = 8,
    parameter int WP = 24,
    parameter int G = 4,
    parameter int BZ = 16,
    parameter int PIPE = 1,  // fft_dit's PIPE; 2 also pipelines the output requant (3 more cycles)
    localparam int NB = B / 2 + 1
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 in_valid,
    input  logic [5:0]           out_bits,  // saturation width of y (<= BZ); PIPE 2: held a cycle ahead
    input  logic [NB*WP-1:0]     in_re,  // bin k at bits [k*WP +: WP]
    input  logic [NB*WP-1:0]     in_im,
    output logic                 out_valid,
    output logic [B*BZ-1:0]      out_y   // element i at bits [i*BZ +: BZ]
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (B < 1 || (B & (B - 1)) != 0 || B < 2) begin : g_param_check0
    $error("ifft_real: B must be a power of two >= 2 (got %0d)", B);
  end
  localparam int M = $clog2(B);
  localparam int WC = WP + M + 2;
  logic signed [WC-1:0] xr [B];
  logic signed [WC-1:0] xi [B];
  logic signed [WC-1:0] yr [B];
  logic signed [WC-1:0] yi [B];

  always_comb begin
    for (int k = 0; k < NB; k++) begin
      xr[k] = WC'($signed(in_re[k*WP+:WP]));
      xi[k] = WC'($signed(in_im[k*WP+:WP]));
    end
    for (int k = NB; k < B; k++) begin
      xr[k] = WC'($signed(in_re[(B-k)*WP+:WP]));
      xi[k] = -WC'($signed(in_im[(B-k)*WP+:WP]));
    end
  end

  logic fv;
  fft_dit #(.B(B), .W(WC), .INVERSE(1), .PIPE(PIPE)) u_ifft (
      .clk, .rst, .in_valid, .in_re(xr), .in_im(xi), .out_valid(fv), .out_re(yr), .out_im(yi)
  );

  localparam int RQ = PIPE == 2 ? 2 : 0;  // requant pipeline stages
  logic [B*BZ-1:0] y;
  for (genvar i = 0; i < B; i++) begin : g_requant
    logic [5:0] bits_c;  // PIPE 2: each requant's own registered copy of out_bits (keep; see mv_unit)
    if (PIPE == 2) begin : g_copy
      (* keep *) always_ff @(posedge clk) bits_c <= out_bits;
    end else begin : g_wire
      assign bits_c = out_bits;
    end
    fxp_requant #(.IW(WC), .OW(BZ), .SHL(0), .PIPE(RQ)) u_requant (
        .clk, .x(yr[i]), .sh(8'(M + G)), .bits(bits_c), .y(y[i*BZ+:BZ])
    );
  end
  if (PIPE == 2) begin : g_oreg
    logic [2:0] vs;
    always_ff @(posedge clk) begin
      if (rst) vs <= '0;
      else vs <= {vs[1:0], fv};
      out_y <= y;
    end
    assign out_valid = vs[2];
  end else begin : g_comb
    assign out_y = y;
    assign out_valid = fv;
  end

  logic unused;
  always_comb begin
    unused = 1'b0;
    for (int i = 0; i < B; i++) unused ^= ^yi[i];
  end
endmodule
