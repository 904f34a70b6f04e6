// PWL sigmoid/tanh of docs/arithmetic.md section 6 for one lane (combinational).
// Tables: NT tables of N segments, entry {c1 (BA+2 bits), c0 (BA bits)} at index tsel*N + k, from INIT.
// Per call: rl = log2(R * 2^Fz) (the clamp bound), seg = s (segment shift), sh = Fs + Fz - Fa.
module pwl_act #(
    parameter int DW = 20,
    parameter int BA = 16,
    parameter int N = 32,
    parameter int NT = 4,
    parameter string INIT = ""
) (
    input  logic signed [DW-1:0] z,
    input  logic [3:0]           tsel,
    input  logic [4:0]           seg,
    input  logic signed [5:0]    rl,
    input  logic signed [7:0]    sh,
    output logic signed [DW-1:0] y
);
  import fxp_pkg::*;
  localparam int EW = 2 * BA + 2;
  logic [EW-1:0] tab [NT*N];
  initial begin
    if (INIT != "") $readmemh(INIT, tab);
  end

  /* verilator lint_off UNUSEDSIGNAL */
  s64_t rz, zc, u, k, d, c0, c1, v;  // 64-bit temporaries
  /* verilator lint_on UNUSEDSIGNAL */
  logic [EW-1:0] e;
  always_comb begin
    rz = 64'sd1 <<< rl;
    zc = 64'(z);
    if (zc < -rz) zc = -rz;
    if (zc > rz - 1) zc = rz - 1;
    u = zc + rz;
    k = u >>> seg;
    d = u - (k <<< seg);
    e = tab[32'(tsel) * N + 32'(k)];
    c0 = 64'($signed(e[BA-1:0]));
    c1 = 64'($signed(e[EW-1:BA]));
    v = sat(c0 + shr_round(c1 * d, 32'(sh)), BA);
    y = DW'(v);
  end
endmodule
