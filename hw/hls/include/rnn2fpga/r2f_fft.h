// rnn2fpga fixed-point radix-2 FFT of size b = 2^m (docs/arithmetic.md section 5).
// Decimation in time, input in bit-reversed order, no per-stage scaling; every twiddle product is
// t = (shr_round(Wr br - Wi bi, Ft), shr_round(Wr bi + Wi br, Ft)); a' = a + t, b' = a - t.
// The inverse uses the conjugate twiddles and the same rounding. W is wide enough that nothing overflows.
#ifndef R2F_FFT_H_
#define R2F_FFT_H_

#include "r2f_fixed.h"

namespace r2f {

template <unsigned M> inline unsigned bitrev(unsigned i) {
#pragma HLS INLINE
    unsigned r = 0;
    for (unsigned s = 0; s < M; s++) {
#pragma HLS UNROLL
        r = (r << 1) | ((i >> s) & 1u);
    }
    return r;
}

// In-place DIT network on (re, im) already in bit-reversed order. CONJ selects conjugate twiddles (inverse).
template <int W, unsigned B, unsigned M, int TB, int TF, bool CONJ>
void fft_dit(ap_int<W> re[B], ap_int<W> im[B], const ap_int<TB> twr[B / 2], const ap_int<TB> twi[B / 2]) {
#pragma HLS INLINE
Stage:
    for (unsigned s = 1; s <= M; s++) {
        const unsigned half = 1u << (s - 1);
        const unsigned step = B >> s;
    Butterfly:
        for (unsigned n = 0; n < B / 2; n++) {
#pragma HLS UNROLL
            const unsigned grp = n / half, k = n % half;
            const unsigned ia = grp * 2 * half + k, ib = ia + half;
            const ap_int<TB> wr = twr[k * step];
            const ap_int<TB + 1> wi = CONJ ? ap_int<TB + 1>(-twi[k * step]) : ap_int<TB + 1>(twi[k * step]);
            const ap_int<W + TB + 2> pr = wr * re[ib] - wi * im[ib];
            const ap_int<W + TB + 2> pi = wr * im[ib] + wi * re[ib];
            const ap_int<W + 1> tr = shr_round<TF>(pr);
            const ap_int<W + 1> ti = shr_round<TF>(pi);
            const ap_int<W> ar = re[ia], ai = im[ia];
            re[ia] = ar + tr;
            im[ia] = ai + ti;
            re[ib] = ar - tr;
            im[ib] = ai - ti;
        }
    }
}

// Forward FFT of one real block x (b values) -> bins 0..b/2 (Xr, Xi), width W.
template <int XB, int W, unsigned B, unsigned M, int TB, int TF>
void fft_real(const ap_int<XB> x[B], ap_int<W> xr[B / 2 + 1], ap_int<W> xi[B / 2 + 1], const ap_int<TB> twr[B / 2],
              const ap_int<TB> twi[B / 2]) {
#pragma HLS INLINE
    ap_int<W> re[B], im[B];
#pragma HLS ARRAY_PARTITION variable = re complete
#pragma HLS ARRAY_PARTITION variable = im complete
    for (unsigned i = 0; i < B; i++) {
#pragma HLS UNROLL
        re[i] = x[bitrev<M>(i)];
        im[i] = 0;
    }
    fft_dit<W, B, M, TB, TF, false>(re, im, twr, twi);
    for (unsigned k = 0; k <= B / 2; k++) {
#pragma HLS UNROLL
        xr[k] = re[k];
        xi[k] = im[k];
    }
}

// Inverse FFT (no 1/b) of a conjugate-symmetric spectrum given by bins 0..b/2 -> real parts (b values), width W.
template <int PB, int W, unsigned B, unsigned M, int TB, int TF>
void ifft_real(const ap_int<PB> pr[B / 2 + 1], const ap_int<PB> pi[B / 2 + 1], ap_int<W> y[B],
               const ap_int<TB> twr[B / 2], const ap_int<TB> twi[B / 2]) {
#pragma HLS INLINE
    ap_int<W> fr[B], fi[B], re[B], im[B];
#pragma HLS ARRAY_PARTITION variable = fr complete
#pragma HLS ARRAY_PARTITION variable = fi complete
#pragma HLS ARRAY_PARTITION variable = re complete
#pragma HLS ARRAY_PARTITION variable = im complete
    for (unsigned k = 0; k <= B / 2; k++) {
#pragma HLS UNROLL
        fr[k] = pr[k];
        fi[k] = pi[k];
    }
    for (unsigned k = 1; k < B / 2; k++) {
#pragma HLS UNROLL
        fr[B - k] = pr[k];
        fi[B - k] = -pi[k];
    }
    for (unsigned i = 0; i < B; i++) {
#pragma HLS UNROLL
        re[i] = fr[bitrev<M>(i)];
        im[i] = fi[bitrev<M>(i)];
    }
    fft_dit<W, B, M, TB, TF, true>(re, im, twr, twi);
    for (unsigned i = 0; i < B; i++) {
#pragma HLS UNROLL
        y[i] = re[i];
    }
}

} // namespace r2f

#endif
