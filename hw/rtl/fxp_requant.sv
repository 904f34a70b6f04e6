// y = sat(shr_round(x, sh), bits) of docs/arithmetic.md section 1 with a variable shift and output width, in a
// datapath no wider than needed: exact (the same integers as the unbounded formula) for every IW-bit x when
// -SHL <= sh <= 63 and 1 <= bits <= OW (the program compiler checks the instruction fields: hw/rtl/program.py).
// A left shift by L is a right shift of x << SHL by SHL - L (exact: the bits shifted out are zeros); a right
// shift beyond the width of x << SHL gives 0 for every x, so the shift is clamped there.
module fxp_requant #(
    parameter int IW = 40,  // width of x (signed)
    parameter int OW = 20,  // width of y; bits <= OW
    parameter int SHL = 0  // largest left shift (sh >= -SHL); IW + SHL >= OW
) (
    input  logic signed [IW-1:0] x,
    input  logic signed [7:0]    sh,
    input  logic [5:0]           bits,
    output logic signed [OW-1:0] y
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (IW + SHL < OW || OW < 2) begin : g_param_check0
    $error("fxp_requant: IW + SHL must be at least OW (IW %0d)", IW);
  end
  localparam int XW = IW + SHL;  // x << SHL
  localparam int RW = $clog2(XW + 1);
  logic signed [XW-1:0] xs, h;
  logic signed [XW:0] r;
  logic [RW-1:0] rs;
  logic [OW-1:0] ml;  // ones at bit positions >= bits - 1 (within OW bits)
  always_comb begin
    xs = XW'(x) <<< SHL;
    if (32'(sh) + SHL > XW) rs = RW'(XW);
    else rs = RW'(32'(sh) + SHL);
    // shr_round(xs, rs) = ((xs >>> (rs - 1)) + 1) >>> 1 for rs >= 1: one shifter, no rounding constant
    h = xs >>> (rs == 0 ? '0 : rs - RW'(1));
    r = rs == 0 ? (XW + 1)'(h) : ((XW + 1)'(h) + (XW + 1)'(1)) >>> 1;
    // saturation to `bits` (<= OW): in range iff bits bits-1 .. XW of r are all equal
    ml = {OW{1'b1}} << (bits - 6'd1);
    if ((r[XW:OW] == '0 && (OW'(r) & ml) == '0) || (r[XW:OW] == '1 && (OW'(r) & ml) == ml)) y = OW'(r);
    else if (r[XW]) y = ml;  // -2^(bits-1)
    else y = ~ml;  // 2^(bits-1) - 1
  end
endmodule
