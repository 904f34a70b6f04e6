// Fixed-point helpers of the arithmetic contract (docs/arithmetic.md sections 1 and 5).
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

  // clamp v to [-2^(bits-1), 2^(bits-1)-1]
  function automatic s64_t sat(input s64_t v, input int bits);
    s64_t hi, lo, one;
    one = 64'sd1;
    hi = (one <<< (bits - 1)) - one;
    lo = -(one <<< (bits - 1));
    if (v > hi) return hi;
    if (v < lo) return lo;
    return v;
  endfunction

  function automatic s64_t requant(input s64_t v, input int shift, input int bits);
    return sat(shr_round(v, shift), bits);
  endfunction

endpackage
