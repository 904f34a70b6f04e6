// rnn2fpga recurrent cells, layers and the head (docs/arithmetic.md sections 9-14), operation for operation as the
// integer reference (compress/reference.py). One call processes one sequence of length L <= T; the time loop is a
// rolled loop (one cell step per iteration), positions t >= L of an output sequence are 0.
#ifndef R2F_RNN_H_
#define R2F_RNN_H_

#include "r2f_act.h"
#include "r2f_fixed.h"
#include "r2f_matvec.h"

namespace r2f {

// A config CFG of a cell carries: n_in, n_h, n_out (cell output width: projection P or H), n_t (T),
// the formats <name>_bits/<name>_frac, the matvec configs (mv_ih, mv_hh, ...) and the PWL configs.
#define R2F_T(name) ap_int<CFG::name##_bits>

// Sequence length clamped to [1, T] (as the reference does).
template <unsigned T, class L_T> inline unsigned clamp_len(const L_T &len) {
#pragma HLS INLINE
    const int v = len.to_int();
    return v < 1 ? 1u : (v > (int)T ? T : (unsigned)v);
}

// ---------------------------------------------------------------------------------------------- LSTM family
// LSTM with optional projection / peepholes (section 9) and MomentumLSTM (section 12, CFG::momentum).
struct lstm_config {
    static const unsigned n_in = 8, n_h = 8, n_out = 8, n_t = 4;
    static const bool proj = false, peep = false, momentum = false;
    static const int x_bits = 16, x_frac = 12, z_bits = 16, z_frac = 11, c_bits = 16, c_frac = 12;
    static const int h_bits = 16, h_frac = 14, r_bits = 16, r_frac = 14, a_bits = 16, a_frac = 14;
    static const int p_bits = 16, p_frac = 14, v_bits = 16, v_frac = 11, mu_bits = 16, mu_frac = 15;
    static const int s_bits = 16, s_frac = 15, tw_bits = 18;
    typedef matvec_config mv_ih;
    typedef matvec_config mv_hh;
    typedef matvec_config mv_proj;
    typedef pwl_config sig_z;
    typedef pwl_config tanh_z;
    typedef pwl_config tanh_c;
};

// Weight arrays of a lstm cell (global hls4ml weight variables), passed as array arguments.
#define R2F_LSTM_PARAMS \
    const ap_int<CFG::mv_ih::w_bits> ih_a[], \
    const ap_int<CFG::mv_ih::w_bits> ih_b[], \
    const ap_int<CFG::mv_hh::w_bits> hh_a[], \
    const ap_int<CFG::mv_hh::w_bits> hh_b[], \
    const ap_int<CFG::mv_proj::w_bits> pr_a[], \
    const ap_int<CFG::mv_proj::w_bits> pr_b[], \
    const ap_int<CFG::tw_bits> twr[], \
    const ap_int<CFG::tw_bits> twi[], \
    const ap_int<CFG::z_bits> bias[], \
    const ap_int<CFG::v_bits> b_w[], \
    const ap_int<CFG::p_bits> peep[], \
    const ap_int<CFG::mu_bits> mu[], \
    const ap_int<CFG::s_bits> s[], \
    const ap_int<CFG::sig_z::c0_bits> sig_c0[], \
    const ap_int<CFG::sig_z::c1_bits> sig_c1[], \
    const ap_int<CFG::tanh_z::c0_bits> tz_c0[], \
    const ap_int<CFG::tanh_z::c1_bits> tz_c1[], \
    const ap_int<CFG::tanh_c::c0_bits> tc_c0[], \
    const ap_int<CFG::tanh_c::c1_bits> tc_c1[]
#define R2F_LSTM_ARGS ih_a, ih_b, hh_a, hh_b, pr_a, pr_b, twr, twi, bias, b_w, peep, mu, s, sig_c0, sig_c1, tz_c0, tz_c1, tc_c0, tc_c1


template <class CFG>
void lstm_step(const R2F_T(x) x[CFG::n_in], R2F_T(c) c[CFG::n_h], R2F_T(h) R[CFG::n_out], R2F_T(v) v[4 * CFG::n_h],
               R2F_LSTM_PARAMS) {
#pragma HLS INLINE off
    const unsigned H = CFG::n_h;
    R2F_T(z) ux[4 * H], uh[4 * H];
    R2F_T(v) vx[4 * H];
#pragma HLS ARRAY_PARTITION variable = ux block factor = 4
#pragma HLS ARRAY_PARTITION variable = uh block factor = 4
    if (CFG::momentum) {
        matvec<typename CFG::mv_ih>::run(x, vx, ih_a, ih_b, twr, twi);
    } else {
        matvec<typename CFG::mv_ih>::run(x, ux, ih_a, ih_b, twr, twi);
    }
    matvec<typename CFG::mv_hh>::run(R, uh, hh_a, hh_b, twr, twi);
    if (CFG::momentum) {
    Momentum:
        for (unsigned j = 0; j < 4 * H; j++) {
#pragma HLS PIPELINE II = 1
            const R2F_T(v) wx = sat<CFG::v_bits>(vx[j] + b_w[j]);
            const R2F_T(v) vn = sat<CFG::v_bits>(requant<CFG::mu_frac + CFG::v_frac, CFG::v_frac, CFG::v_bits>(mu[0] * v[j]) +
                                                 requant<CFG::s_frac + CFG::v_frac, CFG::v_frac, CFG::v_bits>(s[0] * wx));
            v[j] = vn;
            ux[j] = requant<CFG::v_frac, CFG::z_frac, CFG::z_bits>(vn);
        }
    }
    R2F_T(h) h[H];
Unit:
    for (unsigned j = 0; j < H; j++) {
#pragma HLS PIPELINE II = 1
        const R2F_T(c) cp = c[j];
        ap_int<CFG::z_bits + 3> si = ux[j] + uh[j] + bias[j];
        ap_int<CFG::z_bits + 3> sf = ux[H + j] + uh[H + j] + bias[H + j];
        const ap_int<CFG::z_bits + 3> sg = ux[2 * H + j] + uh[2 * H + j] + bias[2 * H + j];
        ap_int<CFG::z_bits + 3> so = ux[3 * H + j] + uh[3 * H + j] + bias[3 * H + j];
        if (CFG::peep) {
            si += requant<CFG::p_frac + CFG::c_frac, CFG::z_frac, CFG::z_bits>(peep[j] * cp);
            sf += requant<CFG::p_frac + CFG::c_frac, CFG::z_frac, CFG::z_bits>(peep[H + j] * cp);
        }
        const R2F_T(a) ig = pwl<typename CFG::sig_z>(sat<CFG::z_bits>(si), sig_c0, sig_c1);
        const R2F_T(a) fg = pwl<typename CFG::sig_z>(sat<CFG::z_bits>(sf), sig_c0, sig_c1);
        const R2F_T(a) gg = pwl<typename CFG::tanh_z>(sat<CFG::z_bits>(sg), tz_c0, tz_c1);
        const R2F_T(c) cn = sat<CFG::c_bits>(requant<CFG::a_frac + CFG::c_frac, CFG::c_frac, CFG::c_bits>(fg * cp) +
                                             requant<2 * CFG::a_frac, CFG::c_frac, CFG::c_bits>(ig * gg));
        if (CFG::peep) so += requant<CFG::p_frac + CFG::c_frac, CFG::z_frac, CFG::z_bits>(peep[2 * H + j] * cn);
        const R2F_T(a) og = pwl<typename CFG::sig_z>(sat<CFG::z_bits>(so), sig_c0, sig_c1);
        const R2F_T(a) tc = pwl<typename CFG::tanh_c>(cn, tc_c0, tc_c1);
        c[j] = cn;
        h[j] = requant<2 * CFG::a_frac, CFG::h_frac, CFG::h_bits>(og * tc);
    }
    if (CFG::proj) {
        R2F_T(r) r[CFG::n_out];
        matvec<typename CFG::mv_proj>::run(h, r, pr_a, pr_b, twr, twi);
        for (unsigned j = 0; j < CFG::n_out; j++) R[j] = r[j];
    } else {
        for (unsigned j = 0; j < CFG::n_out; j++) R[j] = h[j];
    }
}

// Run one direction over a sequence: y[t * Y_STRIDE + Y_OFFSET + j]; REVERSE: step tau reads x[L-1-tau] and
// writes position L-1-tau (section 13).
template <class CFG, unsigned Y_STRIDE, unsigned Y_OFFSET, bool REVERSE, class X_T, class Y_T>
void lstm_seq(const X_T x[CFG::n_t * CFG::n_in], unsigned len, Y_T y[CFG::n_t * Y_STRIDE], R2F_LSTM_PARAMS) {
    R2F_T(c) c[CFG::n_h];
    R2F_T(h) R[CFG::n_out];
    R2F_T(v) v[4 * CFG::n_h];
    for (unsigned j = 0; j < CFG::n_h; j++) c[j] = 0;
    for (unsigned j = 0; j < CFG::n_out; j++) R[j] = 0;
    for (unsigned j = 0; j < 4 * CFG::n_h; j++) v[j] = 0;
Time:  // one cell step per iteration: never unrolled
    for (unsigned t = 0; t < CFG::n_t; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = CFG::n_t
#pragma HLS PIPELINE off
        const unsigned pos = REVERSE ? (t < len ? len - 1 - t : t) : t;
        if (t < len) {
            R2F_T(x) xt[CFG::n_in];
            for (unsigned i = 0; i < CFG::n_in; i++) xt[i] = x[pos * CFG::n_in + i];
            lstm_step<CFG>(xt, c, R, v, R2F_LSTM_ARGS);
            for (unsigned j = 0; j < CFG::n_out; j++) y[pos * Y_STRIDE + Y_OFFSET + j] = R[j];
        } else {
            for (unsigned j = 0; j < CFG::n_out; j++) y[pos * Y_STRIDE + Y_OFFSET + j] = 0;
        }
    }
}

// ---------------------------------------------------------------------------------------------- GRU (section 10)
struct gru_config {
    static const unsigned n_in = 8, n_h = 8, n_out = 8, n_t = 4;
    static const int x_bits = 16, x_frac = 12, z_bits = 16, z_frac = 11, h_bits = 16, h_frac = 14;
    static const int a_bits = 16, a_frac = 14, tw_bits = 18;
    typedef matvec_config mv_ih;
    typedef matvec_config mv_hh;
    typedef pwl_config sig_z;
    typedef pwl_config tanh_z;
};

// Weight arrays of a gru cell (global hls4ml weight variables), passed as array arguments.
#define R2F_GRU_PARAMS \
    const ap_int<CFG::mv_ih::w_bits> ih_a[], \
    const ap_int<CFG::mv_ih::w_bits> ih_b[], \
    const ap_int<CFG::mv_hh::w_bits> hh_a[], \
    const ap_int<CFG::mv_hh::w_bits> hh_b[], \
    const ap_int<CFG::tw_bits> twr[], \
    const ap_int<CFG::tw_bits> twi[], \
    const ap_int<CFG::z_bits> b_rz[], \
    const ap_int<CFG::z_bits> b_in[], \
    const ap_int<CFG::z_bits> b_hn[], \
    const ap_int<CFG::sig_z::c0_bits> sig_c0[], \
    const ap_int<CFG::sig_z::c1_bits> sig_c1[], \
    const ap_int<CFG::tanh_z::c0_bits> tz_c0[], \
    const ap_int<CFG::tanh_z::c1_bits> tz_c1[]
#define R2F_GRU_ARGS ih_a, ih_b, hh_a, hh_b, twr, twi, b_rz, b_in, b_hn, sig_c0, sig_c1, tz_c0, tz_c1


template <class CFG> void gru_step(const R2F_T(x) x[CFG::n_in], R2F_T(h) h[CFG::n_h], R2F_GRU_PARAMS) {
#pragma HLS INLINE off
    const unsigned H = CFG::n_h;
    R2F_T(z) ux[3 * H], uh[3 * H];
#pragma HLS ARRAY_PARTITION variable = ux block factor = 3
#pragma HLS ARRAY_PARTITION variable = uh block factor = 3
    matvec<typename CFG::mv_ih>::run(x, ux, ih_a, ih_b, twr, twi);
    matvec<typename CFG::mv_hh>::run(h, uh, hh_a, hh_b, twr, twi);
Unit:
    for (unsigned j = 0; j < H; j++) {
#pragma HLS PIPELINE II = 1
        const R2F_T(z) zr = sat<CFG::z_bits>(ux[j] + uh[j] + b_rz[j]);
        const R2F_T(z) zu = sat<CFG::z_bits>(ux[H + j] + uh[H + j] + b_rz[H + j]);
        const R2F_T(a) rg = pwl<typename CFG::sig_z>(zr, sig_c0, sig_c1);
        const R2F_T(a) ug = pwl<typename CFG::sig_z>(zu, sig_c0, sig_c1);
        const R2F_T(z) hn = sat<CFG::z_bits>(uh[2 * H + j] + b_hn[j]);
        const R2F_T(z) zn = sat<CFG::z_bits>(ux[2 * H + j] + b_in[j] +
                                             requant<CFG::a_frac + CFG::z_frac, CFG::z_frac, CFG::z_bits>(rg * hn));
        const R2F_T(a) n = pwl<typename CFG::tanh_z>(zn, tz_c0, tz_c1);
        const R2F_T(h) n2 = requant<CFG::a_frac, CFG::h_frac, CFG::h_bits>(n);
        const ap_int<CFG::h_bits + 1> dh = h[j] - n2;
        h[j] = sat<CFG::h_bits>(n2 + requant<CFG::a_frac + CFG::h_frac, CFG::h_frac, CFG::h_bits>(ug * dh));
    }
}

template <class CFG, class X_T, class Y_T>
void gru_seq(const X_T x[CFG::n_t * CFG::n_in], unsigned len, Y_T y[CFG::n_t * CFG::n_out], R2F_GRU_PARAMS) {
    R2F_T(h) h[CFG::n_h];
    for (unsigned j = 0; j < CFG::n_h; j++) h[j] = 0;
Time:  // one cell step per iteration: never unrolled
    for (unsigned t = 0; t < CFG::n_t; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = CFG::n_t
#pragma HLS PIPELINE off
        if (t < len) {
            R2F_T(x) xt[CFG::n_in];
            for (unsigned i = 0; i < CFG::n_in; i++) xt[i] = x[t * CFG::n_in + i];
            gru_step<CFG>(xt, h, R2F_GRU_ARGS);
        }
        for (unsigned j = 0; j < CFG::n_out; j++) y[t * CFG::n_out + j] = t < len ? h[j] : R2F_T(h)(0);
    }
}

// ---------------------------------------------------------------------------------------------- ENRNN / scoRNN
// (section 11) state [h1 (n1); h2 (n2)], n2 = 0 for scoRNN (no w3, w2).
struct enrnn_config {
    static const unsigned n_in = 8, n_h = 8, n_out = 8, n_t = 4, n1 = 8, n2 = 0;
    static const int x_bits = 16, x_frac = 12, z_bits = 16, z_frac = 11, h_bits = 16, h_frac = 14, tw_bits = 18;
    typedef matvec_config mv_in;
    typedef matvec_config mv_1;
    typedef matvec_config mv_2;
    typedef matvec_config mv_3;
};

// Weight arrays of a enrnn cell (global hls4ml weight variables), passed as array arguments.
#define R2F_ENRNN_PARAMS \
    const ap_int<CFG::mv_in::w_bits> in_a[], \
    const ap_int<CFG::mv_in::w_bits> in_b[], \
    const ap_int<CFG::mv_1::w_bits> w1_a[], \
    const ap_int<CFG::mv_1::w_bits> w1_b[], \
    const ap_int<CFG::mv_2::w_bits> w2_a[], \
    const ap_int<CFG::mv_2::w_bits> w2_b[], \
    const ap_int<CFG::mv_3::w_bits> w3_a[], \
    const ap_int<CFG::mv_3::w_bits> w3_b[], \
    const ap_int<CFG::tw_bits> twr[], \
    const ap_int<CFG::tw_bits> twi[], \
    const ap_int<CFG::z_bits> b_mod[]
#define R2F_ENRNN_ARGS in_a, in_b, w1_a, w1_b, w2_a, w2_b, w3_a, w3_b, twr, twi, b_mod


template <class CFG> void enrnn_step(const R2F_T(x) x[CFG::n_in], R2F_T(h) h[CFG::n_h], R2F_ENRNN_PARAMS) {
#pragma HLS INLINE off
    const unsigned N1 = CFG::n1, N2 = CFG::n2 > 0 ? CFG::n2 : 1;
    R2F_T(z) ux[CFG::n_h], t1[CFG::n1], t3[CFG::n1], t2[N2];
    R2F_T(h) h1[CFG::n1], h2[N2];
    for (unsigned j = 0; j < N1; j++) h1[j] = h[j];
    for (unsigned j = 0; j < CFG::n2; j++) h2[j] = h[N1 + j];
    matvec<typename CFG::mv_in>::run(x, ux, in_a, in_b, twr, twi);
    matvec<typename CFG::mv_1>::run(h1, t1, w1_a, w1_b, twr, twi);
    if (CFG::n2 > 0) {
        matvec<typename CFG::mv_3>::run(h2, t3, w3_a, w3_b, twr, twi);
        matvec<typename CFG::mv_2>::run(h2, t2, w2_a, w2_b, twr, twi);
    }
Unit:
    for (unsigned j = 0; j < CFG::n_h; j++) {
#pragma HLS PIPELINE II = 1
        R2F_T(z) z;
        if (j < N1) {
            ap_int<CFG::z_bits + 2> s = ux[j] + t1[j];
            if (CFG::n2 > 0) s += t3[j];
            z = sat<CFG::z_bits>(s);
        } else {
            z = sat<CFG::z_bits>(ux[j] + t2[j - N1]);
        }
        h[j] = modrelu<CFG::z_bits, CFG::z_bits, CFG::z_frac, CFG::h_frac, CFG::h_bits>(z, b_mod[j]);
    }
}

template <class CFG, class X_T, class Y_T>
void enrnn_seq(const X_T x[CFG::n_t * CFG::n_in], unsigned len, Y_T y[CFG::n_t * CFG::n_out],
               R2F_ENRNN_PARAMS) {
    R2F_T(h) h[CFG::n_h];
    for (unsigned j = 0; j < CFG::n_h; j++) h[j] = 0;
Time:  // one cell step per iteration: never unrolled
    for (unsigned t = 0; t < CFG::n_t; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = CFG::n_t
#pragma HLS PIPELINE off
        if (t < len) {
            R2F_T(x) xt[CFG::n_in];
            for (unsigned i = 0; i < CFG::n_in; i++) xt[i] = x[t * CFG::n_in + i];
            enrnn_step<CFG>(xt, h, R2F_ENRNN_ARGS);
        }
        for (unsigned j = 0; j < CFG::n_out; j++) y[t * CFG::n_out + j] = t < len ? h[j] : R2F_T(h)(0);
    }
}

// ---------------------------------------------------------------------------------------------- head (section 14)
struct head_config {
    static const unsigned n_in = 8, n_out = 4, n_t = 4;
    static const unsigned back_from = 8;  // BiLSTM: inputs i >= back_from (backward half) are read at t = 0
    static const bool per_step = false;
    static const int u_bits = 16, u_frac = 14, y_bits = 16, y_frac = 10, tw_bits = 18;
    typedef matvec_config mv;
};

// u = the input sequence at position L-1 (per_step: every position; BiLSTM: the backward half at position 0,
// the backward cell's final state); y = sat(term(w, u -> Fy) + b, Bz).
template <class CFG, class U_T, class Y_T>
void head(const U_T u[CFG::n_t * CFG::n_in], unsigned len, Y_T y[(CFG::per_step ? CFG::n_t : 1) * CFG::n_out],
          const ap_int<CFG::mv::w_bits> wa[], const ap_int<CFG::mv::w_bits> wb[], const ap_int<CFG::tw_bits> twr[],
          const ap_int<CFG::tw_bits> twi[], const ap_int<CFG::y_bits> bias[]) {
    const unsigned n_pos = CFG::per_step ? CFG::n_t : 1;
Pos:
    for (unsigned t = 0; t < n_pos; t++) {
        const unsigned pos = CFG::per_step ? t : (len >= 1 ? len - 1 : 0);
        ap_int<CFG::u_bits> ut[CFG::n_in];
        ap_int<CFG::y_bits> term[CFG::n_out];
        for (unsigned i = 0; i < CFG::n_in; i++) {
            const unsigned p = (!CFG::per_step && i >= CFG::back_from) ? 0 : pos;
            ut[i] = u[p * CFG::n_in + i];
        }
        matvec<typename CFG::mv>::run(ut, term, wa, wb, twr, twi);
        for (unsigned o = 0; o < CFG::n_out; o++) y[t * CFG::n_out + o] = sat<CFG::y_bits>(term[o] + bias[o]);
    }
}

#undef R2F_T

} // namespace r2f

#endif
