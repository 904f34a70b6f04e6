// Fixed-point helper of the arithmetic contract (docs/arithmetic.md sections 1 and 5): shr_round by a constant
// (the FFT twiddle products). Variable shifts and saturation: fxp_requant.sv.
// Values are handled as 64-bit signed integers; synthesis trims the unused bits.
package fxp_pkg;
  typedef logic signed [63:0] s64_t;

  // round half up, then arithmetic shift right by s (s > 0); exact left shift for s <= 0
  function automatic s64_t shr_round(input s64_t v, input int s);
    s64_t one;
    one = 64'sd1;
    if (s > 0) return (v + (one <<< (s - 1))) >>> s;
    else return v <<< (-s);
  endfunction

endpackage
