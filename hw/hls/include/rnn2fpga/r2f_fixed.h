// rnn2fpga fixed-point primitives (docs/arithmetic.md section 1), on raw two's-complement integers.
// Every value is an ap_int<W> holding q (real value q * 2^-frac); formats live in the config structs.
// No ap_fixed rounding/saturation modes are used: rounding is an explicit add-half + arithmetic shift, saturation an
// explicit clamp, so C-simulation reproduces the numpy reference (compress/fixedpoint.py) integer for integer.
#ifndef R2F_FIXED_H_
#define R2F_FIXED_H_

#include "ap_int.h"

namespace r2f {

// ---------------------------------------------------------------------------------------------- compile-time helpers
template <int A, int B> struct cmax { static const int value = A > B ? A : B; };
template <unsigned N> struct clog2 { static const int value = 1 + clog2<(N + 1) / 2>::value; };  // ceil(log2 N)
template <> struct clog2<1> { static const int value = 0; };
template <> struct clog2<0> { static const int value = 0; };

// ---------------------------------------------------------------------------------------------- sat(v, BITS)
template <int BITS, int W, bool FITS = (BITS >= W)> struct sat_impl;
template <int BITS, int W> struct sat_impl<BITS, W, true> {
    static ap_int<BITS> run(const ap_int<W> &v) { return v; }
};
template <int BITS, int W> struct sat_impl<BITS, W, false> {
    static ap_int<BITS> run(const ap_int<W> &v) {
        const ap_int<W> hi = (ap_int<W>(1) << (BITS - 1)) - 1;
        const ap_int<W> lo = -(ap_int<W>(1) << (BITS - 1));
        if (v > hi) return ap_int<BITS>(hi);
        if (v < lo) return ap_int<BITS>(lo);
        return ap_int<BITS>(v);
    }
};
// Clamp v to [-2^(BITS-1), 2^(BITS-1) - 1] (never wrap-around).
template <int BITS, int W> inline ap_int<BITS> sat(const ap_int<W> &v) {
#pragma HLS INLINE
    return sat_impl<BITS, W>::run(v);
}

// ---------------------------------------------------------------------------------------------- shr_round(v, S)
template <int S, int W, int KIND = (S > 0 ? 1 : (S == 0 ? 0 : -1))> struct shr_round_impl;
template <int S, int W> struct shr_round_impl<S, W, 1> {  // round half up, then arithmetic shift
    typedef ap_int<W + 1> type;
    static type run(const ap_int<W> &v) {
        ap_int<cmax<W, S>::value + 2> t = v;
        t += ap_int<cmax<W, S>::value + 2>(1) << (S - 1);
        t >>= S;
        return type(t);
    }
};
template <int S, int W> struct shr_round_impl<S, W, 0> {
    typedef ap_int<W> type;
    static type run(const ap_int<W> &v) { return v; }
};
template <int S, int W> struct shr_round_impl<S, W, -1> {  // exact left shift
    typedef ap_int<W - S> type;
    static type run(const ap_int<W> &v) {
        type t = v;
        t <<= -S;
        return t;
    }
};
// (v + 2^(S-1)) >> S for S > 0; v for S = 0; v << -S for S < 0.
template <int S, int W> inline typename shr_round_impl<S, W>::type shr_round(const ap_int<W> &v) {
#pragma HLS INLINE
    return shr_round_impl<S, W>::run(v);
}

// requant(v, from_frac, to_frac, bits) = sat(shr_round(v, from_frac - to_frac), bits): the only format change.
template <int FROM_FRAC, int TO_FRAC, int BITS, int W> inline ap_int<BITS> requant(const ap_int<W> &v) {
#pragma HLS INLINE
    typedef shr_round_impl<FROM_FRAC - TO_FRAC, W> sh;
    return sat<BITS>(sh::run(v));
}

// A complex integer pair (real, imag) of one width.
template <int W> struct cplx {
    ap_int<W> re;
    ap_int<W> im;
};

} // namespace r2f

#endif
