// y = sat(shr_round(x, sh), bits) of docs/arithmetic.md section 1 with a variable shift and output width, in a
// datapath no wider than needed: exact (the same integers as the unbounded formula) for every IW-bit x when
// -SHL <= sh <= 63 and 1 <= bits <= OW (the program compiler checks the instruction fields: hw/rtl/program.py).
// A left shift by L is a right shift of x << SHL by SHL - L (exact: the bits shifted out are zeros); a right
// shift beyond the width of x << SHL gives 0 for every x, so the shift is clamped there.
// PIPE = 0: combinational.  PIPE = 1: x is registered after the shift (latency 1); PIPE = 2: also after the
// rounding add (latency 2); PIPE = 3: the shift in two stages (latency 3).  SAT = 1: y registered after the
// saturation; SAT = 2: the saturation in two stages (its range compares, then the select), y registered.
// Latency PIPE + SAT.  Pipelined, sh and bits are taken one cycle before their x (registered, then carried
// along with it), so every x may have its own; free running.
module fxp_requant #(
    parameter int IW = 40,  // width of x (signed)
    parameter int OW = 20,  // width of y; bits <= OW
    parameter int SHL = 0,  // largest left shift (sh >= -SHL); IW + SHL >= OW
    parameter int PIPE = 0,
    parameter int SAT = 0  // 0..2, SAT > 0 needs PIPE > 0
) (
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic                 clk,  // PIPE > 0 only
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic signed [IW-1:0] x,
    input  logic signed [7:0]    sh,
    input  logic [5:0]           bits,
    output logic signed [OW-1:0] y
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (IW + SHL < OW || OW < 2 || PIPE < 0 || PIPE > 3 || (PIPE == 3 && IW + SHL < 8)) begin : g_param_check0
    $error("fxp_requant: IW + SHL must be at least OW (and 8 at PIPE 3), PIPE 0..3 (IW %0d, PIPE %0d)", IW, PIPE);
  end
  if (SAT < 0 || SAT > 2 || (SAT > 0 && PIPE == 0)) begin : g_param_check1
    $error("fxp_requant: SAT 0..2, and SAT > 0 only with PIPE > 0 (SAT %0d, PIPE %0d)", SAT, PIPE);
  end
  localparam int XW = IW + SHL;  // x << SHL
  localparam int RW = $clog2(XW + 1);
  logic signed [XW-1:0] xs, hq;
  logic signed [XW:0] r, rq;
  // rs (not a signal): the right shift of xs, clamped to XW; rsq: rs - 1 (0 when rs = 0), the shifter's amount
  logic [RW-1:0] rsq;
  logic [OW-1:0] ml, mlq;  // ones at bit positions >= bits - 1 (within OW bits)
  logic rz, rzq;  // rs == 0
  logic big;  // sh + SHL > XW: every bit shifted out
  logic [RW-1:0] rsm;  // rs - 1 when neither clamped nor 0
  // rs = big ? XW : sh + SHL (mod 2^RW) and rsq = rz ? 0 : rs - 1, written with one adder of sh and a constant
  // and compares of sh with constants: rs - 1 after the clamp put two carry chains in series (the elementwise
  // unit's c_sh -> rsq was the GRU core's routed critical path, 10.14 ns)
  always_comb begin
    big = 32'(sh) > XW - SHL;
    rz = !big && RW'(sh) == RW'(-SHL);
    rsm = RW'(32'(sh) + SHL - 1);
    ml = {OW{1'b1}} << (bits - 6'd1);
  end
  if (PIPE == 0) begin : g_comb
    assign rsq = big ? RW'(XW - 1) : (rz ? '0 : rsm);
    assign mlq = ml;
    assign rzq = rz;
  end else begin : g_cfg
    // keep: every instance its own copy (yosys would merge the identical registers of instances that share
    // sh and bits, and one register would then drive every shifter: the routing of that fanout was the
    // critical path on ECP5)
    (* keep *) always_ff @(posedge clk) begin
      rsq <= big ? RW'(XW - 1) : (rz ? '0 : rsm);
      mlq <= ml;
      rzq <= rz;
    end
  end
  // shr_round(xs, rs) = ((xs >>> (rs - 1)) + 1) >>> 1 for rs >= 1: one shifter, no rounding constant
  assign xs = XW'(x) <<< SHL;
  logic rzh;  // rz of the word in hq
  logic [OW-1:0] mlh;  // its mask
  if (PIPE >= 3) begin : g_p3
    // the shift in two stages, by rsq's multiple of 8, then by its low 3 bits (a one-stage barrel shifter of
    // the matrix unit's P' requant, five LUT levels and their routes, was a routed critical path, 10.0 ns)
    logic signed [XW-1:0] h1;
    logic [2:0] rlo;
    logic rz0;
    logic [OW-1:0] ml0;
    always_ff @(posedge clk) begin
      h1 <= xs >>> {rsq[RW-1:3], 3'b000};
      rlo <= rsq[2:0];
      rz0 <= rzq;
      ml0 <= mlq;
      hq <= h1 >>> rlo;
      rzh <= rz0;
      mlh <= ml0;
    end
  end else if (PIPE >= 1) begin : g_p1
    always_ff @(posedge clk) begin
      hq <= xs >>> rsq;
      rzh <= rzq;
      mlh <= mlq;
    end
  end else begin : g_p0
    assign hq = xs >>> rsq;
    assign rzh = rzq;
    assign mlh = mlq;
  end
  assign r = rzh ? (XW + 1)'(hq) : ((XW + 1)'(hq) + (XW + 1)'(1)) >>> 1;
  logic [OW-1:0] mls;  // the mask of the word in rq
  if (PIPE >= 2) begin : g_p2
    always_ff @(posedge clk) begin
      rq <= r;
      mls <= mlh;
    end
  end else begin : g_p01
    assign rq = r;
    assign mls = mlh;
  end
  // saturation to `bits` (<= OW): in range iff bits bits-1 .. XW of r are all equal, i.e. the bits above OW
  // all 0 (1) and the masked low bits all 0 (1). SAT = 2 registers these compares, the low word, the sign and
  // the mask, and selects in the next stage (the saturation's LUT levels and routes between the rounding
  // register and y were a routed critical path: BiLSTM bench core, 10.04 ns)
  logic hz, ho, lz, lo, neg;
  logic [OW-1:0] ws, ms;  // the word and its mask
  if (SAT == 2) begin : g_sat2
    always_ff @(posedge clk) begin
      hz <= rq[XW:OW] == '0;
      ho <= rq[XW:OW] == '1;
      lz <= (OW'(rq) & mls) == '0;
      lo <= (OW'(rq) & mls) == mls;
      neg <= rq[XW];
      ws <= OW'(rq);
      ms <= mls;
    end
  end else begin : g_sat1
    assign hz = rq[XW:OW] == '0;
    assign ho = rq[XW:OW] == '1;
    assign lz = (OW'(rq) & mls) == '0;
    assign lo = (OW'(rq) & mls) == mls;
    assign neg = rq[XW];
    assign ws = OW'(rq);
    assign ms = mls;
  end
  logic signed [OW-1:0] ys;
  always_comb begin
    if ((hz && lz) || (ho && lo)) ys = ws;
    else if (neg) ys = ms;  // -2^(bits-1)
    else ys = ~ms;  // 2^(bits-1) - 1
  end
  if (SAT > 0) begin : g_yreg
    always_ff @(posedge clk) y <= ys;
  end else begin : g_ycomb
    assign y = ys;
  end
endmodule
