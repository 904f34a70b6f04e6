// rnn2fpga matrix-vector products (docs/arithmetic.md sections 3 and 5): dense, block-circulant direct mode, and
// block-circulant FFT mode (one FFT per input block shared by every output block, frequency-domain
// multiply-accumulate, one inverse FFT per output block). Every product ends as a term at (z_bits, z_frac).
#ifndef R2F_MATVEC_H_
#define R2F_MATVEC_H_

#include "r2f_fft.h"
#include "r2f_fixed.h"

namespace r2f {

enum matvec_kind { MV_DENSE = 0, MV_DIRECT = 1, MV_FFT = 2 };

struct matvec_config {
    static const unsigned kind = MV_DENSE;
    static const unsigned n_in = 8, n_out = 8;
    static const unsigned b = 1, log2b = 0, n_ib = 8, n_ob = 8;  // circulant: blocks (padded sizes n_ib*b, n_ob*b)
    static const int w_bits = 16, w_frac = 14;                     // weights (time domain) or spectra (fft: Ff)
    static const int x_bits = 16, x_frac = 12;                     // input vector
    static const int z_bits = 16, z_frac = 12;                     // output term (pre-activation format)
    static const int tw_bits = 18, tw_frac = 16, guard = 4;        // fft twiddles, guard bits g
    static const unsigned parallelism = 1;                         // output rows / blocks computed in parallel
};

template <class CFG, unsigned KIND = CFG::kind> struct matvec;

// Dense: w is row-major (n_out, n_in).
template <class CFG> struct matvec<CFG, MV_DENSE> {
    static const int ACC = CFG::w_bits + CFG::x_bits + clog2<CFG::n_in>::value + 1;
    static void run(const ap_int<CFG::x_bits> x[CFG::n_in], ap_int<CFG::z_bits> y[CFG::n_out],
                    const ap_int<CFG::w_bits> w[CFG::n_out * CFG::n_in], const ap_int<CFG::w_bits>[],
                    const ap_int<CFG::tw_bits>[], const ap_int<CFG::tw_bits>[]) {
#pragma HLS INLINE off
    Row:
        for (unsigned r = 0; r < CFG::n_out; r++) {
#pragma HLS UNROLL factor = CFG::parallelism
            ap_int<ACC> acc = 0;
        Col:
            for (unsigned c = 0; c < CFG::n_in; c++) {
#pragma HLS PIPELINE II = 1
                acc += w[r * CFG::n_in + c] * x[c];
            }
            y[r] = requant<CFG::w_frac + CFG::x_frac, CFG::z_frac, CFG::z_bits>(acc);
        }
    }
};

// Block-circulant, direct: block (i, j) is its first column w[(i * n_ib + j) * b + ...]; C[r][c] = w[(r - c) mod b].
template <class CFG> struct matvec<CFG, MV_DIRECT> {
    static const unsigned B = CFG::b;
    static const int ACC = CFG::w_bits + CFG::x_bits + clog2<CFG::n_ib * CFG::b>::value + 1;
    static void run(const ap_int<CFG::x_bits> x[CFG::n_in], ap_int<CFG::z_bits> y[CFG::n_out],
                    const ap_int<CFG::w_bits> w[CFG::n_ob * CFG::n_ib * CFG::b], const ap_int<CFG::w_bits>[],
                    const ap_int<CFG::tw_bits>[], const ap_int<CFG::tw_bits>[]) {
#pragma HLS INLINE off
        ap_int<CFG::x_bits> xp[CFG::n_ib * B];
#pragma HLS ARRAY_PARTITION variable = xp cyclic factor = B
    Pad:
        for (unsigned c = 0; c < CFG::n_ib * B; c++) {
#pragma HLS UNROLL factor = B
            xp[c] = c < CFG::n_in ? x[c] : ap_int<CFG::x_bits>(0);
        }
    OutBlock:
        for (unsigned i = 0; i < CFG::n_ob; i++) {
#pragma HLS UNROLL factor = CFG::parallelism
            ap_int<ACC> acc[B];
#pragma HLS ARRAY_PARTITION variable = acc complete
            for (unsigned r = 0; r < B; r++) {
#pragma HLS UNROLL
                acc[r] = 0;
            }
        InBlock:
            for (unsigned j = 0; j < CFG::n_ib; j++) {
#pragma HLS PIPELINE II = 1
                for (unsigned r = 0; r < B; r++) {
#pragma HLS UNROLL
                    for (unsigned c = 0; c < B; c++) {
#pragma HLS UNROLL
                        acc[r] += w[(i * CFG::n_ib + j) * B + ((r + B - c) % B)] * xp[j * B + c];
                    }
                }
            }
            for (unsigned r = 0; r < B; r++) {
#pragma HLS UNROLL
                if (i * B + r < CFG::n_out)
                    y[i * B + r] = requant<CFG::w_frac + CFG::x_frac, CFG::z_frac, CFG::z_bits>(acc[r]);
            }
        }
    }
};

// Block-circulant, FFT mode: wr/wi are the quantized spectra (n_ob, n_ib, b/2 + 1) at frac w_frac (= Ff).
template <class CFG> struct matvec<CFG, MV_FFT> {
    static const unsigned B = CFG::b, M = CFG::log2b, NB = CFG::b / 2 + 1;
    static const int XW = CFG::x_bits + CFG::log2b + 2;                                 // forward FFT width
    static const int PACC = CFG::w_bits + XW + 1 + clog2<CFG::n_ib>::value + 1;        // frequency accumulator
    static const int PB = CFG::z_bits + CFG::guard + CFG::log2b;                        // P' (requantized) width
    static const int YW = PB + CFG::log2b + 3;                                          // inverse FFT width
    static void run(const ap_int<CFG::x_bits> x[CFG::n_in], ap_int<CFG::z_bits> y[CFG::n_out],
                    const ap_int<CFG::w_bits> wr[CFG::n_ob * CFG::n_ib * NB],
                    const ap_int<CFG::w_bits> wi[CFG::n_ob * CFG::n_ib * NB], const ap_int<CFG::tw_bits> twr[B / 2],
                    const ap_int<CFG::tw_bits> twi[B / 2]) {
#pragma HLS INLINE off
        ap_int<XW> xr[CFG::n_ib][NB], xi[CFG::n_ib][NB];
#pragma HLS ARRAY_PARTITION variable = xr complete dim = 2
#pragma HLS ARRAY_PARTITION variable = xi complete dim = 2
    InFFT:  // one FFT per input block, shared by all output blocks
        for (unsigned j = 0; j < CFG::n_ib; j++) {
#pragma HLS PIPELINE II = 1
            ap_int<CFG::x_bits> blk[B];
#pragma HLS ARRAY_PARTITION variable = blk complete
            for (unsigned c = 0; c < B; c++) {
#pragma HLS UNROLL
                blk[c] = j * B + c < CFG::n_in ? x[j * B + c] : ap_int<CFG::x_bits>(0);
            }
            fft_real<CFG::x_bits, XW, B, M, CFG::tw_bits, CFG::tw_frac>(blk, xr[j], xi[j], twr, twi);
        }
    OutBlock:
        for (unsigned i = 0; i < CFG::n_ob; i++) {
#pragma HLS UNROLL factor = CFG::parallelism
            ap_int<PACC> accr[NB], acci[NB];
#pragma HLS ARRAY_PARTITION variable = accr complete
#pragma HLS ARRAY_PARTITION variable = acci complete
            for (unsigned k = 0; k < NB; k++) {
#pragma HLS UNROLL
                accr[k] = 0;
                acci[k] = 0;
            }
        FreqMac:
            for (unsigned j = 0; j < CFG::n_ib; j++) {
#pragma HLS PIPELINE II = 1
                for (unsigned k = 0; k < NB; k++) {
#pragma HLS UNROLL
                    const ap_int<CFG::w_bits> a = wr[(i * CFG::n_ib + j) * NB + k];
                    const ap_int<CFG::w_bits> bb = wi[(i * CFG::n_ib + j) * NB + k];
                    accr[k] += a * xr[j][k] - bb * xi[j][k];
                    acci[k] += a * xi[j][k] + bb * xr[j][k];
                }
            }
            ap_int<PB> pr[NB], pi[NB];
#pragma HLS ARRAY_PARTITION variable = pr complete
#pragma HLS ARRAY_PARTITION variable = pi complete
            for (unsigned k = 0; k < NB; k++) {
#pragma HLS UNROLL
                pr[k] = requant<CFG::w_frac + CFG::x_frac, CFG::z_frac + CFG::guard, PB>(accr[k]);
                pi[k] = requant<CFG::w_frac + CFG::x_frac, CFG::z_frac + CFG::guard, PB>(acci[k]);
            }
            ap_int<YW> yb[B];
#pragma HLS ARRAY_PARTITION variable = yb complete
            ifft_real<PB, YW, B, M, CFG::tw_bits, CFG::tw_frac>(pr, pi, yb, twr, twi);
            for (unsigned r = 0; r < B; r++) {
#pragma HLS UNROLL
                if (i * B + r < CFG::n_out)
                    y[i * B + r] =
                        requant<CFG::z_frac + CFG::guard + CFG::log2b, CFG::z_frac, CFG::z_bits>(yb[r]);
            }
        }
    }
};

} // namespace r2f

#endif
