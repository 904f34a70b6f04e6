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
endpackage
