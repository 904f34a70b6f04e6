// PWL sigmoid/tanh of docs/arithmetic.md section 6 for one lane: segment lookup, then interpolation.
// PIPE=0: combinational.  PIPE=1: a free-running pipeline of LAT = 12 stages for 100+ MHz on ECP5
// (z register | clamp and offset | segment shift | table read | table output register | product (3, mul_pipe) | rounding
// shift (2) | add c0 | saturate; the output register: the block RAM's clock-to-output, 5.8 ns, and the route to
// the multiplier's input register were the routed critical path, 12.7 ns); tsel, seg, rl and sh are taken one cycle before their z and carried along with it, so
// every z may have its own call (consecutive instructions overlap in the element-wise unit).
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
  localparam int TAW = $clog2(NT * N);
  logic [EW-1:0] tab [NT*N];
  initial begin
    if (INIT != "") $readmemh(INIT, tab);
  end
  localparam logic signed [PRW:0] YMAX = (PRW + 1)'((1 << (BA - 1)) - 1);
  localparam logic signed [PRW:0] YMIN = -(PRW + 1)'(1 << (BA - 1));

  function automatic logic [TAW-1:0] tab_addr(input logic [3:0] ts, input logic [KW-1:0] kk);
    return TAW'(32'(ts) * N + 32'(kk));
  endfunction
  function automatic logic signed [DW-1:0] sat_ba(input logic signed [PRW:0] v);
    if (v > YMAX) return DW'(YMAX);
    if (v < YMIN) return DW'(YMIN);
    return DW'(v);
  endfunction

  if (PIPE) begin : g_pipe
    // per-call constants, registered from the fields given one cycle before z, then carried with it
    logic [UW-1:0] rz, rz1;
    logic [UW-1:0] rzt, rzt1;
    logic [UW-1:0] hm, hm1;
    logic [4:0] sg, sg1, sg2;
    logic [UW-1:0] msk, msk1, msk2;
    // packed: yosys infers an unpacked array as a memory, and the memory's flip-flops lose the keep, so the
    // lanes' identical copies merged into one register driving every lane's shifter across the chip (the
    // routed critical path, 7.7 ns of route from one lane's shm1 to another's h8)
    logic [9:0][6:0] shm1;
    logic [10:0] sh0;
    logic [3:0][3:0] ts;
    (* keep *) always_ff @(posedge clk) begin  // keep: one copy per lane (see fxp_requant)
      rz <= UW'(1) << rl;
      rzt <= (UW'(2) << rl) - UW'(1);  // the clamp's top, 2 rz - 1
      hm <= ~((UW'(1) << rl) - UW'(1));  // the bits of z at and above rl
      sg <= seg;
      msk <= (UW'(1) << seg) - UW'(1);
      shm1[0] <= sh == 0 ? 7'd0 : sh[6:0] - 7'd1;
      sh0[0] <= sh == 0;
      ts[0] <= tsel;
      rz1 <= rz;
      rzt1 <= rzt;
      hm1 <= hm;
      sg1 <= sg;
      sg2 <= sg1;
      msk1 <= msk;
      msk2 <= msk1;
      for (int i = 1; i < 10; i++) shm1[i] <= shm1[i-1];
      for (int i = 1; i < 11; i++) sh0[i] <= sh0[i-1];
      for (int i = 1; i < 4; i++) ts[i] <= ts[i-1];
    end
    logic signed [UW-1:0] z1, u2;
    logic lo1, hi1;
    assign lo1 = z1[UW-1] && (UW'(z1) & hm1) != hm1;  // z < -rz: a negative z with a 0 at or above rl
    assign hi1 = !z1[UW-1] && (UW'(z1) & hm1) != '0;  // z >= rz: a non-negative z with a 1 at or above rl
    logic [KW-1:0] k3;
    logic [DDW-1:0] d3, d4, d5;
    logic [EW-1:0] e4, e5;
    // 1: z registered in the lane (the operand's route from the memory ends here); its own register (keep):
    // yosys merged it with the element-wise multiplier's operand register, the MULT18X18D's input register,
    // and the clamp then read it across the chip from the DSP column (10.17 ns)
    (* keep *) always_ff @(posedge clk) z1 <= UW'(z);
    always_ff @(posedge clk) begin
      // 2: clamp and offset: u = clamp(z, -rz, rz - 1) + rz, no adder: both bounds are mask tests of z's
      // bits at and above rl, and inside them z + 2^rl = (z mod 2^(rl+1)) with bit rl flipped (the
      // z + rz carry chain and the compare behind it were the routed critical path, 10.8 ns)
      u2 <= lo1 ? '0 : hi1 ? $signed(rzt1) : $signed((UW'(z1) & rzt1) ^ rz1);
      /* verilator lint_off WIDTHTRUNC */
      k3 <= KW'(u2 >> sg2);  // 3: segment
      d3 <= DDW'(u2 & msk2);
      /* verilator lint_on WIDTHTRUNC */
      e4 <= tab[tab_addr(ts[3], k3)];  // 4: table (block RAM read register)
      d4 <= d3;
      e5 <= e4;  // 5: table output register
      d5 <= d4;
    end
    logic signed [BA+1:0] c1;
    logic signed [BA+DDW+2:0] prod;  // 7-8: c1 * d
    assign c1 = $signed(e5[EW-1:BA]);
    mul_pipe #(.AW(BA + 2), .BW(DDW + 1)) u_mul (.clk, .a(c1), .b($signed({1'b0, d5})), .y(prod));  // 6-8
    logic signed [BA-1:0] c0_6, c0_7, c0_8, c0_9, c0_10;
    logic signed [PRW-1:0] h9, h10;
    logic signed [PRW:0] v11;
    always_ff @(posedge clk) begin
      c0_6 <= $signed(e5[BA-1:0]);
      c0_7 <= c0_6;
      c0_8 <= c0_7;
      // 9-10: rounding shift h = prod >>> (sh - 1), by its multiple of 8, then by its low 3 bits (exact: floor
      // of a floor; one 7-bit barrel shifter in one stage, from shm1, was the LSTM and LSTM+peepholes bench
      // cores' routed critical path after session 15's requant changes, 9.15 / 9.59 ns)
      h9 <= PRW'(prod) >>> {shm1[8][6:3], 3'b000};
      h10 <= h9 >>> shm1[9][2:0];
      c0_9 <= c0_8;
      c0_10 <= c0_9;
      // 11: shr_round(prod, sh) + c0 = (h + 1 + 2 c0) >>> 1 for sh >= 1 (2 c0 is even), h + c0 for sh = 0
      v11 <= sh0[10] ? (PRW + 1)'(h10) + (PRW + 1)'(c0_10) : ((PRW + 1)'(h10) + (PRW + 1)'($signed({c0_10, 1'b1}))) >>> 1;
      y <= sat_ba(v11);  // 12: saturate to BA bits
    end
  end else begin : g_comb
    logic signed [UW-1:0] rz, zc, u;
    logic [KW-1:0] k;
    logic [EW-1:0] e;
    logic [DDW-1:0] d;
    logic signed [BA+1:0] c1;
    logic signed [BA-1:0] c0;
    logic signed [PRW-1:0] prod, h, t;
    always_comb begin
      rz = UW'(1) << rl;  // a shift amount is unsigned; rl >= 0
      zc = UW'(z);
      if (zc < -rz) zc = -rz;
      if (zc > rz - 1) zc = rz - 1;
      u = zc + rz;
      /* verilator lint_off WIDTHTRUNC */
      k = KW'(u >> seg);
      d = DDW'(u & ((UW'(1) << seg) - UW'(1)));
      /* verilator lint_on WIDTHTRUNC */
      e = tab[tab_addr(tsel, k)];
      c0 = $signed(e[BA-1:0]);
      c1 = $signed(e[EW-1:BA]);
      prod = PRW'(c1) * $signed({1'b0, d});
      // shr_round(prod, sh) = ((prod >>> (sh - 1)) + 1) >>> 1 for sh >= 1 (one shifter, no rounding constant)
      h = prod >>> (sh == 0 ? 7'd0 : sh[6:0] - 7'd1);
      t = sh == 0 ? h : (h + PRW'(1)) >>> 1;
      y = sat_ba((PRW + 1)'(c0) + (PRW + 1)'(t));
    end
  end
endmodule
