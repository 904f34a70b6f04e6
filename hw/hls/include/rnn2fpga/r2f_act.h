// rnn2fpga activations (docs/arithmetic.md section 6): PWL sigmoid/tanh with uniform segments, modReLU.
#ifndef R2F_ACT_H_
#define R2F_ACT_H_

#include "r2f_fixed.h"

namespace r2f {

// PWL config (one per (function, input format) pair):
//   z_bits, z_frac   input format (Bz, Fz)
//   a_bits, a_frac   output format (Ba, Fa)
//   c0_bits, c1_bits, c1_frac   coefficient widths, slope frac Fs
//   range_log2       log2 R (R = 8 for sigmoid, 4 for tanh); seg_shift s with 2^s = (2R/N) 2^Fz; n_seg N
struct pwl_config {
    static const int z_bits = 16, z_frac = 12, a_bits = 16, a_frac = 14;
    static const int c0_bits = 16, c1_bits = 18, c1_frac = 16;
    static const int range_log2 = 3, seg_shift = 11;
    static const unsigned n_seg = 32;
};

// y = sat(c0[k] + shr_round(c1[k] * d, Fs + Fz - Fa), Ba) on the clamped, offset input u = z + R 2^Fz.
template <class CFG>
inline ap_int<CFG::a_bits> pwl(const ap_int<CFG::z_bits> &z, const ap_int<CFG::c0_bits> c0[CFG::n_seg],
                               const ap_int<CFG::c1_bits> c1[CFG::n_seg]) {
#pragma HLS INLINE
    const int UW = cmax<CFG::z_bits, CFG::range_log2 + CFG::z_frac + 1>::value + 2;
    typedef ap_int<UW> u_t;
    const u_t r_q = u_t(1) << (CFG::range_log2 + CFG::z_frac);  // R * 2^Fz
    u_t zc = z;
    if (zc < -r_q) zc = -r_q;
    if (zc > r_q - 1) zc = r_q - 1;
    const u_t u = zc + r_q;
    const int S = cmax<CFG::seg_shift, 0>::value;  // segment shift s (s < 0: segments below one input step)
    unsigned k;
    ap_int<S + 2> d;
    if (CFG::seg_shift >= 0) {
        k = (unsigned)(u >> S).to_int();
        d = u - ((u >> S) << S);
    } else {
        k = (unsigned)(u << cmax<-CFG::seg_shift, 0>::value).to_int();
        d = 0;
    }
    const ap_int<CFG::c1_bits + S + 2> prod = c1[k] * d;
    const ap_int<cmax<CFG::c0_bits, CFG::c1_bits + S + 3>::value + 1> y =
        c0[k] + shr_round<CFG::c1_frac + CFG::z_frac - CFG::a_frac>(prod);
    return sat<CFG::a_bits>(y);
}

// modReLU: m = |z| + b (b at Fz), h = requant(sign(z) * max(m, 0), Fz, Fh, Bh).
template <int Z_BITS, int B_BITS, int Z_FRAC, int H_FRAC, int H_BITS>
inline ap_int<H_BITS> modrelu(const ap_int<Z_BITS> &z, const ap_int<B_BITS> &b) {
#pragma HLS INLINE
    typedef ap_int<cmax<Z_BITS, B_BITS>::value + 3> m_t;
    const m_t mag = z < 0 ? m_t(-z) : m_t(z);
    m_t m = mag + b;
    if (m < 0) m = 0;
    if (z < 0) m = -m;
    else if (z == 0) m = 0;
    return requant<Z_FRAC, H_FRAC, H_BITS>(m);
}

} // namespace r2f

#endif
