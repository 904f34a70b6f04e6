// PWL sigmoid/tanh of docs/arithmetic.md section 6 for one lane: segment lookup, then interpolation.
// PIPE=0: combinational; PIPE=1: the lookup (c0, c1, d) is registered when en is high (latency 1).
// Tables: NT tables of N segments, entry {c1 (BA+2 bits), c0 (BA bits)} at index tsel*N + k, from INIT.
// Per call: rl = log2(R * 2^Fz) (the clamp bound), seg = s (segment shift), sh = Fs + Fz - Fa.
// Datapath widths are the exact ones under the call invariants the program compiler checks
// (hw/rtl/program.py, docs/rtl.md): 0 <= rl <= RLMAX = DW + 6, seg = rl + 1 - log2(N) >= 0,
// 0 <= sh <= PRW - 1.  Then u < 2^(RLMAX+1), k < N, d < 2^(RLMAX+1-log2 N), and no intermediate below overflows
// its width, so the result equals the 64-bit contract formula.
module pwl_act #(
    parameter int DW = 20,
    parameter int BA = 16,
    parameter int N = 32,
    parameter int NT = 4,
    parameter string INIT = "",
    parameter bit PIPE = 0,
    localparam int KW = $clog2(N),
    localparam int RLMAX = DW + 6,  // largest clamp exponent (z formats with up to 6 more fraction bits than DW)
    localparam int UW = RLMAX + 2,  // u in [0, 2^(RLMAX+1)), signed container
    localparam int DDW = RLMAX + 1 - KW,  // d < 2^seg <= 2^(RLMAX+1-KW)
    localparam int PRW = BA + 2 + DDW + 1  // c1 * d (signed BA+2 by unsigned DDW) plus the rounding carry
) (
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic                 clk,  // PIPE=1 only
    input  logic                 en,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic signed [DW-1:0] z,
    input  logic [3:0]           tsel,
    input  logic [4:0]           seg,
    input  logic signed [5:0]    rl,
    input  logic signed [7:0]    sh,
    output logic signed [DW-1:0] y
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (N != 8 && N != 16 && N != 32 && N != 64) begin : g_param_check0
    $error("pwl_act: N must be 8, 16, 32 or 64 (got %0d)", N);
  end
  if (NT < 1 || BA + 2 > DW) begin : g_param_check1
    $error("pwl_act: NT >= 1 and BA + 2 <= DW (NT %0d)", NT);
  end
  localparam int EW = 2 * BA + 2;
  logic [EW-1:0] tab [NT*N];
  initial begin
    if (INIT != "") $readmemh(INIT, tab);
  end

  logic signed [UW-1:0] rz, zc, u;
  logic [KW-1:0] k;
  logic [EW-1:0] e;
  logic [DDW-1:0] dn, d;
  logic signed [BA+1:0] c1n, c1;
  logic signed [BA-1:0] c0n, c0;
  logic signed [PRW-1:0] prod, h, t;
  logic signed [PRW:0] v;
  always_comb begin
    rz = UW'(1) << rl;  // a shift amount is unsigned; rl >= 0
    zc = UW'(z);
    if (zc < -rz) zc = -rz;
    if (zc > rz - 1) zc = rz - 1;
    u = zc + rz;
    /* verilator lint_off WIDTHTRUNC */
    k = KW'(u >> seg);
    dn = DDW'(u & ((UW'(1) << seg) - UW'(1)));
    /* verilator lint_on WIDTHTRUNC */
    e = tab[32'(tsel) * N + 32'(k)];
    c0n = $signed(e[BA-1:0]);
    c1n = $signed(e[EW-1:BA]);
  end
  if (PIPE) begin : g_pipe
    always_ff @(posedge clk) begin
      if (en) begin
        c0 <= c0n;
        c1 <= c1n;
        d <= dn;
      end
    end
  end else begin : g_comb
    assign c0 = c0n;
    assign c1 = c1n;
    assign d = dn;
  end
  // The rounding shift and the clamp to BA bits are written out here rather than through fxp_requant: routing
  // the product through two generic fxp_requant instances lengthened this, the core's critical path, and the
  // default model failed 25 MHz on ECP5 (24.5 MHz instead of 25.6).
  always_comb begin
    prod = PRW'(c1) * $signed({1'b0, d});
    // shr_round(prod, sh) = ((prod >>> (sh - 1)) + 1) >>> 1 for sh >= 1 (one shifter, no rounding constant)
    h = prod >>> (sh == 0 ? 7'd0 : sh[6:0] - 7'd1);
    t = sh == 0 ? h : (h + PRW'(1)) >>> 1;
    v = (PRW + 1)'(c0) + (PRW + 1)'(t);
    if (v > (PRW + 1)'((1 << (BA - 1)) - 1)) y = DW'((1 << (BA - 1)) - 1);
    else if (v < -(PRW + 1)'(1 << (BA - 1))) y = DW'(-(1 << (BA - 1)));
    else y = DW'(v);
  end
endmodule
